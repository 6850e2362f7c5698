"""The catalogue of message types, and rendering a message in its recipient's language.

Each message type has a code and Django templates for its subject and plain-text body, by default
``messaging/<code>/subject.txt`` and ``messaging/<code>/body.txt`` under ``src/portal/templates``,
and optionally an HTML body. Texts in the templates are Swedish msgids (``{% translate %}``), so a
message rendered with the recipient's language active comes out in that language. Besides the
caller's context, every template gets ``agency_name``, ``support_phone``, ``support_email`` and
``support_hours``.

Another app adds its own types from its ``AppConfig.ready()`` without editing this module::

    from portal.messaging.templates import register_template

    register_template("employers-invitation", required_context=["employer_name", "url"])
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template import Context, Engine
from django.utils import translation

#: Codes are what the outbox stores in ``OutboxMessage.template`` (64 characters at most).
_CODE = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")
_MAX_CODE_LENGTH = 64
#: The column's length; a longer subject is a mistake in the template or its context.
MAX_SUBJECT_LENGTH = 255
_BLANK_LINES = re.compile(r"\n{3,}")


class UnknownTemplate(LookupError):
    """No message type is registered with this code."""


class InvalidContext(ValueError):
    """The context lacks what the message type needs, or renders into an unusable message."""


@dataclass(frozen=True)
class MessageTemplate:
    """A registered message type: where its templates are and which context it needs."""

    code: str
    subject_template: str
    body_template: str
    html_template: str | None = None
    required_context: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RenderedMessage:
    """A message as it will be sent."""

    subject: str
    body_text: str
    body_html: str


_registry: dict[str, MessageTemplate] = {}


def register_template(
    code: str,
    subject_template: str | None = None,
    body_template: str | None = None,
    *,
    html_template: str | None = None,
    required_context: Iterable[str] = (),
) -> MessageTemplate:
    """Add a message type. Template names default to ``messaging/<code>/subject.txt`` and
    ``messaging/<code>/body.txt``; the HTML body is optional.

    Registering the same type again with the same templates is harmless (a module imported twice,
    an app reloaded); registering a different one under a taken code is a mistake and refused.
    """
    if len(code) > _MAX_CODE_LENGTH or not _CODE.fullmatch(code):
        msg = f"message type code {code!r} must be lowercase letters, digits, - or _ (at most {_MAX_CODE_LENGTH})"
        raise ValueError(msg)
    entry = MessageTemplate(
        code=code,
        subject_template=subject_template or f"messaging/{code}/subject.txt",
        body_template=body_template or f"messaging/{code}/body.txt",
        html_template=html_template,
        required_context=frozenset(required_context),
    )
    existing = _registry.get(code)
    if existing is not None and existing != entry:
        msg = f"message type {code!r} is already registered with other templates"
        raise ValueError(msg)
    _registry[code] = entry
    return entry


def get_template(code: str) -> MessageTemplate:
    """The registered message type with this code, or ``UnknownTemplate``."""
    try:
        return _registry[code]
    except KeyError:
        msg = f"no message type {code!r} is registered (known: {', '.join(sorted(_registry))})"
        raise UnknownTemplate(msg) from None


def registered_templates() -> list[MessageTemplate]:
    return sorted(_registry.values(), key=lambda entry: entry.code)


def _base_context() -> dict[str, Any]:
    # Every message signs off with who sent it and where to get help, as every page does.
    return {
        "agency_name": settings.AGENCY_NAME,
        "support_phone": settings.SUPPORT_PHONE,
        "support_email": settings.SUPPORT_EMAIL,
        "support_hours": settings.SUPPORT_HOURS,
    }


def _render(name: str, context: Mapping[str, Any], *, autoescape: bool) -> str:
    # The default engine, not render_to_string: plain text must not be HTML-escaped ("&" stays
    # "&"), while the HTML body is escaped as any page is.
    engine = Engine.get_default()
    return engine.get_template(name).render(Context(dict(context), autoescape=autoescape))


def _tidy_text(text: str) -> str:
    # Template tags leave blank lines and trailing spaces behind; at most one empty line is kept
    # between paragraphs so the templates can stay readable.
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)) + "\n"


def render(code: str, *, context: Mapping[str, Any], language: str) -> RenderedMessage:
    """Render a message of type ``code`` in ``language``.

    Raises ``UnknownTemplate`` for an unregistered code and ``InvalidContext`` when the context
    lacks a required value or the subject comes out empty or too long.
    """
    entry = get_template(code)
    missing = sorted(entry.required_context.difference(context))
    if missing:
        msg = f"message type {code!r} needs {', '.join(missing)} in its context"
        raise InvalidContext(msg)
    full_context = {**_base_context(), **context}
    with translation.override(language):
        # A subject is one header line: line breaks would be refused by the mail API.
        subject = " ".join(_render(entry.subject_template, full_context, autoescape=False).split())
        body_text = _tidy_text(_render(entry.body_template, full_context, autoescape=False))
        body_html = (
            _render(entry.html_template, full_context, autoescape=True)
            if entry.html_template
            else ""
        )
    if not subject or len(subject) > MAX_SUBJECT_LENGTH:
        msg = f"message type {code!r} renders a subject of {len(subject)} characters (1 to {MAX_SUBJECT_LENGTH})"
        raise InvalidContext(msg)
    if not body_text.strip():
        msg = f"message type {code!r} renders an empty body"
        raise InvalidContext(msg)
    return RenderedMessage(subject=subject, body_text=body_text, body_html=body_html)


# A message with a subject and paragraphs chosen by the caller, in the portal's frame (greeting,
# sign-off, where to get help). For notices that need no template of their own.
register_template("notice", required_context=["subject", "paragraphs"])
