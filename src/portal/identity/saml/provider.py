"""Sweden Connect over SAML, and its eIDAS connector, behind the provider interface.

``start`` makes a signed ``AuthnRequest`` (HTTP-POST binding by default: an auto-submitted form;
``SAML_REQUEST_BINDING=redirect`` sends a signed query string instead) and ``finish`` checks the
``SAMLResponse`` the IdP posts back to ``/logga-in/<code>/svar`` (``response.check_response``, then
pysaml2's own processing of the same response, then replay). The two providers differ in the IdP
they send people to, the assurance contexts they ask for, and who they accept:

* ``saml``: Swedish identity providers, ``loa2``..``loa4`` of the Swedish framework; a Swedish
  personal identity number (or coordination number) is required;
* ``eidas``: the eIDAS connector, only *notified* eIDAS levels (``eidas-nf-sub``/``-high``); the
  eIDAS person identifier is required, and the connector's mapped personal identity number is
  used as the personal number when it was bound by an accepted process.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import structlog
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from saml2 import BINDING_HTTP_POST  # type: ignore[import-untyped]

from portal.identity.eidas_identifiers import InvalidEidasIdentifier, normalise_eidas_identifier
from portal.identity.numbers import InvalidPersonalNumber, normalise_personal_number
from portal.identity.providers.base import (
    Assurance,
    ProviderError,
    RedirectIdentityProvider,
    Started,
    StartRequest,
    VerifiedIdentity,
    loa_uris_at_least,
)
from portal.identity.saml import attributes as attr
from portal.identity.saml.failures import released
from portal.identity.saml.metadata import MetadataError
from portal.identity.saml.response import (
    CheckedAssertion,
    Expectation,
    check_response,
    rejected,
)
from portal.identity.saml.sp import ServiceProvider, shared_service_provider

logger = structlog.get_logger(__name__)

#: An assertion ID longer than the replay table holds is refused, never truncated.
MAX_ASSERTION_ID_LENGTH = 256


class SamlProvider(RedirectIdentityProvider):
    """Swedish e-ID through Sweden Connect's identity providers, over SAML."""

    code = "saml"
    name = "Sweden Connect"
    # The federation's identity providers are approved at loa3 (some at loa4).
    assurance = Assurance.LOA3
    #: Which of the framework's context URIs this provider asks for.
    context_marker: ClassVar[str] = "/loa/1.0/loa"

    def __init__(self, service_provider: ServiceProvider | None = None) -> None:
        self._service_provider = service_provider

    @property
    def service_provider(self) -> ServiceProvider:
        return self._service_provider or shared_service_provider()

    @property
    def idp_entity_id(self) -> str:
        return self.service_provider.settings.idp_entity_ids[self.code]

    def contexts(self, minimum: Assurance) -> tuple[str, ...]:
        """The AuthnContextClassRef URIs requested for ``minimum`` (Comparison="exact")."""
        return tuple(uri for uri in loa_uris_at_least(minimum) if self.context_marker in uri)

    # --- Start ----------------------------------------------------------------------------------

    def start(self, request: StartRequest) -> Started:
        service_provider = self.service_provider
        try:
            info = service_provider.authn_request(
                idp_entity_id=self.idp_entity_id,
                acs_url=service_provider.acs_url(self.code, request.callback_url),
                contexts=self.contexts(request.minimum),
                relay_state=request.state,
            )
        except MetadataError as error:
            raise ProviderError(
                "metadata",
                "unavailable" if error.transient else "misconfigured",
                transient=error.transient,
            ) from None
        except Exception:  # xmlsec1 missing or failing, unreadable keys: configuration
            logger.exception("saml_authn_request_failed", provider=self.code)
            raise ProviderError("request", "misconfigured", transient=False) from None
        return Started(
            transaction_id=info.request_id,
            secrets={
                "request_id": info.request_id,
                "acs_url": info.acs_url,
                "contexts": " ".join(info.contexts),
                "issued_at": info.issued_at.isoformat(),
            },
            redirect=info.redirect,
        )

    def response_state(self, params: Mapping[str, str]) -> str:
        return params.get("RelayState", "")

    def message(self, key: str) -> str:
        if key == "unavailable":
            return _(
                "Inloggning via %(name)s fungerar inte just nu. Försök igen om en stund eller välj "
                "en annan e-legitimation."
            ) % {"name": self.name}
        return _(
            "Inloggning via %(name)s kan inte användas just nu. Välj en annan e-legitimation."
        ) % {"name": self.name}

    # --- Finish ---------------------------------------------------------------------------------

    def finish(
        self, started: Started, params: Mapping[str, str], request: StartRequest
    ) -> VerifiedIdentity:
        secrets = started.secrets
        request_id = secrets.get("request_id", "")
        if not request_id or request_id != started.transaction_id:
            raise rejected("in-response-to-mismatch")
        service_provider = self.service_provider
        try:
            client = service_provider.client()
        except MetadataError:
            raise rejected("metadata-unavailable") from None
        except Exception:  # unreadable keys, xmlsec1 missing: configuration, logged
            logger.exception("saml_sp_unusable", provider=self.code)
            raise rejected("metadata-unavailable") from None
        try:
            issued_at: datetime | None = datetime.fromisoformat(secrets.get("issued_at", ""))
        except ValueError:
            issued_at = None
        expected = Expectation(
            idp_entity_id=self.idp_entity_id,
            sp_entity_id=service_provider.settings.entity_id,
            request_id=request_id,
            acs_url=secrets.get("acs_url") or service_provider.acs_url(self.code),
            contexts=tuple(secrets.get("contexts", "").split()),
            minimum=request.minimum,
            issued_at=issued_at,
        )
        encoded = params.get("SAMLResponse", "")
        checked = check_response(
            encoded,
            client=client,
            expected=expected,
            decryption_keys=service_provider.settings.previous_encryption_keys,
        )
        self._check_with_pysaml2(client, encoded, expected)
        identity = self.identity(checked)
        self._accept_once(checked)
        return identity

    def _check_with_pysaml2(self, client: Any, encoded: str, expected: Expectation) -> None:
        """pysaml2's own processing of the same response, as a second opinion: it has passed
        every check above, so a refusal here means something those checks do not cover."""
        previous = [
            {"key": _read(path)} for path in self.service_provider.settings.previous_encryption_keys
        ]
        try:
            parsed = client.parse_authn_request_response(
                encoded,
                BINDING_HTTP_POST,
                outstanding={expected.request_id: expected.acs_url},
                outstanding_certs={expected.request_id: previous} if previous else None,
            )
        except Exception as error:  # noqa: BLE001 (pysaml2's many exception types)
            logger.warning("saml_pysaml2_refused", provider=self.code, error=released(error))
            raise rejected("invalid") from None
        if parsed is None:
            logger.warning("saml_pysaml2_refused", provider=self.code, error="None")
            raise rejected("invalid")

    def _accept_once(self, checked: CheckedAssertion) -> None:
        """Record the assertion; one already recorded is a replay (the profile, 6.3.5)."""
        from portal.identity.models import UsedAssertion  # noqa: PLC0415 (models load after apps)

        if len(checked.assertion_id) > MAX_ASSERTION_ID_LENGTH:
            raise rejected("malformed")
        try:
            with transaction.atomic():
                UsedAssertion.objects.create(
                    issuer=self.code,
                    assertion_id=checked.assertion_id,
                    expires_at=checked.not_on_or_after,
                )
        except IntegrityError:
            raise rejected("replayed") from None

    # --- Attributes -----------------------------------------------------------------------------

    def identity(self, checked: CheckedAssertion) -> VerifiedIdentity:
        """Who the assertion says the person is; a Swedish personal number is required."""
        values = checked.attributes
        try:
            personal_number = normalise_personal_number(
                _first(values, attr.PERSONAL_IDENTITY_NUMBER)
            )
        except InvalidPersonalNumber:
            raise rejected("missing-personal-number") from None
        return VerifiedIdentity(
            issuer=self.code,
            assurance=checked.assurance,
            transaction_id=checked.assertion_id,
            personal_number=personal_number,
            given_name=_first(values, attr.GIVEN_NAME),
            surname=_first(values, attr.SURNAME),
            attributes=self._attributes(checked, (attr.DISPLAY_NAME, attr.DATE_OF_BIRTH)),
        )

    def _attributes(self, checked: CheckedAssertion, names: tuple[str, ...]) -> dict[str, Any]:
        kept: dict[str, Any] = {
            "authnContextClassRef": checked.authn_context,
            "idp": checked.issuer,
            "authnInstant": checked.authn_instant.isoformat(),
        }
        for name in names:
            value = _first(checked.attributes, name)
            if value:
                kept[attr.FRIENDLY_NAMES[name]] = value
        return kept


class EidasProvider(SamlProvider):
    """Foreign e-ID (EU/EEA) through Sweden Connect's eIDAS connector."""

    code = "eidas"
    name = "Utländsk e-legitimation (eIDAS)"
    # eIDAS substantial, from a notified scheme, is level 3 here.
    assurance = Assurance.LOA3
    # Notified schemes only: eidas-nf-sub (loa3) and eidas-nf-high (loa4).
    context_marker: ClassVar[str] = "/loa/1.0/eidas-nf-"

    def identity(self, checked: CheckedAssertion) -> VerifiedIdentity:
        values = checked.attributes
        try:
            eidas_identifier = normalise_eidas_identifier(
                _first(values, attr.EIDAS_PERSON_IDENTIFIER)
            )
        except InvalidEidasIdentifier:
            raise rejected("missing-identifier") from None
        bindings = {
            uri.strip()
            for value in values.get(attr.PERSONAL_IDENTITY_NUMBER_BINDING, [])
            for uri in value.split(";")
            if uri.strip()
        }
        accepted = bindings & set(self.service_provider.settings.accepted_pnr_bindings)
        personal_number: str | None = None
        mapped = _first(values, attr.MAPPED_PERSONAL_IDENTITY_NUMBER)
        if mapped and accepted:
            try:
                personal_number = normalise_personal_number(mapped)
            except InvalidPersonalNumber:
                personal_number = None
        kept = self._attributes(
            checked,
            (
                attr.PRID,
                attr.PRID_PERSISTENCE,
                attr.COUNTRY,
                attr.DATE_OF_BIRTH,
                attr.DISPLAY_NAME,
            ),
        )
        if personal_number:
            kept["personalIdentityNumberBinding"] = sorted(accepted)
        return VerifiedIdentity(
            issuer=self.code,
            assurance=checked.assurance,
            transaction_id=checked.assertion_id,
            personal_number=personal_number,
            given_name=_first(values, attr.GIVEN_NAME),
            surname=_first(values, attr.SURNAME),
            eidas_identifier=eidas_identifier,
            attributes=kept,
        )


def _first(values: Mapping[str, list[str]], name: str) -> str:
    found = values.get(name) or [""]
    return found[0]


def _read(path: str) -> str:
    with open(path, encoding="ascii") as handle:  # noqa: PTH123
        return handle.read()
