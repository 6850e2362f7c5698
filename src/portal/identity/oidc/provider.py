"""Sweden Connect over OpenID Connect behind the provider interface (a redirect flow).

``start`` builds the authentication request (authorization code flow, PKCE S256, a nonce, the
order's public id as ``state``, the acceptable assurance levels as ``acr_values``); the nonce and the
PKCE verifier stay on the server in ``Started.secrets``. ``finish`` takes the query parameters the
browser brings back to the callback (``code``, ``state``, maybe ``iss``; or ``error``), redeems the
code, checks the ID token and the signed UserInfo, and returns who the person is.

Identity claims used, in this order:

* ``https://id.oidc.se/claim/personalIdentityNumber`` or ``.../coordinationNumber`` (a Swedish
  e-ID), as the personal number;
* for a person with a foreign e-ID through Sweden Connect's eIDAS connector:
  ``https://id.swedenconnect.se/claim/eidasPersonIdentifier`` (``eidas_identifier``), ``prid``,
  ``pridPersistence`` and ``eidasCountry`` (kept in ``attributes``), and, when the connector has
  bound the person to the Swedish population register, ``mappedPersonalIdentityNumber`` or
  ``mappedCoordinationNumber`` as the personal number (the binding process is kept in
  ``attributes["identity_binding"]``).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from portal.identity.eidas_identifiers import InvalidEidasIdentifier, normalise_eidas_identifier
from portal.identity.numbers import InvalidPersonalNumber, normalise_personal_number
from portal.identity.oidc.client import (
    CLAIM_COORDINATION_NUMBER,
    CLAIM_COORDINATION_NUMBER_LEVEL,
    CLAIM_EIDAS_COUNTRY,
    CLAIM_EIDAS_PERSON_IDENTIFIER,
    CLAIM_IDENTITY_BINDING,
    CLAIM_MAPPED_COORDINATION_NUMBER,
    CLAIM_MAPPED_PERSONAL_NUMBER,
    CLAIM_PERSONAL_NUMBER,
    CLAIM_PRID,
    CLAIM_PRID_PERSISTENCE,
    Authentication,
    OidcClient,
    OidcError,
)
from portal.identity.oidc.keys import UnusableKeyError, client_key
from portal.identity.providers.base import (
    LOA_URIS,
    Assurance,
    IdentityRejected,
    ProviderError,
    Redirect,
    RedirectIdentityProvider,
    Started,
    StartRequest,
    VerifiedIdentity,
    loa_uris_at_least,
)

logger = structlog.get_logger(__name__)

#: Authorization error codes that mean the person did not finish (OpenID Connect Core 3.1.2.6).
_CANCEL_ERRORS = frozenset({"access_denied"})
_UNMET_ERRORS = frozenset({"unmet_authentication_requirements"})
_TRANSIENT = frozenset({"provider-unreachable"})
#: The longest an accepted ID token is remembered (to refuse it a second time).
_REPLAY_MEMORY_MAX = 86400.0
#: Where each claim goes in ``VerifiedIdentity.attributes``.
_ATTRIBUTES = {
    "sub": "sub",
    "acr": "acr",
    "auth_time": "auth_time",
    "birthdate": "birthdate",
    CLAIM_PRID: "prid",
    CLAIM_PRID_PERSISTENCE: "prid_persistence",
    CLAIM_EIDAS_COUNTRY: "country",
    CLAIM_IDENTITY_BINDING: "identity_binding",
    CLAIM_COORDINATION_NUMBER_LEVEL: "coordination_number_level",
}


@cache
def shared_client() -> OidcClient:
    """One client (metadata, keys and connection pool) per process."""
    return OidcClient(
        issuer=settings.OIDC_ISSUER,
        client_id=settings.OIDC_CLIENT_ID,
        client_key=client_key,
        timeout=settings.OIDC_TIMEOUT_SECONDS,
        ca_cert=settings.OIDC_CA_CERT,
        scopes=settings.OIDC_SCOPES,
        signed_request=settings.OIDC_SIGNED_REQUEST,
    )


def reset_shared_client() -> None:
    """Close and forget the shared client and the cached client key, so the next call reads the
    settings again (and fetches the provider's metadata and keys again)."""
    if shared_client.cache_info().currsize:
        shared_client().close()
    shared_client.cache_clear()
    client_key.cache_clear()


def _rejection_message(reason: str) -> str:
    messages = {
        "cancelled": _("Du avbröt inloggningen hos Sweden Connect."),
        "assurance-too-low": _(
            "Din e-legitimation har inte tillräckligt hög tillitsnivå för det här. "
            "Använd en e-legitimation med högre tillitsnivå."
        ),
        "state-mismatch": _(
            "Svaret hörde inte till den här inloggningen. Börja om och logga in igen."
        ),
        "provider-unreachable": _(
            "Sweden Connect gick inte att nå just nu. Försök igen om en stund eller välj en "
            "annan e-legitimation."
        ),
        "provider-error": _(
            "Inloggningen hos Sweden Connect kunde inte genomföras. Försök igen eller välj en "
            "annan e-legitimation."
        ),
        "invalid-personal-number": _("E-legitimationen gav ett personnummer som inte är giltigt."),
    }
    return messages.get(reason) or _(
        "Svaret från Sweden Connect kunde inte godkännas. Försök igen eller välj en annan "
        "e-legitimation."
    )


def _reject(reason: str, *, cancelled: bool = False) -> IdentityRejected:
    return IdentityRejected(reason, _rejection_message(reason), cancelled=cancelled)


class OidcProvider(RedirectIdentityProvider):
    code = "oidc"
    name = "Sweden Connect"
    # The default; the level of each login is the ID token's acr.
    assurance = Assurance.LOA3

    def __init__(self, client: OidcClient | None = None) -> None:
        self._client = client

    @property
    def client(self) -> OidcClient:
        return self._client or shared_client()

    def message(self, key: str) -> str:
        if key == "unavailable":
            return _rejection_message("provider-unreachable")
        if key == "configuration":
            return _(
                "Inloggning med Sweden Connect fungerar inte just nu. Välj en annan e-legitimation."
            )
        if key == "CANCELLED":
            return _rejection_message("cancelled")
        if key == "REFUSED":
            return _rejection_message("bad-answer")
        return _rejection_message(key)

    # --- start ---------------------------------------------------------------------------------

    def start(self, request: StartRequest) -> Started:
        if not request.state or not request.callback_url:
            raise ProviderError("configuration", "configuration", transient=False)
        try:
            client = self.client
            authorization = client.authorization_request(
                redirect_uri=request.callback_url,
                state=request.state,
                acr_values=loa_uris_at_least(request.minimum),
            )
        except OidcError as error:
            logger.warning("oidc_start_failed", reason=error.reason)
            transient = error.reason in _TRANSIENT
            raise ProviderError(
                error.reason, "unavailable" if transient else "configuration", transient=transient
            ) from None
        except UnusableKeyError:
            logger.exception("oidc_client_key_unusable")
            raise ProviderError("configuration", "configuration", transient=False) from None
        return Started(
            transaction_id=authorization.nonce,
            secrets={
                "nonce": authorization.nonce,
                "code_verifier": authorization.code_verifier,
                "issuer": client.issuer,
            },
            redirect=Redirect(authorization.url),
        )

    # --- the answer ----------------------------------------------------------------------------

    def response_state(self, params: Mapping[str, str]) -> str:
        return str(params.get("state", ""))

    def finish(
        self, started: Started, params: Mapping[str, str], request: StartRequest
    ) -> VerifiedIdentity:
        state = str(params.get("state", ""))
        if not request.state or not hmac.compare_digest(state, request.state):
            raise _reject("state-mismatch")
        error = str(params.get("error", ""))
        if error:
            logger.info("oidc_authorization_error", error=error[:64])
            if error in _CANCEL_ERRORS:
                raise _reject("cancelled", cancelled=True)
            if error in _UNMET_ERRORS:
                raise _reject("assurance-too-low")
            raise _reject("provider-error")
        nonce = started.secrets.get("nonce", "")
        verifier = started.secrets.get("code_verifier", "")
        code = str(params.get("code", ""))
        if not code or not nonce or not verifier:
            raise _reject("bad-answer")
        try:
            client = self.client
            if started.secrets.get("issuer", client.issuer) != client.issuer:
                # The configuration changed between start and finish.
                raise _reject("wrong-issuer")
            # RFC 9207: an answer that names its issuer must name this one (mix-up attacks).
            if "iss" in params and params["iss"] != client.issuer:
                raise _reject("wrong-issuer")
            result = client.authenticate(
                code=code,
                redirect_uri=request.callback_url,
                code_verifier=verifier,
                nonce=nonce,
            )
        except OidcError as failure:
            logger.warning("oidc_answer_refused", reason=failure.reason)
            raise _reject(failure.reason) from None
        except UnusableKeyError:
            logger.exception("oidc_client_key_unusable")
            raise _reject("provider-error") from None
        except IdentityRejected:
            raise
        except Exception:  # a hostile answer through third-party parsers: refused, never a 500
            logger.exception("oidc_answer_unexpected_error")
            raise _reject("provider-error") from None
        assurance = _assurance(result, request.minimum)
        _remember(result)
        return _identity(result, assurance)


def _assurance(result: Authentication, minimum: Assurance) -> Assurance:
    acr = result.id_token.get("acr")
    level = LOA_URIS.get(acr) if isinstance(acr, str) else None
    if level is None:
        logger.warning("oidc_answer_refused", reason="unknown-acr")
        raise _reject("unknown-acr")
    if level.rank < minimum.rank:
        logger.warning("oidc_answer_refused", reason="assurance-too-low", level=level.value)
        raise _reject("assurance-too-low")
    return level


def _remember(result: Authentication) -> None:
    """Accept each ID token once: a second use (a replayed token) is refused."""
    from portal.identity.models import UsedAssertion  # noqa: PLC0415 -- models need the app registry

    claims = result.id_token
    identifier = str(claims.get("jti") or "") or result.raw_id_token
    digest = hashlib.sha256(f"{claims['iss']}\n{identifier}".encode()).hexdigest()
    # Kept until the token would have expired anyway (and never for more than a day: the ID
    # token's own iat is at most minutes old, so a far exp is the provider's mistake).
    now = time.time()
    expires = min(float(claims["exp"]), now + _REPLAY_MEMORY_MAX)
    try:
        with transaction.atomic():
            UsedAssertion.objects.create(
                issuer="oidc",
                assertion_id=digest,
                expires_at=datetime.fromtimestamp(expires, tz=UTC),
            )
    except IntegrityError:
        logger.warning("oidc_answer_refused", reason="replayed")
        raise _reject("replayed") from None


def _number(claims: Mapping[str, Any], *names: str) -> tuple[str | None, str | None]:
    """The first of ``names`` present, normalised to 12 digits, and which claim it was."""
    for name in names:
        value = claims.get(name)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise _reject("invalid-personal-number")
        try:
            return normalise_personal_number(value), name
        except InvalidPersonalNumber:
            logger.warning("oidc_answer_refused", reason="invalid-personal-number")
            raise _reject("invalid-personal-number") from None
    return None, None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _identity(result: Authentication, assurance: Assurance) -> VerifiedIdentity:
    claims = result.claims()
    attributes: dict[str, Any] = {
        attribute: claims[claim]
        for claim, attribute in _ATTRIBUTES.items()
        if isinstance(claims.get(claim), (str, int, float)) and not isinstance(claims[claim], bool)
    }
    # A Swedish e-ID's own number first; a foreign e-ID's number bound to the population register
    # only when the binding was made by a process the agency accepts.
    personal_number, source = _number(claims, CLAIM_PERSONAL_NUMBER, CLAIM_COORDINATION_NUMBER)
    if personal_number is None and _binding_accepted(claims.get(CLAIM_IDENTITY_BINDING)):
        personal_number, source = _number(
            claims, CLAIM_MAPPED_PERSONAL_NUMBER, CLAIM_MAPPED_COORDINATION_NUMBER
        )
    if source is not None:
        attributes["personal_number_claim"] = source
        attributes["coordination_number"] = source in {
            CLAIM_COORDINATION_NUMBER,
            CLAIM_MAPPED_COORDINATION_NUMBER,
        }
        attributes["mapped"] = source in {
            CLAIM_MAPPED_PERSONAL_NUMBER,
            CLAIM_MAPPED_COORDINATION_NUMBER,
        }
    eidas_identifier: str | None = None
    if claims.get(CLAIM_EIDAS_PERSON_IDENTIFIER) is not None:
        try:
            eidas_identifier = normalise_eidas_identifier(
                _text(claims.get(CLAIM_EIDAS_PERSON_IDENTIFIER))
            )
        except InvalidEidasIdentifier:
            logger.warning("oidc_answer_refused", reason="invalid-eidas-identifier")
            raise _reject("invalid-eidas-identifier") from None
    jti = result.id_token.get("jti")
    transaction_id = (
        str(jti)
        if isinstance(jti, str) and jti
        else "sha256:" + hashlib.sha256(result.raw_id_token.encode()).hexdigest()[:32]
    )
    return VerifiedIdentity(
        issuer="oidc",
        assurance=assurance,
        transaction_id=transaction_id[:128],
        personal_number=personal_number,
        given_name=_text(claims.get("given_name")),
        surname=_text(claims.get("family_name")),
        eidas_identifier=eidas_identifier,
        attributes=attributes,
    )


def _binding_accepted(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    processes = {uri.strip() for uri in value.split(";") if uri.strip()}
    return bool(processes & set(settings.OIDC_EIDAS_ACCEPTED_PNR_BINDINGS))
