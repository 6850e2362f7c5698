"""A client for the BankID Relying Party API v6.0 (https over mutual TLS, JSON).

Written for this portal rather than taken from pybankid: pybankid 1.5 hard-codes BankID's two base
URLs (so it cannot reach the local simulator), lacks ``returnUrl``, ``returnRisk``, ``web`` and
``mrtd``, and fails on error answers that are not JSON (a proxy's 502, a maintenance page). This
client sends every request field the API defines, pins the server's CA, bounds every call in time
and retries only what BankID allows to be retried.

Production: ``https://appapi2.bankid.com/rp/v6.0``. BankID's test environment:
``https://appapi2.test.bankid.com/rp/v6.0``. Development: the local simulator
(``portal bankid-simulator``), ``https://127.0.0.1:8443/rp/v6.0``.
"""

from __future__ import annotations

import base64
import ssl
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import structlog

logger = structlog.get_logger(__name__)

#: Every errorCode of the v6.0 API. Anything else is treated as ``unknown``.
ERROR_CODES = frozenset(
    {
        "alreadyInProgress",
        "invalidParameters",
        "unauthorized",
        "notFound",
        "methodNotAllowed",
        "requestTimeout",
        "unsupportedMediaType",
        "tooManyRequests",
        "internalError",
        "maintenance",
    }
)
#: Errors after which BankID allows the same call to be tried again, a little later.
_RETRYABLE = frozenset({"maintenance", "requestTimeout", "unavailable"})
#: The least time worth giving one more attempt at starting an order.
_MIN_ATTEMPT_SECONDS = 0.5


class BankIDError(Exception):
    """The API answered with an error, or could not be reached (code ``unavailable``)."""

    def __init__(self, code: str, details: str = "", status: int | None = None) -> None:
        super().__init__(f"{code}: {details}" if details else code)
        self.code = code if code in ERROR_CODES or code == "unavailable" else "unknown"
        self.details = details
        self.status = status


@dataclass(frozen=True)
class Requirement:
    """``requirement``: conditions the user and their BankID must meet."""

    pin_code: bool | None = None
    mrtd: bool | None = None
    card_reader: str | None = None
    certificate_policies: tuple[str, ...] = ()
    personal_number: str | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.pin_code is not None:
            data["pinCode"] = self.pin_code
        if self.mrtd is not None:
            data["mrtd"] = self.mrtd
        if self.card_reader:
            data["cardReader"] = self.card_reader
        if self.certificate_policies:
            data["certificatePolicies"] = list(self.certificate_policies)
        if self.personal_number:
            data["personalNumber"] = self.personal_number
        return data


@dataclass(frozen=True)
class WebContext:
    """``web``: what the relying party knows about the browser, for BankID's risk assessment."""

    device_identifier: str
    referring_domain: str
    user_agent: str

    def as_json(self) -> dict[str, str]:
        return {
            "deviceIdentifier": self.device_identifier,
            "referringDomain": self.referring_domain,
            "userAgent": self.user_agent[:256],
        }


@dataclass(frozen=True)
class OrderRequest:
    """The body of ``/auth`` and ``/sign``."""

    end_user_ip: str
    requirement: Requirement | None = None
    user_visible_data: str | None = None
    user_non_visible_data: bytes | None = None
    #: ``simpleMarkdownV1`` lets the text use BankID's small Markdown subset.
    user_visible_data_format: Literal["simpleMarkdownV1"] | None = None
    return_url: str | None = None
    return_risk: bool | None = None
    web: WebContext | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"endUserIp": self.end_user_ip}
        if self.requirement is not None and self.requirement.as_json():
            data["requirement"] = self.requirement.as_json()
        if self.user_visible_data is not None:
            data["userVisibleData"] = base64.b64encode(self.user_visible_data.encode()).decode()
        if self.user_non_visible_data is not None:
            data["userNonVisibleData"] = base64.b64encode(self.user_non_visible_data).decode()
        if self.user_visible_data_format is not None:
            data["userVisibleDataFormat"] = self.user_visible_data_format
        if self.return_url is not None:
            data["returnUrl"] = self.return_url
        if self.return_risk is not None:
            data["returnRisk"] = self.return_risk
        if self.web is not None:
            data["web"] = self.web.as_json()
        return data


@dataclass(frozen=True)
class Order:
    """The answer to ``/auth`` and ``/sign``. ``qr_start_secret`` must never leave the server."""

    order_ref: str
    auto_start_token: str
    qr_start_token: str
    qr_start_secret: str = field(repr=False)


@dataclass(frozen=True)
class Completion:
    """``completionData`` of a completed order."""

    personal_number: str
    name: str
    given_name: str
    surname: str
    ip_address: str
    uhi: str
    bankid_issue_date: str
    signature: str
    ocsp_response: str
    risk: str | None = None
    mrtd_step_up: bool | None = None


@dataclass(frozen=True)
class CollectResult:
    order_ref: str
    status: Literal["pending", "failed", "complete"]
    hint_code: str = ""
    completion: Completion | None = None


def _parse_completion(data: dict[str, Any]) -> Completion:
    user = data.get("user") or {}
    device = data.get("device") or {}
    step_up = data.get("stepUp") or {}
    return Completion(
        personal_number=str(user.get("personalNumber", "")),
        name=str(user.get("name", "")),
        given_name=str(user.get("givenName", "")),
        surname=str(user.get("surname", "")),
        ip_address=str(device.get("ipAddress", "")),
        uhi=str(device.get("uhi", "")),
        bankid_issue_date=str(data.get("bankIdIssueDate", "")),
        signature=str(data.get("signature", "")),
        ocsp_response=str(data.get("ocspResponse", "")),
        risk=data.get("risk"),
        mrtd_step_up=step_up.get("mrtd") if isinstance(step_up, dict) else None,
    )


class BankIDClient:
    """One client per process: it keeps a pool of TLS connections to BankID."""

    def __init__(
        self,
        *,
        base_url: str,
        client_cert: str,
        client_key: str,
        ca_cert: str,
        timeout: float = 10.0,
        retries: int = 2,
        retry_delay: float = 0.5,
    ) -> None:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_cert)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(client_cert, client_key)
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.retry_delay = retry_delay
        self.timeout = timeout
        self._http = httpx.Client(
            verify=context,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )

    def close(self) -> None:
        self._http.close()

    # --- the four calls ------------------------------------------------------------------------
    def auth(self, request: OrderRequest) -> Order:
        return self._order("auth", request)

    def sign(self, request: OrderRequest) -> Order:
        if not request.user_visible_data:
            raise BankIDError("invalidParameters", "userVisibleData is required to sign")
        return self._order("sign", request)

    def collect(self, order_ref: str) -> CollectResult:
        # Not retried here: the caller collects again on its next poll, two seconds later.
        data = self._post("collect", {"orderRef": order_ref})
        status = data.get("status")
        if status not in {"pending", "failed", "complete"}:
            raise BankIDError("unknown", f"unexpected collect status {status!r}")
        completion = _parse_completion(data["completionData"]) if status == "complete" else None
        return CollectResult(
            order_ref=str(data.get("orderRef", order_ref)),
            status=status,
            hint_code=str(data.get("hintCode", "")),
            completion=completion,
        )

    def cancel(self, order_ref: str) -> None:
        self._post("cancel", {"orderRef": order_ref})

    # --- plumbing ------------------------------------------------------------------------------
    def _order(self, endpoint: str, request: OrderRequest) -> Order:
        """Start an order, retrying what BankID allows to be retried, all within one timeout:
        a BankID that hangs holds the person's request (and a server thread) for at most
        ``timeout`` seconds, not once per attempt."""
        deadline = time.monotonic() + self.timeout
        attempt = 0
        while True:
            remaining = deadline - time.monotonic()
            try:
                data = self._post(endpoint, request.as_json(), timeout=remaining)
            except BankIDError as error:
                pause = self.retry_delay * (attempt + 1)
                if (
                    error.code not in _RETRYABLE
                    or attempt >= self.retries
                    # Too little time left for a pause and a meaningful attempt after it.
                    or deadline - time.monotonic() < pause + _MIN_ATTEMPT_SECONDS
                ):
                    raise
                attempt += 1
                logger.warning("bankid_retry", endpoint=endpoint, code=error.code, attempt=attempt)
                time.sleep(pause)
                continue
            try:
                return Order(
                    order_ref=str(data["orderRef"]),
                    auto_start_token=str(data["autoStartToken"]),
                    qr_start_token=str(data["qrStartToken"]),
                    qr_start_secret=str(data["qrStartSecret"]),
                )
            except KeyError as missing:
                raise BankIDError("unknown", f"answer without {missing}") from None

    def _post(
        self, endpoint: str, body: dict[str, Any], *, timeout: float | None = None
    ) -> dict[str, Any]:
        started = time.perf_counter()
        limit = (
            httpx.Timeout(timeout, connect=min(timeout, 3.0))
            if timeout is not None
            else httpx.USE_CLIENT_DEFAULT
        )
        try:
            response = self._http.post(f"{self.base_url}/{endpoint}", json=body, timeout=limit)
        except httpx.TimeoutException:
            logger.warning("bankid_unreachable", endpoint=endpoint, reason="timeout")
            raise BankIDError("unavailable", "timeout") from None
        except httpx.TransportError as error:
            logger.warning("bankid_unreachable", endpoint=endpoint, reason=type(error).__name__)
            raise BankIDError("unavailable", type(error).__name__) from None
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code == httpx.codes.OK and isinstance(data, dict):
            logger.info("bankid_call", endpoint=endpoint, status=200, duration_ms=elapsed_ms)
            return data
        code = str(data.get("errorCode", "")) if isinstance(data, dict) else ""
        details = str(data.get("details", "")) if isinstance(data, dict) else ""
        if not code:
            # Not BankID's JSON (a proxy or load balancer answered): judge by the status.
            code = {
                503: "maintenance",
                502: "unavailable",
                504: "unavailable",
                429: "tooManyRequests",
            }.get(response.status_code, "internalError" if response.is_server_error else "unknown")
        logger.warning(
            "bankid_error",
            endpoint=endpoint,
            status=response.status_code,
            code=code,
            duration_ms=elapsed_ms,
        )
        raise BankIDError(code, details, response.status_code)
