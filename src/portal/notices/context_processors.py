from __future__ import annotations

from typing import Any

import structlog
from django.http import HttpRequest
from django.utils import timezone

from portal.notices.selectors import banner

logger = structlog.get_logger(__name__)


def outage_banner(request: HttpRequest) -> dict[str, Any]:
    """The banner on every page: planned outages from ``OUTAGE_BANNER_DAYS`` days before they
    start until they end, and open incidents.

    The banner must never break a page: without a database (the error pages, ``/readyz`` telling
    that the database is down) the page is shown without it.
    """
    now = timezone.now()
    try:
        items = banner(now)
    except Exception:  # noqa: BLE001 (any failure to read it only leaves the banner out)
        logger.warning("outage_banner_unavailable")
        items = []
    return {
        "outage_banner": {
            "outages": [item for item in items if item.is_outage],
            "incidents": [item for item in items if not item.is_outage],
            "now": now,
        }
    }
