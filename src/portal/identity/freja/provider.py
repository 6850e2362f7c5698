"""Freja eID+ behind the provider interface (a polling flow, like BankID).

``start`` begins an INFERRED authentication (whoever scans the QR code or opens the link, at
registration level PLUS, with name, identity number and registration level returned); ``poll``
reads the result; ``cancel`` cancels it. The QR code and the app link are the same
``frejaeid://bindUserToTransaction?transactionReference=<authRef>``; Freja's QR code is not
animated. In development (``PORTAL_EID_SIMULATOR``), "on this device" leads to the simulator's
test app instead of the Freja eID app.

Signing is not offered: Freja's signature service needs the signer named in advance (email, phone
or identity number; INFERRED is for authentication only), which ``StartRequest`` does not carry.
"""

from __future__ import annotations

from functools import cache
from urllib.parse import quote

import structlog
from django.conf import settings

from portal.identity.freja import messages
from portal.identity.freja.client import (
    AnswerRefused,
    AuthRequest,
    AuthResult,
    FrejaClient,
    FrejaError,
)
from portal.identity.numbers import InvalidPersonalNumber, normalise_personal_number
from portal.identity.providers.base import (
    Assurance,
    IdentityProvider,
    Progress,
    ProviderError,
    Started,
    StartRequest,
    VerifiedIdentity,
)

logger = structlog.get_logger(__name__)

APP_LINK = "frejaeid://bindUserToTransaction?transactionReference={ref}"

#: Final statuses other than APPROVED, as (hint code, message key).
_FAILED: dict[str, tuple[str, str]] = {
    "CANCELED": ("userCancel", "userCancel"),
    "RP_CANCELED": ("cancelled", "cancelled"),
    "EXPIRED": ("expiredTransaction", "expiredTransaction"),
    "REJECTED": ("rejected", "rejected"),
}


@cache
def shared_client() -> FrejaClient:
    """One client (and TLS connection pool) per process."""
    return FrejaClient(
        base_url=settings.FREJA_API_URL,
        client_cert=settings.FREJA_CLIENT_CERT,
        client_key=settings.FREJA_CLIENT_KEY,
        ca_cert=settings.FREJA_CA_CERT,
        signing_cert=settings.FREJA_SIGNING_CERT,
        timeout=settings.FREJA_TIMEOUT_SECONDS,
    )


def reset_shared_client() -> None:
    """Close and forget the shared client, so the next call reads the settings again."""
    if shared_client.cache_info().currsize:
        shared_client().close()
    shared_client.cache_clear()


def app_link(auth_ref: str) -> str:
    """Freja's link (and QR code content) that binds the app's user to the transaction."""
    return APP_LINK.format(ref=quote(auth_ref, safe=""))


def _error(error: FrejaError) -> ProviderError:
    if error.transient:
        key = "unavailable"
    elif error.code == "authInitFailed":
        key = "rejected"
    else:
        key = "error"
    return ProviderError(error.code, key, transient=error.transient)


def _personal_number(country: str | None, ssn: str | None) -> str | None:
    """The 12-digit Swedish personal or coordination number, or None (foreign, missing, invalid)."""
    if country != "SE" or not ssn:
        return None
    try:
        return normalise_personal_number(ssn)
    except InvalidPersonalNumber:
        return None


class FrejaProvider(IdentityProvider):
    code = "freja"
    name = "Freja eID+"
    # Freja eID+ (registration level PLUS) is approved at the Swedish trust framework's level 3.
    assurance = Assurance.LOA3

    def __init__(self, client: FrejaClient | None = None) -> None:
        self._client = client

    @property
    def client(self) -> FrejaClient:
        if self._client is not None:
            return self._client
        try:
            return shared_client()
        except (OSError, ValueError) as error:
            # Missing or unreadable certificate files: a configuration fault, not a crash.
            logger.error("freja_not_configured", error=type(error).__name__)
            raise ProviderError("not-configured", "unavailable", transient=False) from None

    def start(self, request: StartRequest) -> Started:
        if request.purpose == "sign":
            raise ProviderError("signing-not-supported", "signingNotSupported", transient=False)
        if request.minimum.rank > self.assurance.rank:
            raise ProviderError("assurance-too-low", "assuranceTooLow", transient=False)
        auth_request = AuthRequest(user_info_type="INFERRED", min_registration_level="PLUS")
        try:
            auth_ref = self.client.init_authentication(auth_request)
        except FrejaError as error:
            raise _error(error) from None
        return Started(
            transaction_id=auth_ref,
            secrets={"user_info_type": auth_request.user_info_type},
        )

    def poll(self, started: Started, *, same_device: bool) -> Progress:
        try:
            result = self.client.get_one_result(
                started.transaction_id,
                expected_user_info_type=started.secrets.get("user_info_type") or None,
            )
        except AnswerRefused as refused:
            key = (
                "registrationLevelTooLow"
                if refused.code == "registration-level-too-low"
                else "invalidAnswer"
            )
            return Progress("failed", key, refused.code)
        except FrejaError as error:
            raise _error(error) from None
        if result.pending:
            return Progress(
                "pending",
                messages.pending_message(result.status, same_device=same_device),
                result.status,
            )
        if result.status in _FAILED:
            hint_code, key = _FAILED[result.status]
            return Progress("failed", key, hint_code)
        return Progress("complete", "complete", identity=self._identity(result))

    def _identity(self, result: AuthResult) -> VerifiedIdentity:
        user = result.user
        assert user is not None  # noqa: S101 (the client guarantees it for APPROVED)
        attributes: dict[str, str | int | None] = {
            "registrationLevel": user.registration_level,
            "userInfoType": user.user_info_type,
            "timestamp": user.timestamp,
            "ssnCountry": user.country,
        }
        if user.relying_party_user_id:
            attributes["relyingPartyUserId"] = user.relying_party_user_id
        return VerifiedIdentity(
            issuer=self.code,
            assurance=self.assurance,
            transaction_id=result.auth_ref,
            personal_number=_personal_number(user.country, user.ssn),
            given_name=user.given_name,
            surname=user.surname,
            signature=result.details,
            attributes=attributes,
        )

    def cancel(self, started: Started) -> None:
        try:
            self.client.cancel(started.transaction_id)
        except FrejaError as error:
            if error.code == "invalidReference":
                # Already over (approved, expired, cancelled): nothing left to cancel.
                return
            raise _error(error) from None

    def app_button(self) -> str:
        return self.message("startApp")

    def message(self, key: str) -> str:
        return messages.text(key)

    def qr_content(self, started: Started, seconds: int) -> str:
        # Freja's QR code is the same link throughout; it is not animated.
        return app_link(started.transaction_id)

    def app_url(self, started: Started) -> str:
        if settings.EID_SIMULATOR:
            base = settings.FREJA_SIMULATOR_APP_URL.rstrip("/")
            return f"{base}/transactions/{quote(started.transaction_id, safe='')}"
        return app_link(started.transaction_id)
