"""How a view declares who may reach it. Every route must declare it (a test walks the resolver):
either ``public`` (anyone, logged in or not), or a permission checked by ``access.can``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

View = TypeVar("View", bound=Callable[..., Any])

PUBLIC = "public"
AUTHENTICATED = "authenticated"


def public(view: View) -> View:
    """Mark a view as reachable by anyone."""
    view.portal_access = PUBLIC  # type: ignore[attr-defined]
    return view


def access_of(view: Callable[..., Any]) -> str | None:
    """What a view declared, looking through wrappers (csrf_exempt, require_http_methods, ...)."""
    current: Any = view
    while current is not None:
        declared = getattr(current, "portal_access", None)
        if declared:
            return str(declared)
        current = getattr(current, "__wrapped__", None)
    return None


def read_only(view: View) -> View:
    """A view that only answers GET and HEAD and changes nothing.

    Such a view is exempt from the CSRF check (there is nothing to forge), so that a POST to it
    gets the right answer, 405 Method Not Allowed, instead of a misleading CSRF error.
    """
    wrapped: Any = csrf_exempt(require_safe(view))
    wrapped.portal_read_only = True
    return wrapped  # type: ignore[no-any-return]


def is_read_only(view: Callable[..., Any]) -> bool:
    """Whether ``view`` (looking through wrappers) was declared ``read_only``."""
    current: Any = view
    while current is not None:
        if getattr(current, "portal_read_only", False):
            return True
        current = getattr(current, "__wrapped__", None)
    return False


def authenticated(view: View) -> View:
    """Any logged-in person; others are sent to the login page (and come back afterwards)."""
    from django.contrib.auth.decorators import login_required  # noqa: PLC0415

    wrapped: Any = login_required(view, login_url="identity:login")
    wrapped.portal_access = AUTHENTICATED
    return wrapped  # type: ignore[no-any-return]


def requires(permission: str) -> Callable[[View], View]:
    """Declare the permission a view checks with ``access.services.require`` (for the route test);
    the view must be logged-in only, so it is wrapped in ``authenticated`` too."""

    def decorate(view: View) -> View:
        wrapped: Any = authenticated(view)
        wrapped.portal_access = str(permission)
        return wrapped  # type: ignore[no-any-return]

    return decorate
