"""A local SAML identity provider standing in for Sweden Connect: a Swedish IdP and the eIDAS
connector, for development, demonstrations and tests.

It speaks the Deployment Profile to the portal unchanged, so that the portal's SP code is exercised
for real: its metadata is an ``md:EntitiesDescriptor`` signed with a separate *metadata signing*
key (as Sweden Connect's aggregate is), it verifies the portal's signed ``AuthnRequest`` (HTTP-POST
or HTTP-Redirect binding) against the portal's SP metadata with pysaml2's ``saml2.server.Server``,
and it answers with a signed ``Response`` holding a signed assertion encrypted (AES-256-CBC,
RSA-OAEP) to the SP's encryption certificate, posted to the SP's consumer service by an
auto-submitting form.

Two entity ids are served by one plain-HTTP server on 127.0.0.1 (port 8448 for ``portal
saml-idp``): ``<base>/idp/se`` (Swedish e-ID: pick a demo person) and ``<base>/idp/eidas`` (the
eIDAS connector: a foreign person, with an optional mapped Swedish personal identity number).
Paths:

* ``GET /metadata``: the signed metadata of both;
* ``/idp/<se|eidas>/sso/post`` (POST) and ``/idp/<se|eidas>/sso/redirect`` (GET): the
  SingleSignOnService; shows a Swedish page to choose a person and an assurance level, or cancel;
* ``POST /idp/<se|eidas>/answer``: the page's form; answers with the auto-submitting form;
* ``GET /control/requests`` and ``POST /control/respond`` (JSON): for tests and scripts, the
  pending requests and the ``SAMLResponse`` for one of them, without HTML.

Tests may also call ``IdpState`` directly (``RunningIdp.state``): ``receive`` a request as the
browser would bring it, then ``respond``/``cancel``, or ``build_response`` with ``ResponseOptions``
to forge and tamper (unsigned, signed with another key, not encrypted, wrong destination,
audience or InResponseTo, expired, another assurance level, an error status).
"""

from __future__ import annotations

import base64
import html
import json
import logging
import re
import secrets
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import parse_qs, urlsplit

from cryptography.utils import CryptographyDeprecationWarning
from saml2 import (  # type: ignore[import-untyped]
    BINDING_HTTP_POST,
    BINDING_HTTP_REDIRECT,
    class_name,
    saml,
    samlp,
)
from saml2.config import IdPConfig  # type: ignore[import-untyped]
from saml2.md import EntitiesDescriptor  # type: ignore[import-untyped]
from saml2.metadata import entity_descriptor  # type: ignore[import-untyped]
from saml2.sigver import (  # type: ignore[import-untyped]
    ASSERT_XPATH,
    CryptoBackendXmlSec1,
    pre_encrypt_assertion,
    pre_encryption_part,
    pre_signature_part,
)

from portal.identity import localserver
from portal.identity.demo import PersonLike
from portal.identity.saml import attributes as attr
from portal.identity.saml.failures import released
from portal.identity.saml.keys import KeyPair, ensure_key_pair
from portal.identity.saml.metadata import strip_unsupported_algorithms

with warnings.catch_warnings():
    # saml2.server imports pysaml2's symmetric ciphers, which name cryptography's CFB mode where
    # cryptography has deprecated it; only the import warns, and the IdP never uses that mode.
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    from saml2.server import Server  # type: ignore[import-untyped]

logger = logging.getLogger("portal.saml.idp")

DEFAULT_PORT: Final = 8448
METADATA_PATH: Final = "/metadata"
#: The two identity providers this server plays: key -> (path segment, display name).
IDPS: Final[Mapping[str, str]] = {
    "se": "Svensk e-legitimation (test)",
    "eidas": "eIDAS-connector (test)",
}
#: What each may assert (its assurance certification in metadata).
SUPPORTED_CONTEXTS: Final[Mapping[str, tuple[str, ...]]] = {
    "se": (
        "http://id.elegnamnden.se/loa/1.0/loa2",
        "http://id.elegnamnden.se/loa/1.0/loa3",
        "http://id.elegnamnden.se/loa/1.0/loa4",
    ),
    "eidas": (
        "http://id.elegnamnden.se/loa/1.0/eidas-low",
        "http://id.elegnamnden.se/loa/1.0/eidas-nf-low",
        "http://id.elegnamnden.se/loa/1.0/eidas-sub",
        "http://id.elegnamnden.se/loa/1.0/eidas-nf-sub",
        "http://id.elegnamnden.se/loa/1.0/eidas-high",
        "http://id.elegnamnden.se/loa/1.0/eidas-nf-high",
    ),
}
_ENTITY_CATEGORIES: Final[Mapping[str, tuple[str, ...]]] = {
    "se": (attr.EC_LOA3_PNR, attr.EC_LOA4_PNR, attr.CONTRACT_SWEDEN_CONNECT),
    "eidas": (attr.EC_EIDAS_NATURAL_PERSON, attr.CONTRACT_SWEDEN_CONNECT),
}
NAMEID_FORMAT_ENTITY: Final = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
NAMEID_FORMAT_TRANSIENT: Final = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
SCM_BEARER: Final = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
#: How long an answer may be used (Conditions and SubjectConfirmationData NotOnOrAfter).
ASSERTION_LIFETIME: Final = timedelta(minutes=5)
METADATA_VALIDITY_HOURS: Final = 24
_METADATA_REFRESH_SECONDS: Final = 600.0
PENDING_TTL_SECONDS: Final = 900.0
_MAX_BODY_BYTES: Final = 1024 * 1024
#: What the test IdP's pages may load: its own script and logo; forms post to any SP.
_PAGE_HEADERS: Final[Mapping[str, str]] = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; "
        "img-src 'self'; form-action 'self' http: https:"
    )
}
_PERSONAL_NUMBER = re.compile(r"[0-9]{12}")
#: xmlsec1's session key for each block encryption algorithm.
_SESSION_KEYS: Final = {
    attr.AES256_CBC: "aes-256",
    "http://www.w3.org/2001/04/xmlenc#aes128-cbc": "aes-128",
    "http://www.w3.org/2001/04/xmlenc#tripledes-cbc": "des-192",
}


class IdpError(Exception):
    """A request the IdP refuses (shown as an error page, or a JSON error to the control API)."""

    def __init__(self, message: str, status: int = HTTPStatus.BAD_REQUEST) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# --- Keys ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdpKeys:
    """The IdP's signing key, and the key its metadata is signed with (the "federation's")."""

    signing: KeyPair
    metadata_signing: KeyPair


def ensure_idp_keys(directory: Path) -> IdpKeys:
    """The test IdP's keys in ``directory``, generated if missing (``var/saml/idp`` by default)."""
    return IdpKeys(
        signing=ensure_key_pair(
            directory / "idp-signing.key", directory / "idp-signing.pem", "Test IdP signing"
        ),
        metadata_signing=ensure_key_pair(
            directory / "metadata-signing.key",
            directory / "metadata-signing.pem",
            "Test federation metadata signing",
        ),
    )


# --- People --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SwedishPerson:
    personal_number: str
    given_name: str
    surname: str

    def attributes(self) -> dict[str, list[str]]:
        day = int(self.personal_number[6:8])
        birth = f"{self.personal_number[:4]}-{self.personal_number[4:6]}-{day % 60:02d}"
        return {
            attr.PERSONAL_IDENTITY_NUMBER: [self.personal_number],
            attr.GIVEN_NAME: [self.given_name],
            attr.SURNAME: [self.surname],
            attr.DISPLAY_NAME: [f"{self.given_name} {self.surname}"],
            attr.DATE_OF_BIRTH: [birth],
        }


@dataclass(frozen=True)
class ForeignPerson:
    """A person with an e-ID from another EU/EEA country, as the eIDAS connector describes them."""

    country: str
    identifier: str
    given_name: str
    surname: str
    date_of_birth: str = "1980-01-01"
    #: A Swedish personal identity number the connector has bound to this person, if any.
    mapped_personal_number: str | None = None
    binding: str = attr.BINDING_SWEDISH_EID

    @property
    def eidas_person_identifier(self) -> str:
        return f"{self.country.upper()}/SE/{self.identifier}"

    def attributes(self) -> dict[str, list[str]]:
        country = self.country.upper()
        values = {
            attr.PRID: [f"{country.lower()}:{self.identifier}"],
            attr.PRID_PERSISTENCE: ["A"],
            attr.EIDAS_PERSON_IDENTIFIER: [self.eidas_person_identifier],
            attr.GIVEN_NAME: [self.given_name],
            attr.SURNAME: [self.surname],
            attr.DATE_OF_BIRTH: [self.date_of_birth],
            attr.COUNTRY: [country],
            attr.TRANSACTION_IDENTIFIER: [secrets.token_hex(16)],
        }
        if self.mapped_personal_number:
            values[attr.MAPPED_PERSONAL_IDENTITY_NUMBER] = [self.mapped_personal_number]
            values[attr.PERSONAL_IDENTITY_NUMBER_BINDING] = [self.binding]
        return values


#: Foreign demo people offered by the eIDAS connector's page (fictional).
FOREIGN_DEMO_PEOPLE: Final = (
    ForeignPerson("DE", "1234567890", "Erika", "Mustermann", "1964-08-12"),
    ForeignPerson("NO", "05068907693", "Ola", "Nordmann", "1979-06-05"),
    ForeignPerson("DK", "0101801234", "Jens", "Hansen", "1980-01-01", "198001011231"),
)


# --- Requests and answers ------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingRequest:
    """An ``AuthnRequest`` the IdP has accepted and not yet answered."""

    id: str
    idp: str
    sp_entity_id: str
    acs_url: str
    relay_state: str
    #: The requested AuthnContextClassRef URIs this IdP can meet, in the request's order.
    contexts: tuple[str, ...]
    received_at: float


@dataclass(frozen=True)
class PostForm:
    """Where the browser posts the answer, and the form's fields (SAMLResponse, RelayState)."""

    url: str
    fields: dict[str, str]

    @property
    def saml_response(self) -> str:
        return self.fields["SAMLResponse"]

    def xml(self) -> str:
        return base64.b64decode(self.fields["SAMLResponse"]).decode("utf-8")


@dataclass(frozen=True)
class ResponseOptions:
    """How to build (or forge) a response; the defaults make a correct one.

    ``None`` means "as the request and the profile say"; a value replaces it, before signing, so
    that a test sees exactly the check it targets fail (and not the signature).
    """

    sign_response: bool = True
    sign_assertion: bool = True
    encrypt: bool = True
    #: Sign with this key instead of the IdP's (a forgery: the SP must refuse it).
    response_signer: KeyPair | None = None
    assertion_signer: KeyPair | None = None
    #: Encrypt to this certificate instead of the SP's.
    encryption_cert: Path | None = None
    #: Algorithms (the profile's defaults; a test may pick one the framework forbids).
    signature_algorithm: str = attr.RSA_SHA256
    digest_algorithm: str = attr.SHA256
    block_encryption: str = attr.AES256_CBC
    issuer: str | None = None
    destination: str | None = None
    in_response_to: str | None = None
    recipient: str | None = None
    subject_in_response_to: str | None = None
    audience: str | None = None
    issue_instant: datetime | None = None
    not_before: datetime | None = None
    not_on_or_after: datetime | None = None
    subject_not_on_or_after: datetime | None = None
    authn_context: str | None = None
    authn_instant: datetime | None = None
    assertion_id: str | None = None
    #: Replace the person's attributes (name -> values).
    attributes: Mapping[str, list[str]] | None = None
    #: An error answer: (top-level status code, second-level status code or None).
    status: tuple[str, str | None] | None = None


# --- The IdP -------------------------------------------------------------------------------------


class IdpState:
    """Both identity providers: their pysaml2 servers, the pending requests and the answers.

    Thread-safe; the HTTP handlers call into it, and tests may call it directly.
    """

    def __init__(
        self,
        *,
        keys: IdpKeys,
        base_url: str,
        sp_metadata: str | Callable[[], str],
        xmlsec_binary: str = "/usr/bin/xmlsec1",
        people: Iterable[PersonLike] = (),
        foreign_people: Iterable[ForeignPerson] = FOREIGN_DEMO_PEOPLE,
    ) -> None:
        self.keys = keys
        self.base_url = base_url.rstrip("/")
        self.xmlsec_binary = xmlsec_binary
        self.crypto = CryptoBackendXmlSec1(xmlsec_binary)
        self.people = tuple(
            SwedishPerson(person.personal_number, person.given_name, person.surname)
            for person in people
        )
        self.foreign_people = tuple(foreign_people)
        self._sp_metadata = sp_metadata
        self._lock = threading.RLock()
        self._servers: dict[str, Server] = {}
        self._servers_for = ""
        self._pending: dict[str, PendingRequest] = {}
        self._metadata: tuple[float, str] | None = None
        self._files = tempfile.TemporaryDirectory(prefix="saml-idp-")
        self._cert_files: dict[str, Path] = {}

    # Entities and endpoints

    def entity_id(self, idp: str) -> str:
        return f"{self.base_url}/idp/{idp}"

    def sso_url(self, idp: str, binding: Literal["post", "redirect"]) -> str:
        return f"{self.entity_id(idp)}/sso/{binding}"

    @property
    def metadata_url(self) -> str:
        return self.base_url + METADATA_PATH

    def _config(self, idp: str, sp_metadata: str) -> dict[str, Any]:
        name = IDPS[idp]
        return {
            "entityid": self.entity_id(idp),
            "xmlsec_binary": self.xmlsec_binary,
            "key_file": str(self.keys.signing.key),
            "cert_file": str(self.keys.signing.cert),
            "metadata": {"inline": [sp_metadata]} if sp_metadata else {},
            "accepted_time_diff": 60,
            "signing_algorithm": attr.RSA_SHA256,
            "digest_algorithm": attr.SHA256,
            "assurance_certification": list(SUPPORTED_CONTEXTS[idp]),
            "entity_category": list(_ENTITY_CATEGORIES[idp]),
            "organization": {
                "name": [("Testfederationen", "sv")],
                "display_name": [("Testfederationen", "sv")],
                "url": [(self.base_url + "/", "sv")],
            },
            "service": {
                "idp": {
                    "name": name,
                    "endpoints": {
                        "single_sign_on_service": [
                            (self.sso_url(idp, "redirect"), BINDING_HTTP_REDIRECT),
                            (self.sso_url(idp, "post"), BINDING_HTTP_POST),
                        ],
                    },
                    "want_authn_requests_signed": True,
                    "name_id_format": [NAMEID_FORMAT_TRANSIENT],
                    "ui_info": {
                        "display_name": [{"text": name, "lang": "sv"}],
                        "logo": [
                            {"text": self.base_url + "/logo.svg", "width": "64", "height": "64"}
                        ],
                    },
                }
            },
        }

    def server(self, idp: str) -> Server:
        """pysaml2's IdP for ``idp``, trusting the SP's current metadata."""
        sp_metadata = self._sp_metadata() if callable(self._sp_metadata) else self._sp_metadata
        with self._lock:
            if sp_metadata != self._servers_for:
                self._servers = {}
                self._servers_for = sp_metadata
            if idp not in self._servers:
                config = IdPConfig()
                config.load(self._config(idp, sp_metadata))
                self._servers[idp] = Server(config=config)
            return self._servers[idp]

    # Metadata

    def metadata_xml(self) -> str:
        """Both IdPs in one ``md:EntitiesDescriptor``, signed with the metadata signing key."""
        with self._lock:
            now = time.monotonic()
            if self._metadata is not None and now - self._metadata[0] < _METADATA_REFRESH_SECONDS:
                return self._metadata[1]
            document = self.signed_entities(self.entity_descriptors(), self.keys.metadata_signing)
            self._metadata = (now, document)
            return document

    def entity_descriptors(self) -> list[Any]:
        """The ``md:EntityDescriptor`` of each IdP (pysaml2 objects, unsigned)."""
        descriptors = []
        for idp in IDPS:
            config = IdPConfig()
            config.load(self._config(idp, ""))
            descriptor = entity_descriptor(config)
            strip_unsupported_algorithms(descriptor)
            descriptors.append(descriptor)
        return descriptors

    def signed_entities(
        self,
        descriptors: list[Any],
        signer: KeyPair | None,
        *,
        valid_hours: int = METADATA_VALIDITY_HOURS,
    ) -> str:
        """An ``EntitiesDescriptor`` of ``descriptors``, signed by ``signer`` (unsigned if None)."""
        ident = "_" + secrets.token_hex(16)
        entities = EntitiesDescriptor(
            entity_descriptor=descriptors,
            id=ident,
            name="urn:test:portal:saml-idp",
            valid_until=_instant(datetime.now(UTC) + timedelta(hours=valid_hours)),
        )
        if signer is None:
            return str(entities)
        entities.signature = pre_signature_part(
            ident,
            signer.certificate_base64(),
            1,
            sign_alg=attr.RSA_SHA256,
            digest_alg=attr.SHA256,
        )
        return str(
            self.crypto.sign_statement(
                str(entities), class_name(entities), key_file=str(signer.key), node_id=ident
            )
        )

    # Receiving requests

    def receive(self, url: str, form: Mapping[str, str] | None = None) -> PendingRequest:
        """Accept the ``AuthnRequest`` the browser brings to ``url`` (its query for the Redirect
        binding, ``form`` for POST); raise ``IdpError`` if it is not one to answer."""
        parts = urlsplit(url)
        match = re.fullmatch(r"/idp/(se|eidas)/sso/(post|redirect)", parts.path)
        if not match:
            raise IdpError("Okänd adress för legitimering.", HTTPStatus.NOT_FOUND)
        idp, binding = match.group(1), match.group(2)
        if binding == "redirect":
            query = {key: values[0] for key, values in parse_qs(parts.query).items()}
            return self._receive(idp, "redirect", query)
        return self._receive(idp, "post", dict(form or {}))

    def _receive(self, idp: str, binding: str, params: Mapping[str, str]) -> PendingRequest:
        encoded = params.get("SAMLRequest", "")
        if not encoded:
            raise IdpError("Begäran saknar SAMLRequest.")
        try:
            server = self.server(idp)
        except Exception as error:  # noqa: BLE001 (the SP's metadata: unreachable, unreadable)
            logger.warning("Test IdP: no usable SP metadata: %s", released(error))
            raise IdpError(
                "Tjänstens metadata kunde inte läsas.", HTTPStatus.SERVICE_UNAVAILABLE
            ) from None
        try:
            if binding == "redirect":
                parsed = server.parse_authn_request(
                    encoded,
                    BINDING_HTTP_REDIRECT,
                    relay_state=params.get("RelayState"),
                    sigalg=params.get("SigAlg"),
                    signature=params.get("Signature"),
                )
            else:
                parsed = server.parse_authn_request(encoded, BINDING_HTTP_POST)
        except Exception as error:  # noqa: BLE001 (pysaml2's many exception types)
            logger.info("Test IdP: AuthnRequest refused: %s", released(error))
            raise IdpError(
                "Begäran kunde inte godkännas (felaktig eller saknad underskrift, fel mottagare "
                "eller för gammal)."
            ) from None
        if parsed is None:
            raise IdpError("Begäran kunde inte läsas.")
        request = parsed.message
        sp_entity_id = (request.issuer.text or "").strip() if request.issuer else ""
        acs_url = request.assertion_consumer_service_url or ""
        known = [
            service["location"]
            for service in server.metadata.assertion_consumer_service(
                sp_entity_id, BINDING_HTTP_POST
            )
            or []
        ]
        if not acs_url and known:
            acs_url = known[0]
        if acs_url not in known:
            raise IdpError("Tjänstens svarsadress finns inte i dess metadata.")
        requested = [
            (ref.text or "").strip()
            for ref in getattr(request.requested_authn_context, "authn_context_class_ref", None)
            or []
        ]
        contexts = tuple(
            uri for uri in (requested or SUPPORTED_CONTEXTS[idp]) if uri in SUPPORTED_CONTEXTS[idp]
        )
        pending = PendingRequest(
            id=request.id,
            idp=idp,
            sp_entity_id=sp_entity_id,
            acs_url=acs_url,
            relay_state=params.get("RelayState", ""),
            contexts=contexts,
            received_at=time.monotonic(),
        )
        with self._lock:
            self._sweep()
            self._pending[pending.id] = pending
        return pending

    def pending(self) -> list[PendingRequest]:
        with self._lock:
            self._sweep()
            return list(self._pending.values())

    def take(self, request_id: str) -> PendingRequest:
        """The pending request ``request_id``, removed: each is answered once."""
        with self._lock:
            self._sweep()
            pending = self._pending.pop(request_id, None)
        if pending is None:
            raise IdpError(
                "Begäran finns inte (redan besvarad eller för gammal).", HTTPStatus.NOT_FOUND
            )
        return pending

    def _sweep(self) -> None:
        limit = time.monotonic() - PENDING_TTL_SECONDS
        for key in [key for key, value in self._pending.items() if value.received_at < limit]:
            del self._pending[key]

    # Answering

    def respond(
        self,
        request_id: str,
        person: SwedishPerson | ForeignPerson,
        *,
        context: str | None = None,
        options: ResponseOptions | None = None,
    ) -> PostForm:
        """Answer the pending request ``request_id``: ``person`` authenticated at ``context``
        (default: the first requested context this IdP meets)."""
        with self._lock:
            waiting = self._pending.get(request_id)
            if waiting is not None and context is not None and context not in waiting.contexts:
                raise IdpError("Den tillitsnivån begärdes inte.")
            pending = self.take(request_id)
        if not pending.contexts:
            # None of the requested levels is one this IdP can give (the profile, 5.4.4).
            return self._answer(
                pending,
                ResponseOptions(status=(attr.STATUS_REQUESTER, attr.STATUS_NO_AUTHN_CONTEXT)),
                person=None,
            )
        options = options or ResponseOptions()
        if options.authn_context is None:
            options = replace(options, authn_context=context or pending.contexts[0])
        return self._answer(pending, options, person=person)

    def cancel(self, request_id: str) -> PostForm:
        """Answer ``request_id`` with the framework's "the person cancelled" status."""
        return self._answer(
            self.take(request_id),
            ResponseOptions(status=(attr.STATUS_RESPONDER, attr.STATUS_CANCEL)),
            person=None,
        )

    def _answer(
        self,
        pending: PendingRequest,
        options: ResponseOptions,
        person: SwedishPerson | ForeignPerson | None,
    ) -> PostForm:
        xml = self.build_response(
            idp=pending.idp,
            request_id=pending.id,
            acs_url=pending.acs_url,
            sp_entity_id=pending.sp_entity_id,
            attributes=person.attributes() if person is not None else {},
            options=options,
        )
        return PostForm(
            url=options.destination or pending.acs_url,
            fields={
                "SAMLResponse": base64.b64encode(xml.encode("utf-8")).decode("ascii"),
                "RelayState": pending.relay_state,
            },
        )

    def build_response(
        self,
        *,
        idp: str,
        request_id: str,
        acs_url: str,
        sp_entity_id: str,
        attributes: Mapping[str, list[str]],
        options: ResponseOptions = ResponseOptions(),
    ) -> str:
        """A ``samlp:Response`` (XML) to ``request_id``, built as ``options`` say."""
        now = datetime.now(UTC)
        issuer = options.issuer or self.entity_id(idp)
        issued = options.issue_instant or now
        response = samlp.Response(
            id="_" + secrets.token_hex(16),
            version="2.0",
            issue_instant=_instant(issued),
            destination=options.destination or acs_url,
            in_response_to=options.in_response_to or request_id,
            issuer=saml.Issuer(text=issuer, format=NAMEID_FORMAT_ENTITY),
            status=_status(options.status),
        )
        signer = options.response_signer or self.keys.signing
        if options.status is not None:
            # An error answer carries no assertion (the profile, 6.4).
            if options.sign_response:
                response.signature = _signature_template(response.id, signer, options)
            return (
                self._sign(str(response), response, signer)
                if options.sign_response
                else str(response)
            )

        audience = options.audience or sp_entity_id
        until = options.not_on_or_after or now + ASSERTION_LIFETIME
        assertion = saml.Assertion(
            id=options.assertion_id or "_" + secrets.token_hex(16),
            version="2.0",
            issue_instant=_instant(issued),
            issuer=saml.Issuer(text=issuer, format=NAMEID_FORMAT_ENTITY),
            subject=saml.Subject(
                name_id=saml.NameID(
                    text="_" + secrets.token_hex(16),
                    format=NAMEID_FORMAT_TRANSIENT,
                    name_qualifier=issuer,
                    sp_name_qualifier=audience,
                ),
                subject_confirmation=[
                    saml.SubjectConfirmation(
                        method=SCM_BEARER,
                        subject_confirmation_data=saml.SubjectConfirmationData(
                            in_response_to=options.subject_in_response_to or request_id,
                            recipient=options.recipient or acs_url,
                            not_on_or_after=_instant(options.subject_not_on_or_after or until),
                            address="127.0.0.1",
                        ),
                    )
                ],
            ),
            conditions=saml.Conditions(
                not_before=_instant(options.not_before or issued - timedelta(seconds=5)),
                not_on_or_after=_instant(until),
                audience_restriction=[
                    saml.AudienceRestriction(audience=[saml.Audience(text=audience)])
                ],
            ),
            authn_statement=[
                saml.AuthnStatement(
                    authn_instant=_instant(options.authn_instant or issued),
                    session_index="_" + secrets.token_hex(8),
                    authn_context=saml.AuthnContext(
                        authn_context_class_ref=saml.AuthnContextClassRef(
                            text=options.authn_context or SUPPORTED_CONTEXTS[idp][1]
                        )
                    ),
                )
            ],
            attribute_statement=[
                saml.AttributeStatement(
                    attribute=[
                        saml.Attribute(
                            name=name,
                            name_format=attr.NAME_FORMAT_URI,
                            friendly_name=attr.FRIENDLY_NAMES.get(name),
                            attribute_value=[saml.AttributeValue(text=value) for value in values],
                        )
                        for name, values in (
                            options.attributes if options.attributes is not None else attributes
                        ).items()
                    ]
                )
            ],
        )
        response.assertion = assertion
        assertion_signer = options.assertion_signer or self.keys.signing
        if options.sign_response:
            response.signature = _signature_template(response.id, signer, options)
        if options.sign_assertion:
            assertion.signature = _signature_template(assertion.id, assertion_signer, options)
        if options.encrypt:
            # Self-contained: the assertion declares its own namespaces, so that it reads the same
            # once decrypted into any document (as Shibboleth-based IdPs do).
            assertion_tag = assertion._to_element_tree().tag
            xml = str(
                pre_encrypt_assertion(
                    response
                ).get_xml_string_with_self_contained_assertion_within_encrypted_assertion(
                    assertion_tag
                )
            )
        else:
            xml = str(response)
        if options.sign_assertion:
            xml = self._sign(xml, assertion, assertion_signer)
        if options.encrypt:
            xml = self._encrypt(
                xml,
                options.encryption_cert or self._sp_encryption_cert(idp, sp_entity_id),
                options.block_encryption,
            )
        if options.sign_response:
            xml = self._sign(xml, response, signer)
        return xml

    def _sign(self, xml: str, element: Any, signer: KeyPair) -> str:
        return str(
            self.crypto.sign_statement(
                xml, class_name(element), key_file=str(signer.key), node_id=element.id
            )
        )

    def _encrypt(self, xml: str, certificate: Path, algorithm: str) -> str:
        base64_cert = KeyPair(key=certificate, cert=certificate).certificate_base64()
        template = pre_encryption_part(
            msg_enc=algorithm, key_enc=attr.RSA_OAEP_MGF1P, encrypt_cert=base64_cert
        )
        return str(
            self.crypto.encrypt_assertion(
                xml,
                str(certificate),
                str(template),
                key_type=_SESSION_KEYS[algorithm],
                node_xpath=ASSERT_XPATH,
            )
        )

    def _sp_encryption_cert(self, idp: str, sp_entity_id: str) -> Path:
        """The SP's encryption certificate from its metadata, as a PEM file (xmlsec1 reads files)."""
        certificates = self.server(idp).metadata.certs(sp_entity_id, "spsso", "encryption")
        if not certificates:
            raise IdpError("Tjänsten har inget krypteringscertifikat i sin metadata.")
        text = "".join(certificates[0][1].split())
        with self._lock:
            path = self._cert_files.get(text)
            if path is None:
                path = Path(self._files.name) / f"sp-encryption-{len(self._cert_files)}.pem"
                lines = [text[index : index + 64] for index in range(0, len(text), 64)]
                path.write_text(
                    "-----BEGIN CERTIFICATE-----\n"
                    + "\n".join(lines)
                    + "\n-----END CERTIFICATE-----\n",
                    encoding="ascii",
                )
                self._cert_files[text] = path
            return path

    def close(self) -> None:
        """Remove the temporary files (the SP's certificates as PEM)."""
        self._files.cleanup()

    # People

    def person(self, personal_number: str) -> SwedishPerson:
        for candidate in self.people:
            if candidate.personal_number == personal_number:
                return candidate
        raise IdpError("Okänd person.")


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _signature_template(ident: str, signer: KeyPair, options: ResponseOptions) -> Any:
    return pre_signature_part(
        ident,
        signer.certificate_base64(),
        None,
        sign_alg=options.signature_algorithm,
        digest_alg=options.digest_algorithm,
    )


def _status(status: tuple[str, str | None] | None) -> Any:
    if status is None:
        return samlp.Status(status_code=samlp.StatusCode(value=attr.STATUS_SUCCESS))
    top, second = status
    return samlp.Status(
        status_code=samlp.StatusCode(
            value=top, status_code=samlp.StatusCode(value=second) if second else None
        ),
        status_message=samlp.StatusMessage(text="Legitimeringen genomfördes inte."),
    )


# --- HTTP ----------------------------------------------------------------------------------------

_STYLE: Final = (
    "body{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5;color:#1b1e23}fieldset{border:1px solid #ccc;margin:1rem 0;padding:.5rem 1rem}"
    "label{display:block;margin:.25rem 0}input[type=text],select{font:inherit;padding:.2rem}"
    "button{font:inherit;padding:.4rem 1rem;margin-right:.5rem}.note{color:#555;font-size:.9em}"
)
_AUTOSUBMIT_JS: Final = (
    b'"use strict";(function(){var f=document.querySelector("form[data-autosubmit]");'
    b"if(f){f.submit();}})();\n"
)
_LOGO_SVG: Final = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
    b'<rect width="64" height="64" rx="12" fill="#3a5a80"/><text x="32" y="40" font-size="20" '
    b'text-anchor="middle" fill="#fff" font-family="sans-serif">IdP</text></svg>'
)


def _page(title: str, body: str) -> bytes:
    return (
        '<!doctype html><html lang="sv"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<style>{_STYLE}</style><script src="/autosubmit.js" defer></script></head>'
        f"<body>{body}</body></html>"
    ).encode()


def _post_form_page(form: PostForm) -> bytes:
    fields = "".join(
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
        for name, value in form.fields.items()
    )
    return _page(
        "Tillbaka till tjänsten",
        "<h1>Tillbaka till tjänsten</h1>"
        f'<form method="post" action="{html.escape(form.url)}" data-autosubmit>{fields}'
        "<p>Du skickas tillbaka till tjänsten. Händer inget, välj Fortsätt.</p>"
        '<button type="submit">Fortsätt</button></form>',
    )


def _context_label(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def _login_page(state: IdpState, pending: PendingRequest) -> bytes:
    options = "".join(
        f'<option value="{html.escape(uri)}">{html.escape(_context_label(uri))}</option>'
        for uri in pending.contexts
    )
    if pending.idp == "se":
        choices = "".join(
            f'<label><input type="radio" name="person" value="{person.personal_number}"'
            f"{' checked' if index == 0 else ''}> {html.escape(person.given_name)} "
            f"{html.escape(person.surname)}, {person.personal_number[:8]}-"
            f"{person.personal_number[8:]}</label>"
            for index, person in enumerate(state.people)
        )
        people = f"<fieldset><legend>Välj person</legend>{choices}</fieldset>"
    else:
        choices = "".join(
            f'<label><input type="radio" name="person" value="{index}"'
            f"{' checked' if index == 0 else ''}> {html.escape(person.given_name)} "
            f"{html.escape(person.surname)} ({html.escape(person.eidas_person_identifier)}"
            + (
                f", kopplat personnummer {person.mapped_personal_number[:8]}-****"
                if person.mapped_personal_number
                else ""
            )
            + ")</label>"
            for index, person in enumerate(state.foreign_people)
        )
        people = (
            f"<fieldset><legend>Välj person</legend>{choices}"
            '<label><input type="radio" name="person" value="other"> Annan person:</label>'
            '<label>Land (två bokstäver) <input type="text" name="country" size="3" '
            'maxlength="2"></label>'
            '<label>Identitet i landet <input type="text" name="identifier"></label>'
            '<label>Förnamn <input type="text" name="given_name"></label>'
            '<label>Efternamn <input type="text" name="surname"></label>'
            '<label>Födelsedatum (ÅÅÅÅ-MM-DD) <input type="text" name="date_of_birth"></label>'
            "<label>Kopplat svenskt personnummer, 12 siffror (valfritt) "
            '<input type="text" name="mapped_personal_number"></label></fieldset>'
        )
    level = (
        f'<label>Tillitsnivå <select name="context">{options}</select></label>'
        if pending.contexts
        else "<p>Ingen av de begärda tillitsnivåerna kan ges här; välj Avbryt.</p>"
    )
    return _page(
        IDPS[pending.idp],
        f"<h1>{html.escape(IDPS[pending.idp])}</h1>"
        f"<p>Tjänsten <strong>{html.escape(pending.sp_entity_id)}</strong> vill att du "
        "legitimerar dig.</p>"
        '<p class="note">Testmiljö: inga riktiga e-legitimationer används.</p>'
        f'<form method="post" action="/idp/{pending.idp}/answer">'
        f'<input type="hidden" name="request" value="{html.escape(pending.id)}">'
        f"{people}{level}<p>"
        + (
            '<button type="submit" name="action" value="approve">Legitimera</button>'
            if pending.contexts
            else ""
        )
        + '<button type="submit" name="action" value="cancel">Avbryt</button></p></form>',
    )


def _foreign_from(values: Mapping[str, str], state: IdpState) -> ForeignPerson:
    choice = values.get("person", "0")
    if choice != "other":
        try:
            return state.foreign_people[int(choice)]
        except (ValueError, IndexError):
            raise IdpError("Välj en person.") from None
    country = values.get("country", "").strip().upper()
    identifier = values.get("identifier", "").strip()
    given_name = values.get("given_name", "").strip()
    surname = values.get("surname", "").strip()
    birth = values.get("date_of_birth", "").strip() or "1980-01-01"
    mapped = values.get("mapped_personal_number", "").strip() or None
    if not re.fullmatch(r"[A-Z]{2}", country) or country == "SE":
        raise IdpError("Ange landet som två bokstäver (inte SE).")
    if not re.fullmatch(r"[A-Za-z0-9+/=\-._:]{1,200}", identifier):
        raise IdpError("Ange personens identitet i landet (bokstäver och siffror).")
    if not given_name or not surname:
        raise IdpError("Ange förnamn och efternamn.")
    try:
        date.fromisoformat(birth)
    except ValueError:
        raise IdpError("Ange födelsedatum som ÅÅÅÅ-MM-DD.") from None
    if mapped is not None and not _PERSONAL_NUMBER.fullmatch(mapped):
        raise IdpError("Ett kopplat personnummer skrivs med 12 siffror.")
    return ForeignPerson(country, identifier, given_name[:100], surname[:100], birth, mapped)


class _Server(localserver.LocalServer):
    label = "Test IdP"
    log = logger

    state: IdpState


class _Handler(localserver.LocalHandler):
    server_version = "PortalTestIdP/1.0"
    server: _Server

    failure_text = b"Ett fel uppstod i test-IdP:n."
    page_headers = _PAGE_HEADERS

    def _handle(self) -> None:
        path = urlsplit(self.path).path
        self._serve_request(lambda: self._route_or_refuse(path), path)

    def _route_or_refuse(self, path: str) -> int:
        try:
            return self._route(path)
        except IdpError as error:
            if path.startswith("/control/"):
                return self._send_json(error.status, {"error": error.message})
            return self._send_page(
                error.status,
                _page("Fel", f"<h1>Det gick inte</h1><p>{html.escape(error.message)}</p>"),
            )

    def _route(self, path: str) -> int:  # noqa: PLR0911 (one branch per endpoint)
        state = self.server.state
        self._check_host()
        if path == METADATA_PATH and self.command in {"GET", "HEAD"}:
            return self._send(
                HTTPStatus.OK, state.metadata_xml().encode("utf-8"), "application/samlmetadata+xml"
            )
        if path == "/autosubmit.js":
            return self._send(HTTPStatus.OK, _AUTOSUBMIT_JS, "text/javascript; charset=utf-8")
        if path == "/logo.svg":
            return self._send(HTTPStatus.OK, _LOGO_SVG, "image/svg+xml")
        if path == "/":
            return self._send_page(HTTPStatus.OK, self._index())
        if re.fullmatch(r"/idp/(se|eidas)/sso/redirect", path) and self.command == "GET":
            pending = state.receive(self.path)
            return self._send_page(HTTPStatus.OK, _login_page(state, pending))
        match = re.fullmatch(r"/idp/(se|eidas)/(sso/post|answer)", path)
        if match and self.command == "POST":
            values = self._form()
            if match.group(2) == "sso/post":
                pending = state.receive(path, values)
                return self._send_page(HTTPStatus.OK, _login_page(state, pending))
            form = self._answer(match.group(1), values)
            return self._send_page(HTTPStatus.OK, _post_form_page(form))
        if path == "/control/requests" and self.command == "GET":
            return self._send_json(
                HTTPStatus.OK,
                [
                    {
                        "id": pending.id,
                        "idp": pending.idp,
                        "sp": pending.sp_entity_id,
                        "acsUrl": pending.acs_url,
                        "relayState": pending.relay_state,
                        "contexts": list(pending.contexts),
                    }
                    for pending in state.pending()
                ],
            )
        if path == "/control/receive" and self.command == "POST":
            body = self._json()
            pending = state.receive(str(body.get("url", "")), body.get("form") or None)
            return self._send_json(
                HTTPStatus.OK, {"id": pending.id, "contexts": list(pending.contexts)}
            )
        if path == "/control/respond" and self.command == "POST":
            form = self._control_respond(self._json())
            return self._send_json(HTTPStatus.OK, {"url": form.url, **form.fields})
        raise IdpError("Sidan finns inte.", HTTPStatus.NOT_FOUND)

    def _answer(self, idp: str, values: Mapping[str, str]) -> PostForm:
        state = self.server.state
        request_id = values.get("request", "")
        if values.get("action") == "cancel":
            return state.cancel(request_id)
        person: SwedishPerson | ForeignPerson
        if idp == "se":
            person = state.person(values.get("person", ""))
        else:
            person = _foreign_from(values, state)
        return state.respond(request_id, person, context=values.get("context") or None)

    def _control_respond(self, body: Mapping[str, Any]) -> PostForm:
        state = self.server.state
        request_id = str(body.get("request_id", ""))
        if body.get("action") == "cancel":
            return state.cancel(request_id)
        foreign = body.get("foreign")
        person: SwedishPerson | ForeignPerson
        if isinstance(foreign, dict):
            person = _foreign_from(
                {"person": "other", **{key: str(value) for key, value in foreign.items()}}, state
            )
        else:
            person = state.person(str(body.get("personal_number", "")))
        context = body.get("context")
        return state.respond(request_id, person, context=str(context) if context else None)

    def _index(self) -> bytes:
        state = self.server.state
        items = "".join(
            f"<li>{html.escape(name)}: <code>{html.escape(state.entity_id(idp))}</code></li>"
            for idp, name in IDPS.items()
        )
        return _page(
            "Test-IdP",
            "<h1>Test-IdP för Sweden Connect</h1>"
            f'<ul>{items}</ul><p><a href="{METADATA_PATH}">Metadata</a> (underskriven).</p>',
        )

    def _check_host(self) -> None:
        if not self._local_host():
            raise IdpError("Fel värd.", HTTPStatus.MISDIRECTED_REQUEST)

    def _body(self) -> bytes:
        length_text = self.headers.get("Content-Length") or "0"
        if not (length_text.isascii() and length_text.isdigit()):
            raise IdpError("Content-Length är inte ett tal.")
        length = int(length_text)
        if length > _MAX_BODY_BYTES:
            self.close_connection = True
            raise IdpError("För stor begäran.", HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        return self.rfile.read(length)

    def _form(self) -> dict[str, str]:
        text = self._body().decode("utf-8", errors="replace")
        return {key: values[0] for key, values in parse_qs(text, keep_blank_values=True).items()}

    def _json(self) -> dict[str, Any]:
        try:
            body = json.loads(self._body() or b"{}")
        except ValueError:
            raise IdpError("Kroppen är inte JSON.") from None
        if not isinstance(body, dict):
            raise IdpError("Kroppen ska vara ett JSON-objekt.")
        return body


class RunningIdp(localserver.RunningServers):
    """A started test IdP; ``stop()`` it, or use ``with``."""

    def __init__(self, *, state: IdpState, server: _Server) -> None:
        self.state = state
        self.url = state.base_url
        super().__init__({"saml-test-idp": server})

    @property
    def metadata_url(self) -> str:
        return self.state.metadata_url

    @property
    def metadata_signing_cert(self) -> Path:
        return self.state.keys.metadata_signing.cert

    def entity_id(self, idp: str) -> str:
        return self.state.entity_id(idp)

    def _after_shutdown(self) -> None:
        self.state.close()


def start_idp(
    *,
    keys: IdpKeys,
    sp_metadata: str | Callable[[], str],
    port: int = 0,
    people: Iterable[PersonLike] = (),
    foreign_people: Iterable[ForeignPerson] = FOREIGN_DEMO_PEOPLE,
    xmlsec_binary: str = "/usr/bin/xmlsec1",
) -> RunningIdp:
    """Start the test IdP on 127.0.0.1 (plain HTTP; port 0 picks a free port).

    ``sp_metadata`` is the portal's SP metadata, or a function returning it (called for each
    request, so a changed SP is picked up).
    """
    server = _Server(("127.0.0.1", port), _Handler)
    state = IdpState(
        keys=keys,
        base_url=f"http://127.0.0.1:{server.server_port}",
        sp_metadata=sp_metadata,
        xmlsec_binary=xmlsec_binary,
        people=people,
        foreign_people=foreign_people,
    )
    server.state = state
    return RunningIdp(state=state, server=server)
