"""Which providers exist, and which the agency allows (R12)."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings

from portal.identity.providers.base import Assurance, IdentityProvider

#: Every provider the portal can speak to, by code: BankID and Freja eID (polled, with an app),
#: Sweden Connect over OpenID Connect and over SAML, and Sweden Connect's eIDAS connector for
#: people with a foreign e-ID (redirects). The order is the login page's order.
PROVIDERS: dict[str, str] = {
    "bankid": "portal.identity.bankid.provider:BankIDProvider",
    "freja": "portal.identity.freja.provider:FrejaProvider",
    "oidc": "portal.identity.oidc.provider:OidcProvider",
    "saml": "portal.identity.saml.provider:SamlProvider",
    "eidas": "portal.identity.saml.provider:EidasProvider",
}


def get_provider(code: str) -> IdentityProvider | None:
    """The provider for ``code`` if the agency allows it, else None."""
    if code not in settings.EID_ALLOWED_ISSUERS or code not in PROVIDERS:
        return None
    module_name, class_name = PROVIDERS[code].split(":")
    provider_class: type[IdentityProvider] = getattr(import_module(module_name), class_name)
    return provider_class()


def enabled_providers() -> list[IdentityProvider]:
    """The providers the agency allows, in the login page's order."""
    return [
        provider
        for code in PROVIDERS
        if code in settings.EID_ALLOWED_ISSUERS and (provider := get_provider(code)) is not None
    ]


def minimum_assurance(purpose: str) -> Assurance:
    """The lowest assurance accepted for ``purpose`` ("login" or "sign"), as configured."""
    if purpose == "sign":
        return Assurance(settings.EID_MIN_ASSURANCE_SIGN)
    return Assurance(settings.EID_MIN_ASSURANCE)


def assurance_accepted(level: Assurance, purpose: str = "login") -> bool:
    return level.rank >= minimum_assurance(purpose).rank


def issuer_allowed(code: str) -> bool:
    return code in settings.EID_ALLOWED_ISSUERS
