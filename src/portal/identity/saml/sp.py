"""The portal as a SAML service provider in Sweden Connect (pysaml2 with Debian's xmlsec1).

One SP entity serves both providers: ``saml`` (Swedish e-ID through Sweden Connect's identity
providers) and ``eidas`` (foreign e-ID through Sweden Connect's eIDAS connector). Each has its own
assertion consumer service, ``/logga-in/saml/svar`` and ``/logga-in/eidas/svar``, both published in
the SP's metadata with the HTTP-POST binding (the only one the Deployment Profile allows for
responses).

What the Deployment Profile asks of the SP, and where it is done:

* authentication requests signed (``AuthnRequestsSigned="true"``), with an exact
  ``RequestedAuthnContext``, ``ForceAuthn="true"``, a transient NameID policy and the
  ``AssertionConsumerServiceURL`` from the metadata: here;
* the response signed and the assertion encrypted to the SP's encryption key, everything else in
  the response checked: ``response.check_response``;
* the identity provider's keys taken only from metadata whose signature was verified:
  ``metadata.MetadataCache``.

Configuration and the pysaml2 client are built once per process (``shared_service_provider``);
``reset_shared_service_provider`` forgets them so that changed settings apply (tests).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import structlog
from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT  # type: ignore[import-untyped]
from saml2.client import Saml2Client  # type: ignore[import-untyped]
from saml2.config import SPConfig  # type: ignore[import-untyped]
from saml2.md import ServiceName  # type: ignore[import-untyped]
from saml2.metadata import entity_descriptor, metadata_tostring_fix  # type: ignore[import-untyped]
from saml2.saml import NAMEID_FORMAT_TRANSIENT, AuthnContextClassRef  # type: ignore[import-untyped]
from saml2.samlp import RequestedAuthnContext  # type: ignore[import-untyped]

from portal.identity.providers.base import Redirect
from portal.identity.saml import attributes as attr
from portal.identity.saml.keys import KeyPair, ensure_key_pair
from portal.identity.saml.metadata import (
    MetadataCache,
    MetadataError,
    VerifiedMetadata,
    strip_unsupported_algorithms,
)

logger = structlog.get_logger(__name__)

#: The provider codes this SP serves, each with its own assertion consumer service.
PROVIDER_CODES: Final = ("saml", "eidas")
#: Allowed clock difference between the portal and an IdP (the profile: at most a minute).
CLOCK_SKEW_SECONDS: Final = 60


@dataclass(frozen=True)
class SpSettings:
    """What the SP is configured with (from Django's settings, see docs/configuration.md)."""

    entity_id: str
    signing: KeyPair
    encryption: KeyPair
    #: Keys of earlier encryption certificates, still tried for decryption during a rollover.
    previous_encryption_keys: tuple[str, ...]
    xmlsec_binary: str
    #: Provider code -> absolute address of its assertion consumer service.
    acs_urls: Mapping[str, str]
    #: Provider code -> entity id of the IdP it sends people to.
    idp_entity_ids: Mapping[str, str]
    idp_metadata: str
    metadata_signing_cert: str
    entity_categories: tuple[str, ...]
    organization_name: str
    organization_url: str
    #: "post" or "redirect": the binding of the authentication request.
    request_binding: str
    #: Identity binding processes under which a mapped personal identity number is accepted.
    accepted_pnr_bindings: tuple[str, ...]


def load_settings() -> SpSettings:
    """Read the SP's settings; in development, make the SP's key pairs if they are missing."""
    pairs = {
        "signing": (settings.SAML_SP_KEY, settings.SAML_SP_CERT),
        "encryption": (settings.SAML_SP_ENCRYPTION_KEY, settings.SAML_SP_ENCRYPTION_CERT),
    }
    if not settings.PRODUCTION:
        # Development and tests: throw-away keys (under var/saml by default), made at first use.
        for name, (key, cert) in pairs.items():
            if key and cert and not (Path(key).is_file() and Path(cert).is_file()):
                ensure_key_pair(Path(key), Path(cert), f"Portal SP {name} (development)")
    signing = KeyPair(Path(pairs["signing"][0]), Path(pairs["signing"][1]))
    encryption = KeyPair(Path(pairs["encryption"][0]), Path(pairs["encryption"][1]))
    base_url = settings.BASE_URL.rstrip("/")
    return SpSettings(
        entity_id=settings.SAML_SP_ENTITY_ID,
        signing=signing,
        encryption=encryption,
        previous_encryption_keys=tuple(settings.SAML_SP_PREVIOUS_ENCRYPTION_KEYS),
        xmlsec_binary=settings.SAML_XMLSEC_BINARY,
        acs_urls={
            code: base_url + reverse("identity:callback", kwargs={"provider": code})
            for code in PROVIDER_CODES
        },
        idp_entity_ids={
            "saml": settings.SAML_IDP_ENTITY_ID,
            "eidas": settings.SAML_EIDAS_IDP_ENTITY_ID,
        },
        idp_metadata=settings.SAML_IDP_METADATA,
        metadata_signing_cert=settings.SAML_METADATA_SIGNING_CERT,
        entity_categories=tuple(settings.SAML_SP_ENTITY_CATEGORIES),
        organization_name=settings.AGENCY_NAME,
        organization_url=base_url + "/",
        request_binding=settings.SAML_REQUEST_BINDING,
        accepted_pnr_bindings=tuple(settings.SAML_EIDAS_ACCEPTED_PNR_BINDINGS),
    )


def _logo_url(base_url: str) -> str:
    try:
        path = static("portal/favicon.svg")
    except ValueError:  # the manifest of collected static files lacks it
        path = settings.STATIC_URL + "portal/favicon.svg"
    return path if path.startswith("http") else base_url + path


def pysaml2_config(sp: SpSettings, metadata: VerifiedMetadata | None = None) -> SPConfig:
    """pysaml2's configuration of the SP, with the verified IdP metadata if given."""
    base_url = sp.organization_url.rstrip("/")
    name = sp.organization_name
    config: dict[str, Any] = {
        "entityid": sp.entity_id,
        "xmlsec_binary": sp.xmlsec_binary,
        "key_file": str(sp.signing.key),
        "cert_file": str(sp.signing.cert),
        # Only the current encryption key is published; earlier ones decrypt (``decrypt_keys``).
        "encryption_keypairs": [
            {"key_file": str(sp.encryption.key), "cert_file": str(sp.encryption.cert)}
        ],
        "metadata": {"inline": [metadata.xml]} if metadata is not None else {},
        "accepted_time_diff": CLOCK_SKEW_SECONDS,
        "signing_algorithm": attr.RSA_SHA256,
        "digest_algorithm": attr.SHA256,
        "allow_unknown_attributes": True,
        "entity_category": list(sp.entity_categories),
        "organization": {
            "name": [(name, "sv")],
            "display_name": [(name, "sv")],
            "url": [(sp.organization_url, "sv")],
        },
        "service": {
            "sp": {
                "name": (name, "sv"),
                "endpoints": {
                    "assertion_consumer_service": [
                        (sp.acs_urls[code], BINDING_HTTP_POST) for code in PROVIDER_CODES
                    ],
                },
                "authn_requests_signed": True,
                # The profile: the response is always signed and its assertion encrypted; an
                # assertion signature is optional (checked when present).
                "want_response_signed": True,
                "want_assertions_signed": False,
                "want_assertions_or_response_signed": True,
                "allow_unsolicited": False,
                "name_id_format": [NAMEID_FORMAT_TRANSIENT],
                "name_id_policy_format": NAMEID_FORMAT_TRANSIENT,
                "requested_attribute_name_format": attr.NAME_FORMAT_URI,
                "required_attributes": [
                    name for name, required in attr.REQUESTED_ATTRIBUTES if required
                ],
                "optional_attributes": [
                    name for name, required in attr.REQUESTED_ATTRIBUTES if not required
                ],
                "ui_info": {
                    "display_name": [
                        {"text": name, "lang": "sv"},
                        {"text": name, "lang": "en"},
                    ],
                    "description": [
                        {"text": f"E-tjänster för arbetsgivare – {name}", "lang": "sv"},
                        {"text": f"E-services for employers – {name}", "lang": "en"},
                    ],
                    "logo": [{"text": _logo_url(base_url), "width": "64", "height": "64"}],
                },
            }
        },
    }
    sp_config = SPConfig()
    sp_config.load(config)
    return sp_config


def metadata_xml(sp: SpSettings | None = None) -> str:
    """The SP's own metadata: one ``md:EntityDescriptor`` (unsigned: Sweden Connect signs the
    federation's aggregate). Needs no IdP metadata."""
    sp = sp or load_settings()
    descriptor = entity_descriptor(pysaml2_config(sp))
    strip_unsupported_algorithms(descriptor)
    spsso = descriptor.spsso_descriptor
    for service in (
        spsso[0] if isinstance(spsso, list) else spsso
    ).attribute_consuming_service or []:
        for requested in service.requested_attribute or []:
            requested.friendly_name = attr.FRIENDLY_NAMES.get(requested.name)
        service.service_name = [
            ServiceName(text=sp.organization_name, lang="sv"),
            ServiceName(text=sp.organization_name, lang="en"),
        ]
    xml = metadata_tostring_fix(descriptor, {"xs": "http://www.w3.org/2001/XMLSchema"})
    return xml.decode("utf-8") if isinstance(xml, bytes) else str(xml)


class _NoIdentityCache:
    """pysaml2's client keeps every person's attributes in an in-process cache after each
    response (for attribute queries and logout, which the portal does not use). Nothing is kept:
    the identity goes to the portal's own session and database, and memory does not grow."""

    def set(self, *args: Any, **kwargs: Any) -> None:
        return None

    def delete(self, *args: Any, **kwargs: Any) -> None:
        return None

    def subjects(self) -> list[Any]:
        return []

    def entities(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []

    def active(self, *args: Any, **kwargs: Any) -> bool:
        return False

    def get_identity(self, *args: Any, **kwargs: Any) -> tuple[dict[str, Any], list[Any]]:
        return {}, []


@dataclass(frozen=True)
class AuthnRequestInfo:
    request_id: str
    acs_url: str
    contexts: tuple[str, ...]
    issued_at: datetime
    redirect: Redirect


class ServiceProvider:
    """The SP's settings, the IdP metadata (verified, refreshed hourly) and a pysaml2 client."""

    def __init__(self, sp_settings: SpSettings) -> None:
        self.settings = sp_settings
        self.metadata = MetadataCache(
            source=sp_settings.idp_metadata,
            signing_cert=sp_settings.metadata_signing_cert,
            xmlsec_binary=sp_settings.xmlsec_binary,
        )
        self._lock = threading.Lock()
        self._client: tuple[VerifiedMetadata, Saml2Client] | None = None
        self._metadata_document: str | None = None

    def metadata_document(self) -> str:
        """The SP's own metadata (made once: pysaml2 asks xmlsec1 what it supports)."""
        with self._lock:
            if self._metadata_document is None:
                self._metadata_document = metadata_xml(self.settings)
            return self._metadata_document

    def client(self) -> Saml2Client:
        """A pysaml2 client that trusts the current verified metadata (``MetadataError`` if none)."""
        verified = self.metadata.get()
        with self._lock:
            if self._client is None or self._client[0] is not verified:
                client = Saml2Client(
                    config=pysaml2_config(self.settings, verified),
                    identity_cache=_NoIdentityCache(),
                )
                self._client = (verified, client)
            return self._client[1]

    def check_idp(self, idp_entity_id: str) -> None:
        """Raise ``MetadataError`` unless the verified metadata describes this IdP."""
        if not idp_entity_id:
            raise MetadataError("no identity provider entity id is configured")
        if idp_entity_id not in self.metadata.get().identity_providers:
            raise MetadataError(
                f"the metadata does not describe the identity provider {idp_entity_id}"
            )

    def acs_url(self, code: str, callback_url: str = "") -> str:
        """The consumer service for ``code``: the callback URL the portal passed if it is one of
        the SP's (as published in metadata), else the configured one."""
        configured = self.settings.acs_urls[code]
        if callback_url and callback_url != configured:
            if callback_url in self.settings.acs_urls.values():
                return callback_url
            # Check PORTAL_BASE_URL: the metadata publishes the configured address.
            logger.warning("saml_callback_not_in_metadata", callback=callback_url, used=configured)
        return configured

    def authn_request(
        self,
        *,
        idp_entity_id: str,
        acs_url: str,
        contexts: tuple[str, ...],
        relay_state: str,
    ) -> AuthnRequestInfo:
        """A signed ``AuthnRequest`` for ``idp_entity_id`` and where to send the browser with it."""
        client = self.client()
        self.check_idp(idp_entity_id)
        binding = (
            BINDING_HTTP_REDIRECT
            if self.settings.request_binding == "redirect"
            else BINDING_HTTP_POST
        )
        services = client.metadata.single_sign_on_service(idp_entity_id, binding) or []
        if not services:
            raise MetadataError(
                f"the identity provider {idp_entity_id} has no SingleSignOnService for {binding}"
            )
        destination = services[0]["location"]
        issued_at = datetime.now(UTC)
        requested = RequestedAuthnContext(
            authn_context_class_ref=[AuthnContextClassRef(text=uri) for uri in contexts],
            comparison="exact",
        )
        common: dict[str, Any] = {
            "destination": destination,
            "binding": BINDING_HTTP_POST,  # the response's binding (ProtocolBinding)
            "nameid_format": NAMEID_FORMAT_TRANSIENT,
            "requested_authn_context": requested,
            "assertion_consumer_service_url": acs_url,
            "force_authn": "true",
            "is_passive": "false",
            "sign_alg": attr.RSA_SHA256,
            "digest_alg": attr.SHA256,
        }
        if binding == BINDING_HTTP_POST:
            # Signed inside the XML (an enveloped ds:Signature), sent by an auto-submitted form.
            request_id, signed_xml = client.create_authn_request(sign=True, **common)
            encoded = base64.b64encode(str(signed_xml).encode("utf-8")).decode("ascii")
            redirect = Redirect(
                url=destination, form={"SAMLRequest": encoded, "RelayState": relay_state}
            )
        else:
            # The HTTP-Redirect binding signs the query string (SigAlg, Signature), not the XML.
            request_id, request = client.create_authn_request(sign=False, **common)
            info = client.apply_binding(
                BINDING_HTTP_REDIRECT,
                str(request),
                destination=destination,
                relay_state=relay_state,
                sign=True,
                sigalg=attr.RSA_SHA256,
            )
            location = dict(info["headers"])["Location"]
            redirect = Redirect(url=location)
        return AuthnRequestInfo(
            request_id=str(request_id),
            acs_url=acs_url,
            contexts=contexts,
            issued_at=issued_at,
            redirect=redirect,
        )


#: The settings the SP is built from: when one changes (tests, a reload), the SP is built anew.
_SETTINGS: Final = (
    "PRODUCTION",
    "BASE_URL",
    "AGENCY_NAME",
    "SAML_SP_ENTITY_ID",
    "SAML_SP_KEY",
    "SAML_SP_CERT",
    "SAML_SP_ENCRYPTION_KEY",
    "SAML_SP_ENCRYPTION_CERT",
    "SAML_SP_PREVIOUS_ENCRYPTION_KEYS",
    "SAML_SP_ENTITY_CATEGORIES",
    "SAML_IDP_ENTITY_ID",
    "SAML_EIDAS_IDP_ENTITY_ID",
    "SAML_IDP_METADATA",
    "SAML_METADATA_SIGNING_CERT",
    "SAML_XMLSEC_BINARY",
    "SAML_REQUEST_BINDING",
    "SAML_EIDAS_ACCEPTED_PNR_BINDINGS",
)
_shared_lock = threading.Lock()
_shared: list[tuple[tuple[Any, ...], ServiceProvider]] = []


def _fingerprint() -> tuple[Any, ...]:
    return tuple(
        tuple(value) if isinstance(value, list) else value
        for value in (getattr(settings, name, None) for name in _SETTINGS)
    )


def shared_service_provider() -> ServiceProvider:
    """One SP (settings, verified metadata, pysaml2 client) per process, made at first use and
    made again when one of its settings changes."""
    key = _fingerprint()
    with _shared_lock:
        if not _shared or _shared[0][0] != key:
            _shared[:] = [(key, ServiceProvider(load_settings()))]
        return _shared[0][1]


def reset_shared_service_provider() -> None:
    """Forget the shared SP, so that the next use reads the settings, keys and metadata again."""
    with _shared_lock:
        _shared.clear()
