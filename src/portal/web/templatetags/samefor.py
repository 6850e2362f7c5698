"""``{% samefor a b %}...{% endsamefor %}``: a fragment of a page that is the same for every
request with the same values of ``a`` and ``b`` (and the same language), rendered once per process
and then reused.

The layout's navigation, footer and stylesheet links are such fragments: some twenty addresses
and texts that would otherwise be looked up again on every page. Nothing that depends on anything
but the named values may be inside (no CSRF token, no person's data). With ``DEBUG`` on, fragments
are rendered every time, so that an edited template shows at once.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.template.base import FilterExpression, NodeList, Parser, Token
from django.template.loader_tags import BlockNode
from django.urls import get_script_prefix
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()

#: Rendered fragments by (fragment, language, script prefix, values). Bounded: the values are
#: a handful of flags and the page's route name, so this stays small; past the limit it starts
#: over rather than grow.
_FRAGMENTS: dict[tuple[Any, ...], SafeString] = {}
_LIMIT = 4096


class SameForNode(template.Node):
    #: What is inside is not searched for nodes: a page that extends the layout looks for the
    #: layout's blocks on every render (``ExtendsNode``), and the fragments hold most of its
    #: nodes but never a block (``samefor`` refuses one).
    child_nodelists = ()

    def __init__(self, ident: str, nodelist: NodeList, values: list[FilterExpression]) -> None:
        self.ident = ident
        self.nodelist = nodelist
        self.values = values

    def render(self, context: template.Context) -> str:
        if settings.DEBUG:
            return self.nodelist.render(context)
        key = (
            self.ident,
            get_language(),
            get_script_prefix(),
            *(_hashable(value.resolve(context)) for value in self.values),
        )
        fragment = _FRAGMENTS.get(key)
        if fragment is None:
            fragment = mark_safe(self.nodelist.render(context))  # noqa: S308 (rendered by the template engine, escaped there)
            if len(_FRAGMENTS) >= _LIMIT:
                _FRAGMENTS.clear()
            _FRAGMENTS[key] = fragment
        return fragment


def _hashable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


@register.tag
def samefor(parser: Parser, token: Token) -> SameForNode:
    values = [parser.compile_filter(bit) for bit in token.split_contents()[1:]]
    nodelist = parser.parse(("endsamefor",))
    parser.delete_first_token()
    if nodelist.get_nodes_by_type(BlockNode):
        msg = (
            "a {% samefor %} fragment cannot hold a {% block %}: it is rendered once for all pages"
        )
        raise template.TemplateSyntaxError(msg)
    # Each fragment of a template its own name: its place among the template's fragments (a
    # token's position is known only with template debugging on, and two fragments may share a
    # line).
    count = getattr(parser, "_samefor_count", 0)
    parser._samefor_count = count + 1  # type: ignore[attr-defined]
    origin = getattr(parser, "origin", None)
    ident = f"{getattr(origin, 'name', '')}:{token.lineno}:{count}"
    return SameForNode(ident, nodelist, values)
