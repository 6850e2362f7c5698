from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse


def portal(request: HttpRequest) -> dict[str, Any]:
    """Values every page's layout needs."""
    return {
        "agency_name": settings.AGENCY_NAME,
        "support_phone": settings.SUPPORT_PHONE,
        "support_email": settings.SUPPORT_EMAIL,
        "support_hours": settings.SUPPORT_HOURS,
        "terms_url": reverse("terms:current"),
        "status_url": reverse("status"),
        "help_url": reverse("help"),
    }
