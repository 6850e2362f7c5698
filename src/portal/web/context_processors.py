from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import get_script_prefix, reverse


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
