"""Limits on logging in: per IP address (starting e-ID logins) and per person (completed e-ID
identifications), so that neither a script nor a stolen e-ID can try without end.

Counting is in fixed windows in the cache (Redis in production, shared by every worker; in
development each process has its own). When the cache cannot be reached, logins are let through
and the fault is logged: the limits protect the portal, they must not shut it.
"""

from __future__ import annotations

import hashlib
import hmac
import time

import structlog
from django.conf import settings
from django.core.cache import cache

logger = structlog.get_logger(__name__)


def _key(kind: str, value: str) -> str:
    # Keyed hash: neither an IP address nor a personal identity number is stored in the cache.
    digest = hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()
    window = int(time.time() // settings.LOGIN_RATE_WINDOW_SECONDS)
    return f"ratelimit:{kind}:{digest[:32]}:{window}"


def retry_after() -> int:
    """Seconds until the current window ends."""
    window = settings.LOGIN_RATE_WINDOW_SECONDS
    return max(1, int(window - time.time() % window))


def _over(kind: str, value: str, limit: int) -> bool:
    key = _key(kind, value)
    try:
        cache.add(key, 0, timeout=settings.LOGIN_RATE_WINDOW_SECONDS + 5)
        count = cache.incr(key)
    except ValueError:  # expired between add and incr: this is the first in a new window
        cache.set(key, 1, timeout=settings.LOGIN_RATE_WINDOW_SECONDS + 5)
        count = 1
    except Exception:  # the cache is down: let the login through, say so in the log
        logger.warning("login_rate_limit_unavailable", kind=kind, exc_info=True)
        return False
    return bool(count > limit)


def login_from_ip_over_limit(ip_address: str) -> bool:
    """Count one login started from ``ip_address``; True if that is more than allowed."""
    return _over("ip", ip_address, settings.LOGIN_RATE_PER_IP)


def login_of_person_over_limit(identifier: str) -> bool:
    """Count one completed identification of a person; True if that is more than allowed."""
    return _over("person", identifier, settings.LOGIN_RATE_PER_PERSON)
