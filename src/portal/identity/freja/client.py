"""A client for Freja eID's relying-party REST API (authentication service 1.0) over mutual TLS.

Three calls, each an HTTPS POST whose body is one parameter holding base64 of a UTF-8 JSON object,
as Freja's own client libraries send it (``initAuthRequest=eyJ1c2VySW5mb1R5cGUiOi...``, the base64
unescaped):

- ``/authentication/1.0/initAuthentication`` (``initAuthRequest``: ``userInfoType``, ``userInfo``,
  ``minRegistrationLevel``, ``attributesToReturn``) answers ``{"authRef": ...}``;
- ``/authentication/1.0/getOneResult`` (``getOneAuthResultRequest``: ``{"authRef"}``) answers the
  transaction's ``status`` (STARTED, DELIVERED_TO_MOBILE, CANCELED, RP_CANCELED, EXPIRED,
  APPROVED, REJECTED) and, once APPROVED, ``details``: the result signed by Freja (a compact JWS,
  ``portal.identity.freja.jws``);
- ``/authentication/1.0/cancel`` (``cancelAuthRequest``: ``{"authRef"}``).

Errors are ``{"code": <int>, "message": ...}`` with HTTP 400 or 422. The relying party proves who
it is with its client certificate; Freja's server certificate is checked against a pinned CA.

Every approved result is believed only after its JWS verifies against a pinned Freja signing
certificate and says what the answer says (same ``authRef``, ``APPROVED``, the registration level
asked for, the user info type asked for, a recent ``timestamp``). Anything else raises
``AnswerRefused``, never an unhandled error.

Production: ``https://services.prod.frejaeid.com``. Freja's test environment:
``https://services.test.frejaeid.com``. Development: the local simulator (``portal
freja-simulator``), ``https://127.0.0.1:8445``.
"""

from __future__ import annotations

import base64
import json
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

import httpx
import structlog
from cryptography import x509

from portal.identity.freja.jws import DetailsRefused, load_signing_certificates, verify_details

logger = structlog.get_logger(__name__)

INIT_PATH: Final = "/authentication/1.0/initAuthentication"
RESULT_PATH: Final = "/authentication/1.0/getOneResult"
CANCEL_PATH: Final = "/authentication/1.0/cancel"

PENDING_STATUSES: Final = frozenset({"STARTED", "DELIVERED_TO_MOBILE"})
FINAL_STATUSES: Final = frozenset({"CANCELED", "RP_CANCELED", "EXPIRED", "APPROVED", "REJECTED"})
STATUSES: Final = PENDING_STATUSES | FINAL_STATUSES

#: Freja's registration levels, weakest first. PLUS is Freja eID+ (assurance level 3).
REGISTRATION_LEVELS: Final = ("BASIC", "EXTENDED", "PLUS")

#: Freja's error codes of the authentication service, by name. Any other code is ``unknown``.
ERROR_NAMES: Final[Mapping[int, str]] = {
    0: "internalError",
    1000: "invalidParameters",
    1001: "invalidUserInfoType",
    1002: "invalidUserInfo",
    1004: "methodNotAllowed",
    1005: "serviceNotEnabled",
    1007: "invalidMinRegistrationLevel",
    1008: "unknownRelyingParty",
    1010: "invalidJson",
    1012: "nonExistingUser",
    1100: "invalidReference",
    2000: "authInitFailed",
    2002: "invalidAttributesToReturn",
    2003: "customIdentifierMissing",
}

#: An approved result older than this (by its signed ``timestamp``) is refused, as is one dated
#: further than ``MAX_CLOCK_SKEW`` in the future. A transaction lives two minutes at most.
MAX_RESULT_AGE_SECONDS: Final = 600
MAX_CLOCK_SKEW_SECONDS: Final = 120
_MAX_REF_LENGTH = 256


class FrejaError(Exception):
    """A call failed: Freja answered an error (``freja_code``), could not be reached (code
    ``unavailable``), or answered something that cannot be believed (``AnswerRefused``)."""

    def __init__(
        self,
        code: str,
        message: str = "",
        *,
        transient: bool = False,
        freja_code: int | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.transient = transient
        self.freja_code = freja_code
        self.status = status


class AnswerRefused(FrejaError):
    """The answer is malformed, wrongly signed, or says something other than what was asked.

    ``code`` is the reason for the audit log: ``malformed-answer``, ``unsigned-answer``,
    ``malformed``, ``wrong-algorithm``, ``unknown-certificate``, ``certificate-expired``,
    ``bad-signature``, ``auth-ref-mismatch``, ``status-mismatch``, ``user-info-type-mismatch``,
    ``registration-level-too-low`` or ``stale-answer``.
    """

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(reason, message, transient=False)


Attribute = Literal[
    "BASIC_USER_INFO",
    "SSN",
    "REGISTRATION_LEVEL",
    "DATE_OF_BIRTH",
    "RELYING_PARTY_USER_ID",
    "EMAIL_ADDRESS",
]


@dataclass(frozen=True)
class AuthRequest:
    """The body of ``initAuthentication``.

    ``INFERRED`` (the default) lets whoever scans the QR code or opens the link authenticate; the
    result says who it was. ``SSN`` sends the transaction to one person's app (``ssn`` 12 digits,
    ``country`` SE, NO, DK or FI).
    """

    user_info_type: Literal["INFERRED", "SSN"] = "INFERRED"
    ssn: str | None = None
    country: str = "SE"
    min_registration_level: Literal["BASIC", "EXTENDED", "PLUS"] = "PLUS"
    attributes: tuple[Attribute, ...] = (
        "BASIC_USER_INFO",
        "SSN",
        "REGISTRATION_LEVEL",
        "RELYING_PARTY_USER_ID",
    )

    def user_info(self) -> str:
        if self.user_info_type == "INFERRED":
            return "N/A"
        if not self.ssn:
            raise ValueError("userInfoType SSN needs the person's ssn")
        # userInfo is itself base64 of a JSON object for SSN.
        inner = json.dumps({"country": self.country, "ssn": self.ssn}, separators=(",", ":"))
        return base64.b64encode(inner.encode("utf-8")).decode("ascii")

    def as_json(self) -> dict[str, Any]:
        return {
            "userInfoType": self.user_info_type,
            "userInfo": self.user_info(),
            "minRegistrationLevel": self.min_registration_level,
            "attributesToReturn": [{"attribute": name} for name in self.attributes],
        }


@dataclass(frozen=True)
class FrejaUser:
    """Who approved, from the verified JWS payload only."""

    user_info_type: str
    registration_level: str | None
    given_name: str
    surname: str
    #: The identity number and its country (SE, NO, DK, FI) if SSN was requested and known.
    ssn: str | None
    country: str | None
    relying_party_user_id: str | None
    date_of_birth: str | None
    #: Milliseconds since 1970 (Freja's ``timestamp``).
    timestamp: int


@dataclass(frozen=True)
class AuthResult:
    auth_ref: str
    status: str
    #: The compact JWS of an APPROVED result (to keep as evidence), else empty.
    details: str = ""
    user: FrejaUser | None = None

    @property
    def pending(self) -> bool:
        return self.status in PENDING_STATUSES


def encode_parameter(name: str, payload: Mapping[str, Any]) -> str:
    """``name=<base64 of the JSON>``, the body of every call."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return f"{name}={base64.b64encode(text.encode('utf-8')).decode('ascii')}"


def _level_rank(level: object) -> int:
    return REGISTRATION_LEVELS.index(level) if level in REGISTRATION_LEVELS else -1


def _optional_str(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    return value if isinstance(value, str) and value else None


class FrejaClient:
    """One client per process: it keeps a pool of TLS connections to Freja."""

    def __init__(
        self,
        *,
        base_url: str,
        client_cert: str,
        client_key: str,
        ca_cert: str,
        signing_cert: str | None = None,
        signing_certificates: Mapping[str, x509.Certificate] | None = None,
        timeout: float = 10.0,
        min_registration_level: Literal["BASIC", "EXTENDED", "PLUS"] = "PLUS",
        retries: int = 2,
        retry_delay: float = 0.5,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if signing_certificates is None:
            if not signing_cert:
                raise ValueError("Freja's signing certificate is required to verify results")
            signing_certificates = load_signing_certificates(signing_cert)
        self.signing_certificates = dict(signing_certificates)
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_cert)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(client_cert, client_key)
        self.base_url = base_url.rstrip("/")
        self.min_registration_level = min_registration_level
        self.retries = retries
        self.retry_delay = retry_delay
        self._clock = clock or (lambda: datetime.now(UTC))
        self._http = httpx.Client(
            verify=context,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )

    def close(self) -> None:
        self._http.close()

    # --- the three calls -----------------------------------------------------------------------

    def init_authentication(self, request: AuthRequest | None = None) -> str:
        """Start a transaction; its ``authRef``."""
        request = request or AuthRequest(min_registration_level=self.min_registration_level)
        body = encode_parameter("initAuthRequest", request.as_json())
        attempt = 0
        while True:
            try:
                data = self._post(INIT_PATH, body)
                break
            except FrejaError as error:
                if not error.transient or attempt >= self.retries:
                    raise
                attempt += 1
                logger.warning("freja_retry", endpoint=INIT_PATH, code=error.code, attempt=attempt)
                time.sleep(self.retry_delay * attempt)
        auth_ref = data.get("authRef")
        if not self._valid_ref(auth_ref):
            raise AnswerRefused("malformed-answer", "initAuthentication answered without authRef")
        assert isinstance(auth_ref, str)  # noqa: S101 (checked by _valid_ref)
        return auth_ref

    def get_one_result(
        self, auth_ref: str, *, expected_user_info_type: str | None = None
    ) -> AuthResult:
        """The transaction's status; for APPROVED, who approved (from the verified JWS)."""
        # Not retried: the caller asks again on its next poll.
        data = self._post(
            RESULT_PATH, encode_parameter("getOneAuthResultRequest", {"authRef": auth_ref})
        )
        status = data.get("status")
        if status not in STATUSES:
            raise AnswerRefused("malformed-answer", f"unexpected status {status!r}")
        answered_ref = data.get("authRef", auth_ref)
        if answered_ref != auth_ref:
            raise AnswerRefused("auth-ref-mismatch", "the answer is about another transaction")
        if status != "APPROVED":
            return AuthResult(auth_ref=auth_ref, status=str(status))
        details = data.get("details")
        if not isinstance(details, str) or not details:
            raise AnswerRefused("unsigned-answer", "APPROVED without details")
        payload = self.verify(details, auth_ref, expected_user_info_type=expected_user_info_type)
        return AuthResult(
            auth_ref=auth_ref, status="APPROVED", details=details, user=self._user(payload)
        )

    def cancel(self, auth_ref: str) -> None:
        self._post(CANCEL_PATH, encode_parameter("cancelAuthRequest", {"authRef": auth_ref}))

    # --- checks --------------------------------------------------------------------------------

    def verify(
        self, details: str, auth_ref: str, *, expected_user_info_type: str | None = None
    ) -> dict[str, Any]:
        """The verified payload of an APPROVED result's JWS, or ``AnswerRefused``."""
        now = self._clock()
        try:
            payload = verify_details(details, self.signing_certificates, now=now)
        except DetailsRefused as refused:
            logger.warning("freja_refused", reason=refused.reason)
            raise AnswerRefused(refused.reason) from None
        problem = self._check_payload(payload, auth_ref, expected_user_info_type, now)
        if problem:
            logger.warning("freja_refused", reason=problem)
            raise AnswerRefused(problem)
        return payload

    def _check_payload(  # noqa: PLR0911 (one return per reason)
        self,
        payload: Mapping[str, Any],
        auth_ref: str,
        expected_user_info_type: str | None,
        now: datetime,
    ) -> str:
        if payload.get("authRef") != auth_ref:
            return "auth-ref-mismatch"
        if payload.get("status") != "APPROVED":
            return "status-mismatch"
        if expected_user_info_type and payload.get("userInfoType") != expected_user_info_type:
            return "user-info-type-mismatch"
        attributes = payload.get("requestedAttributes", {})
        if not isinstance(attributes, dict):
            return "malformed-answer"
        wanted = _level_rank(self.min_registration_level)
        if _level_rank(payload.get("minRegistrationLevel")) < wanted:
            return "registration-level-too-low"
        if (
            "registrationLevel" in attributes
            and _level_rank(attributes["registrationLevel"]) < wanted
        ):
            return "registration-level-too-low"
        timestamp = payload.get("timestamp")
        if isinstance(timestamp, bool) or not isinstance(timestamp, int):
            return "malformed-answer"
        age = now.timestamp() - timestamp / 1000
        if age > MAX_RESULT_AGE_SECONDS or age < -MAX_CLOCK_SKEW_SECONDS:
            return "stale-answer"
        for name in ("basicUserInfo", "ssn"):
            if name in attributes and not isinstance(attributes[name], dict):
                return "malformed-answer"
        return ""

    @staticmethod
    def _user(payload: Mapping[str, Any]) -> FrejaUser:
        attributes: Mapping[str, Any] = payload.get("requestedAttributes") or {}
        basic: Mapping[str, Any] = attributes.get("basicUserInfo") or {}
        ssn: Mapping[str, Any] = attributes.get("ssn") or {}
        level = attributes.get("registrationLevel")
        return FrejaUser(
            user_info_type=str(payload.get("userInfoType", "")),
            registration_level=level if isinstance(level, str) else None,
            given_name=_optional_str(basic, "name") or "",
            surname=_optional_str(basic, "surname") or "",
            ssn=_optional_str(ssn, "ssn"),
            country=_optional_str(ssn, "country"),
            relying_party_user_id=_optional_str(attributes, "relyingPartyUserId"),
            date_of_birth=_optional_str(attributes, "dateOfBirth"),
            timestamp=int(payload["timestamp"]),
        )

    @staticmethod
    def _valid_ref(value: object) -> bool:
        return (
            isinstance(value, str)
            and 0 < len(value) <= _MAX_REF_LENGTH
            and value.isascii()
            and value.isprintable()
        )

    # --- plumbing ------------------------------------------------------------------------------

    def _post(self, path: str, body: str) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            response = self._http.post(f"{self.base_url}{path}", content=body.encode("ascii"))
        except httpx.TimeoutException:
            logger.warning("freja_unreachable", endpoint=path, reason="timeout")
            raise FrejaError("unavailable", "timeout", transient=True) from None
        except httpx.TransportError as error:
            logger.warning("freja_unreachable", endpoint=path, reason=type(error).__name__)
            raise FrejaError("unavailable", type(error).__name__, transient=True) from None
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        if response.status_code == httpx.codes.NO_CONTENT:
            logger.info("freja_call", endpoint=path, status=204, duration_ms=elapsed_ms)
            return {}
        try:
            data = response.json() if response.content else {}
        except ValueError:
            data = None
        if response.status_code == httpx.codes.OK:
            if not isinstance(data, dict):
                logger.warning("freja_refused", endpoint=path, reason="malformed-answer")
                raise AnswerRefused("malformed-answer", "the answer is not a JSON object")
            logger.info("freja_call", endpoint=path, status=200, duration_ms=elapsed_ms)
            return data
        raise self._error(path, response, data, elapsed_ms)

    @staticmethod
    def _error(path: str, response: httpx.Response, data: object, elapsed_ms: float) -> FrejaError:
        status = response.status_code
        freja_code = data.get("code") if isinstance(data, dict) else None
        if isinstance(freja_code, int) and not isinstance(freja_code, bool):
            code = ERROR_NAMES.get(freja_code, "unknown")
            message = data.get("message", "") if isinstance(data, dict) else ""
            transient = freja_code == 0 or response.is_server_error
        else:
            # Not Freja's JSON (a proxy or load balancer answered): judge by the status.
            freja_code = None
            message = ""
            if status == httpx.codes.TOO_MANY_REQUESTS:
                code, transient = "tooManyRequests", True
            elif response.is_server_error:
                code, transient = "unavailable", True
            else:
                code, transient = "unknown", False
        logger.warning(
            "freja_error",
            endpoint=path,
            status=status,
            code=code,
            freja_code=freja_code,
            duration_ms=elapsed_ms,
        )
        return FrejaError(
            code, str(message), transient=transient, freja_code=freja_code, status=status
        )
