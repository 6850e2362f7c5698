"""BankID behind the provider interface."""

from __future__ import annotations

from functools import cache

from django.conf import settings

from portal.identity.bankid import messages
from portal.identity.bankid.client import (
    BankIDClient,
    BankIDError,
    OrderRequest,
    Requirement,
    WebContext,
)
from portal.identity.bankid.qr import qr_auth_code
from portal.identity.providers.base import (
    Assurance,
    IdentityProvider,
    Progress,
    ProviderError,
    Started,
    StartRequest,
    VerifiedIdentity,
)

_TRANSIENT = frozenset(
    {"maintenance", "internalError", "requestTimeout", "tooManyRequests", "unavailable"}
)


@cache
def shared_client() -> BankIDClient:
    """One client (and TLS connection pool) per process."""
    return BankIDClient(
        base_url=settings.BANKID_API_URL,
        client_cert=settings.BANKID_CLIENT_CERT,
        client_key=settings.BANKID_CLIENT_KEY,
        ca_cert=settings.BANKID_CA_CERT,
        timeout=settings.BANKID_TIMEOUT_SECONDS,
    )


def reset_shared_client() -> None:
    """Close and forget the shared client, so the next call reads the settings again."""
    if shared_client.cache_info().currsize:
        shared_client().close()
    shared_client.cache_clear()


def _error(error: BankIDError) -> ProviderError:
    return ProviderError(
        error.code, messages.error_message(error.code), transient=error.code in _TRANSIENT
    )


class BankIDProvider(IdentityProvider):
    code = "bankid"
    name = "BankID"
    # BankID is approved at the Swedish trust framework's level 3.
    assurance = Assurance.LOA3

    def __init__(self, client: BankIDClient | None = None) -> None:
        self._client = client

    @property
    def client(self) -> BankIDClient:
        return self._client or shared_client()

    def start(self, request: StartRequest) -> Started:
        order_request = OrderRequest(
            end_user_ip=request.end_user_ip,
            requirement=Requirement(
                certificate_policies=tuple(settings.BANKID_CERTIFICATE_POLICIES)
            ),
            user_visible_data=request.visible_text,
            user_non_visible_data=request.non_visible_data,
            user_visible_data_format="simpleMarkdownV1" if request.visible_text else None,
            return_risk=True,
            web=WebContext(
                device_identifier=request.device_identifier,
                referring_domain=request.referring_domain,
                user_agent=request.user_agent,
            ),
        )
        try:
            order = (
                self.client.sign(order_request)
                if request.purpose == "sign"
                else self.client.auth(order_request)
            )
        except BankIDError as error:
            raise _error(error) from None
        return Started(
            transaction_id=order.order_ref,
            secrets={
                "qr_start_token": order.qr_start_token,
                "qr_start_secret": order.qr_start_secret,
                "auto_start_token": order.auto_start_token,
            },
        )

    def poll(self, started: Started, *, same_device: bool) -> Progress:
        try:
            result = self.client.collect(started.transaction_id)
        except BankIDError as error:
            raise _error(error) from None
        if result.status == "pending":
            return Progress(
                "pending",
                messages.pending_message(result.hint_code, same_device=same_device),
                result.hint_code,
            )
        if result.status == "failed":
            return Progress(
                "failed",
                messages.failed_message(result.hint_code, same_device=same_device),
                result.hint_code,
            )
        completion = result.completion
        assert completion is not None  # noqa: S101 (the client guarantees it for "complete")
        return Progress(
            "complete",
            "RFA21",
            identity=VerifiedIdentity(
                issuer=self.code,
                assurance=self.assurance,
                transaction_id=result.order_ref,
                personal_number=completion.personal_number,
                given_name=completion.given_name,
                surname=completion.surname,
                signature=completion.signature,
                ocsp_response=completion.ocsp_response,
                attributes={
                    "bankIdIssueDate": completion.bankid_issue_date,
                    "deviceIpAddress": completion.ip_address,
                    "risk": completion.risk,
                },
            ),
        )

    def cancel(self, started: Started) -> None:
        try:
            self.client.cancel(started.transaction_id)
        except BankIDError as error:
            raise _error(error) from None

    def message(self, key: str) -> str:
        return messages.text(key)

    def qr_content(self, started: Started, seconds: int) -> str:
        """The animated QR code's frame: ``bankid.<token>.<seconds>.<HMAC(secret, seconds)>``,
        computed on the server so that the secret never reaches the browser."""
        token = started.secrets.get("qr_start_token", "")
        secret = started.secrets.get("qr_start_secret", "")
        return f"bankid.{token}.{seconds}.{qr_auth_code(secret, seconds)}"

    def app_button(self) -> str:
        return messages.text("RFA18")

    def app_url(self, started: Started) -> str:
        return settings.BANKID_AUTOSTART_URL.format(
            token=started.secrets.get("auto_start_token", "")
        )
