"""``{% header_actions %}``: the right-hand side of the layout's header (the employer acted for,
the person's name, logging out or in, the other language), put together in Python.

It is on nearly every page, and as template tags it cost some 0.3 ms of every request: two CSRF
inputs, a dozen conditions and lookups. tests/web/test_header.py holds it to the template it
replaces for everyone who can see it (logged in or not, acting for an employer or not, in both
languages, with names and addresses that need escaping).
"""

from __future__ import annotations

from functools import cache
from html import escape
from typing import Any

from django import template
from django.urls import get_script_prefix, reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

register = template.Library()


@cache
def _fixed(language: str | None, _prefix: str) -> dict[str, str]:
    """The header's texts and addresses in ``language`` (the active one) and under a script
    prefix (the cache's key): the same for every request."""
    offers_english = language == "sv"
    return {
        "acting": escape(_("Företräder")),
        "switch": f'<a class="portal-header__link" href="{escape(reverse("employers:overview"))}">'
        f"{escape(_('Byt arbetsgivare'))}</a>",
        "account": f'<a class="portal-header__link" href="{escape(reverse("identity:account"))}">',
        "logout": f'<form class="portal-header__form" action="{escape(reverse("identity:logout"))}"'
        ' method="post">',
        "logout_button": '<button class="portal-language__button" type="submit">'
        f"{escape(_('Logga ut'))}</button>\n        </form>",
        "login": f'<a class="portal-header__link" href="{escape(reverse("identity:login"))}">'
        f"{escape(_('Logga in'))}</a>",
        "language": f'<form class="portal-language" action="{escape(reverse("set-language"))}"'
        ' method="post">',
        "language_button": (
            '<button class="portal-language__button" type="submit" name="language" value="en"'
            ' lang="en">In English</button>'
            if offers_english
            else '<button class="portal-language__button" type="submit" name="language"'
            ' value="sv" lang="sv">På svenska</button>'
        )
        + "\n        </form>",
    }


def _csrf_input(context: template.Context) -> str:
    """What ``{% csrf_token %}`` renders."""
    token = context.get("csrf_token")
    if not token or token == "NOTPROVIDED":  # noqa: S105 (Django's marker, not a secret)
        return ""
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(str(token))}">'


@register.simple_tag(takes_context=True)
def header_actions(context: template.Context) -> SafeString:
    """The header's actions for the page's person (nothing on a minimal page)."""
    if context.get("minimal"):
        return mark_safe("")
    request: Any = context.get("request")
    user = context.get("user")
    fixed = _fixed(get_language(), get_script_prefix())
    csrf = _csrf_input(context)
    parts = []
    if user is not None and user.is_authenticated:
        acting = context.get("acting_for")
        if acting:
            url = reverse("employers:employer", kwargs={"public_id": acting.public_id})
            parts.append(
                f'<span class="portal-header__acting">{fixed["acting"]} <a class="portal-header__'
                f'link" href="{escape(url)}">{escape(acting.name)}</a> · {fixed["switch"]}</span>'
            )
        name = user.full_name or user.masked_identifier
        parts.append(f"{fixed['account']}{escape(str(name))}</a>")
        parts.append(f"{fixed['logout']}\n          {csrf}\n          {fixed['logout_button']}")
    elif getattr(getattr(request, "resolver_match", None), "url_name", None) != "login":
        parts.append(fixed["login"])
    path = escape(request.get_full_path()) if request is not None else ""
    parts.append(
        f"{fixed['language']}\n          {csrf}\n"
        f'          <input type="hidden" name="next" value="{path}">\n'
        f"          {fixed['language_button']}"
    )
    return mark_safe("\n        ".join(parts))  # noqa: S308 (every value escaped above)
