"""Which providers exist, and which the agency allows (R12)."""

from __future__ import annotations

from django.conf import settings

from portal.identity.providers.base import Assurance, IdentityProvider


def get_provider(code: str) -> IdentityProvider | None:
    """The provider for ``code`` if the agency allows it, else None."""
    if code not in settings.EID_ALLOWED_ISSUERS:
        return None
    if code == "bankid":
        from portal.identity.bankid.provider import BankIDProvider  # noqa: PLC0415

        return BankIDProvider()
    return None


def assurance_accepted(level: Assurance) -> bool:
    return level.rank >= Assurance(settings.EID_MIN_ASSURANCE).rank


def issuer_allowed(code: str) -> bool:
    return code in settings.EID_ALLOWED_ISSUERS
