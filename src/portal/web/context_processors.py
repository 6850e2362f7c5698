from __future__ import annotations

import os
from functools import cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, get_token
from django.urls import get_script_prefix, reverse
from django.utils.functional import SimpleLazyObject


def portal(request: HttpRequest) -> dict[str, Any]:
    """Values every page's layout needs."""
    return {
        "agency_name": settings.AGENCY_NAME,
        "support_phone": settings.SUPPORT_PHONE,
        "support_email": settings.SUPPORT_EMAIL,
        "support_hours": settings.SUPPORT_HOURS,
        **_addresses(get_script_prefix(), settings.ROOT_URLCONF),
    }


@cache
def _addresses(_prefix: str, _urlconf: str) -> dict[str, str]:
    """The fixed addresses the layout links to, reversed once per script prefix and URL
    configuration (the arguments are the cache's key)."""
    return {
        "terms_url": reverse("terms:current"),
        "status_url": reverse("status"),
        "help_url": reverse("help"),
    }


_CHARS = CSRF_ALLOWED_CHARS
_INDEX = {char: index for index, char in enumerate(_CHARS)}
#: The random bytes below this are used (a whole number of rounds of the 62 characters), so
#: that every character of the mask is equally likely.
_BYTES_USED = 256 - 256 % len(_CHARS)


def _mask() -> str:
    """A random string of ``CSRF_SECRET_LENGTH`` of the token's characters, each equally likely,
    from the operating system's random source (as Django's ``get_random_string``, but from one
    read of random bytes instead of one per character)."""
    chars: list[str] = []
    while len(chars) < CSRF_SECRET_LENGTH:
        chars.extend(_CHARS[byte % len(_CHARS)] for byte in os.urandom(48) if byte < _BYTES_USED)
    return "".join(chars[:CSRF_SECRET_LENGTH])


def csrf_token(request: HttpRequest) -> str:
    """The masked CSRF token for a form, as ``django.middleware.csrf.get_token`` gives it: the
    secret of the request's CSRF cookie, masked afresh for every page (against BREACH), and the
    cookie sent again to renew it. Django's masking drew one random character at a time, some 40
    reads of the random source per page; this is what the template's ``{% csrf_token %}`` asks.
    A request without the cookie gets Django's own (which makes a new secret and cookie)."""
    secret = request.META.get("CSRF_COOKIE")
    if not secret:
        return get_token(request)
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask = _mask()
    index = _INDEX
    cipher = "".join(
        _CHARS[(index[x] + index[y]) % len(_CHARS)] for x, y in zip(secret, mask, strict=True)
    )
    return mask + cipher


def csrf(request: HttpRequest) -> dict[str, Any]:
    """``csrf_token`` for the templates (in place of Django's built-in processor of the same
    name, which comes first, so this one's value is the one used)."""
    return {"csrf_token": SimpleLazyObject(lambda: csrf_token(request))}
