"""The company register the portal uses, chosen by the settings.

``COMPANY_REGISTER`` is ``"file"`` (the default: fictional companies from ``COMPANY_REGISTER_FILE``,
by default the shipped ``fictional_register.json``) or ``"http"`` (the register's API at
``COMPANY_REGISTER_URL``, with ``COMPANY_REGISTER_TOKEN`` as bearer token when set, and
``COMPANY_REGISTER_TIMEOUT_SECONDS`` as the bound on each call, default 5). The settings are read
with defaults, so the portal runs before settings.py defines them.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from portal.employers.register.base import CompanyRegister
from portal.employers.register.fictional import SHIPPED_FILE, FileRegister
from portal.employers.register.http import HttpRegister

DEFAULT_TIMEOUT_SECONDS = 5.0
KINDS = ("file", "http")


def get_register() -> CompanyRegister:
    """The register for the current settings; the same object for as long as they do not change.

    Raises ``ImproperlyConfigured`` for an unknown ``COMPANY_REGISTER`` or, with ``"http"``, a
    missing or malformed URL or a timeout that is not a positive number.
    """
    kind = str(getattr(settings, "COMPANY_REGISTER", "file"))
    if kind == "file":
        return _file_register(Path(getattr(settings, "COMPANY_REGISTER_FILE", "") or SHIPPED_FILE))
    if kind == "http":
        url = str(getattr(settings, "COMPANY_REGISTER_URL", ""))
        if not url:
            raise ImproperlyConfigured(
                "COMPANY_REGISTER is 'http' but COMPANY_REGISTER_URL is empty"
            )
        raw_timeout = getattr(settings, "COMPANY_REGISTER_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS)
        try:
            timeout = float(raw_timeout)
        except (TypeError, ValueError):
            raise ImproperlyConfigured(
                "COMPANY_REGISTER_TIMEOUT_SECONDS must be a number"
            ) from None
        token = str(getattr(settings, "COMPANY_REGISTER_TOKEN", ""))
        try:
            return _http_register(url, token, timeout)
        except ValueError as error:
            raise ImproperlyConfigured(
                f"COMPANY_REGISTER_URL or _TIMEOUT_SECONDS: {error}"
            ) from None
    raise ImproperlyConfigured(f"COMPANY_REGISTER must be one of {', '.join(KINDS)}, not {kind!r}")


# Cached by configuration: one file cache, or one HTTP connection pool, per process; a test that
# changes the settings gets a register of its own.
@cache
def _file_register(path: Path) -> FileRegister:
    return FileRegister(path)


@cache
def _http_register(url: str, token: str, timeout: float) -> HttpRegister:
    return HttpRegister(url, token=token, timeout=timeout)
