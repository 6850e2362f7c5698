"""A local Freja eID simulator: the relying-party authentication API over HTTPS with mutual TLS, and
a test app standing in for the Freja eID app.

The portal's real Freja client talks to it unchanged: the same paths, the same bodies (one
parameter holding base64 of a JSON object), the same statuses, error codes and HTTP statuses, a
client certificate and a pinned CA, and results signed as Freja signs them (a compact JWS, RS256,
``x5t`` naming the signing certificate; the certificate is in the test PKI, ``freja.pki``).

The *test app* on a second, plain-HTTP port on 127.0.0.1 is the phone: a Swedish page listing the
transactions waiting for someone, a page per transaction (where "Freja eID on this device" leads
in development) on which a developer picks a demo person and approves or declines, a form to paste
the QR code's content, and a JSON control API for tests (``/control/...``): open, approve, decline
or reject a transaction, switch the service into an error mode, or make it forge its signatures
(``FORGERIES``) so that tests can prove the portal refuses them.

What a transaction goes through: STARTED (created; an SSN-directed one is DELIVERED_TO_MOBILE at
once, as Freja pushes it to the person's phone), DELIVERED_TO_MOBILE (the person scanned the QR
code or opened the link), then APPROVED, CANCELED (the person declined), REJECTED (a second
transaction for the same person, or ``reject`` in the control API), RP_CANCELED (the relying party
cancelled) or EXPIRED (nobody answered within two minutes). Finished transactions are answered for
ten minutes, then forgotten (error 1100, like an unknown reference).

Only the standard library, ``cryptography`` and ``joserfc`` are used, nothing from Django, so the
module also runs on its own (``start_simulator``). Everything is in memory behind one lock.
Personal numbers are masked in the log.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import math
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http import HTTPStatus
from typing import Any, Final, Literal, NoReturn
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from portal.identity import localserver
from portal.identity.demo import PersonLike
from portal.identity.freja.jws import sign_details, thumbprint
from portal.identity.freja.pki import FrejaTestPki, load_signing, make_signing_certificate
from portal.identity.localserver import AppError

logger = logging.getLogger("portal.freja.simulator")

INIT_PATH: Final = "/authentication/1.0/initAuthentication"
RESULT_PATH: Final = "/authentication/1.0/getOneResult"
CANCEL_PATH: Final = "/authentication/1.0/cancel"
#: The parameter each path reads.
_PARAMETERS: Final[Mapping[str, str]] = {
    INIT_PATH: "initAuthRequest",
    RESULT_PATH: "getOneAuthResultRequest",
    CANCEL_PATH: "cancelAuthRequest",
}

#: From initiation, the person has two minutes to confirm (as in Freja eID).
DEFAULT_TRANSACTION_TTL: Final = 120.0
FINISHED_RETENTION: Final = 600.0
MAX_SLOW_SECONDS: Final = 600.0

Status = Literal[
    "STARTED", "DELIVERED_TO_MOBILE", "CANCELED", "RP_CANCELED", "EXPIRED", "APPROVED", "REJECTED"
]
PENDING: Final = frozenset({"STARTED", "DELIVERED_TO_MOBILE"})
REGISTRATION_LEVELS: Final = ("BASIC", "EXTENDED", "PLUS")
COUNTRIES: Final = frozenset({"SE", "NO", "DK", "FI"})
#: Every attribute Freja's authentication service knows. The simulator fills in those it can.
ATTRIBUTES: Final = frozenset(
    {
        "BASIC_USER_INFO",
        "CUSTOM_IDENTIFIER",
        "INTEGRATOR_SPECIFIC_USER_ID",
        "SSN",
        "DATE_OF_BIRTH",
        "RELYING_PARTY_USER_ID",
        "EMAIL_ADDRESS",
        "ORGANISATION_ID_IDENTIFIER",
        "ADDRESSES",
        "ALL_EMAIL_ADDRESSES",
        "ALL_PHONE_NUMBERS",
        "REGISTRATION_LEVEL",
        "AGE",
        "PHOTO",
        "COVID_CERTIFICATES",
        "DOCUMENT",
    }
)
#: Attributes Freja returns only for EXTENDED and PLUS transactions.
_IDENTITY_ATTRIBUTES: Final = frozenset(
    {"BASIC_USER_INFO", "SSN", "DATE_OF_BIRTH", "ADDRESSES", "AGE", "PHOTO", "DOCUMENT"}
)
#: What the control API can make the simulator do wrong with an approved result.
FORGERIES: Final = (
    "none",
    # Signed with a key that is not the pinned certificate's, header naming the pinned one.
    "wrong-key",
    # Signed with a key whose certificate the portal does not know (x5t names it).
    "unknown-certificate",
    # Correctly signed, then the payload swapped for one with another person's number.
    "tampered-payload",
    # Correctly signed, but about another transaction.
    "other-auth-ref",
    # The answer's own authRef is another transaction's.
    "answer-auth-ref",
    # Correctly signed, but the signed status is not APPROVED.
    "status-mismatch",
    # {"alg": "none"} and no signature.
    "alg-none",
    # APPROVED without details.
    "unsigned",
    # Correctly signed, registration level EXTENDED (not Freja eID+).
    "low-registration-level",
    # Correctly signed, timestamp an hour old.
    "stale",
)
MODES: Final = ("normal", "unavailable", "internalError", "slow")

DEFAULT_GIVEN_NAME: Final = "Test"
DEFAULT_SURNAME: Final = "Testsson"

_MAX_BODY_BYTES = 64 * 1024
_MAX_USER_INFO = 256
_BODY_TIMEOUT = 10.0
_SHORT_REF_LENGTH = 8
_PERSONAL_NUMBER_LENGTH = 12
_COORDINATION_OFFSET = 60
_PERSONAL_NUMBER = re.compile(r"[0-9]{12}")
_REF = re.compile(r"[A-Za-z0-9_-]{16,128}")

#: Freja's error codes the simulator answers, with Freja's messages and HTTP statuses.
ERRORS: Final[Mapping[int, tuple[HTTPStatus, str]]] = {
    0: (HTTPStatus.INTERNAL_SERVER_ERROR, "Internal error."),
    1000: (HTTPStatus.BAD_REQUEST, "Invalid parameters."),
    1001: (HTTPStatus.BAD_REQUEST, "Invalid or missing userInfoType."),
    1002: (HTTPStatus.BAD_REQUEST, "Invalid or missing userInfo."),
    1007: (HTTPStatus.BAD_REQUEST, "Invalid minimum registration level."),
    1010: (HTTPStatus.BAD_REQUEST, "JSON request cannot be parsed."),
    1012: (
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "User with the specified user info does not exist in the Freja eID database.",
    ),
    1100: (
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "Invalid reference (for example, nonexistent or expired).",
    ),
    2000: (
        HTTPStatus.UNPROCESSABLE_ENTITY,
        (
            "Authentication request failed. Previous authentication request was rejected due to "
            "security reasons."
        ),
    ),
    2002: (HTTPStatus.BAD_REQUEST, "Invalid attributesToReturn parameter."),
}


class ApiError(Exception):
    """An error answer of the API: ``{"code", "message"}`` with the code's HTTP status."""

    def __init__(self, code: int, detail: str = "") -> None:
        self.status, self.message = ERRORS[code]
        super().__init__(f"{code}: {self.message} {detail}".strip())
        self.code = code
        self.detail = detail

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


# --- People -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimulatedPerson:
    """A Freja eID user: identity number and its country, names, registration level, email."""

    personal_number: str
    given_name: str
    surname: str
    country: str = "SE"
    registration_level: str = "PLUS"
    email: str = ""

    @property
    def label(self) -> str:
        number = self.personal_number
        shown = f"{number[:8]}-{number[8:]}" if self.country == "SE" else number
        return f"{self.given_name} {self.surname} ({shown})"


def mask_personal_number(number: str) -> str:
    """The form logs may show: ``19121212-****``."""
    if len(number) != _PERSONAL_NUMBER_LENGTH:
        return "****"
    return f"{number[:8]}-****"


def is_swedish_number(text: str) -> bool:
    """12 digits, a real month, a day (or coordination day) and a valid check digit."""
    return not localserver.personal_number_problem(text)


# --- Transactions -------------------------------------------------------------------------------


@dataclass(eq=False)
class Transaction:
    """One authentication, as the simulated Freja keeps it (mutated under the state's lock)."""

    auth_ref: str
    created: float
    user_info_type: str
    user_info: str
    min_registration_level: str
    attributes: tuple[str, ...]
    #: For userInfoType SSN: who it is for.
    target: SimulatedPerson | None = None
    status: Status = "STARTED"
    person: SimulatedPerson | None = None
    finished: float | None = None
    approved_at: datetime | None = None

    @property
    def short_ref(self) -> str:
        return self.auth_ref[:_SHORT_REF_LENGTH]


@dataclass(frozen=True)
class TransactionView:
    """A consistent copy of a transaction for the test app and the control API."""

    auth_ref: str
    status: Status
    user_info_type: str
    min_registration_level: str
    target_number: str | None
    personal_number: str | None
    age: float

    @property
    def short_ref(self) -> str:
        return self.auth_ref[:_SHORT_REF_LENGTH]

    @property
    def pending(self) -> bool:
        return self.status in PENDING

    def as_json(self) -> dict[str, Any]:
        return {
            "authRef": self.auth_ref,
            "status": self.status,
            "userInfoType": self.user_info_type,
            "minRegistrationLevel": self.min_registration_level,
            "personalNumber": self.personal_number,
            "age": round(self.age, 3),
        }


@dataclass(frozen=True)
class Mode:
    name: str = "normal"
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.name not in MODES:
            raise ValueError(f"unknown mode {self.name!r}; expected one of {', '.join(MODES)}")
        if not (math.isfinite(self.seconds) and 0 <= self.seconds <= MAX_SLOW_SECONDS):
            raise ValueError(f"seconds must be between 0 and {MAX_SLOW_SECONDS:g}")


@dataclass
class _Signer:
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey
    #: Another key and self-signed certificate, for the forgeries (made when first needed).
    other: tuple[x509.Certificate, rsa.RSAPrivateKey] | None = field(default=None, repr=False)

    def other_pair(self) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
        if self.other is None:
            self.other = make_signing_certificate("Not Freja's signing certificate (test)")
        return self.other


class FrejaSimulatorState:
    """The simulated Freja eID service, behind one lock. Tests may call it directly
    (``RunningFrejaSimulator.state``) and may pass ``clock`` to move time."""

    def __init__(
        self,
        *,
        pki: FrejaTestPki,
        people: Iterable[PersonLike] = (),
        transaction_ttl: float = DEFAULT_TRANSACTION_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._transactions: dict[str, Transaction] = {}
        self.people: tuple[SimulatedPerson, ...] = tuple(
            SimulatedPerson(
                person.personal_number,
                person.given_name,
                person.surname,
                email=str(getattr(person, "email", "") or ""),
            )
            for person in people
        )
        self._people = {person.personal_number: person for person in self.people}
        self.transaction_ttl = transaction_ttl
        self.finished_retention = FINISHED_RETENTION
        self._mode = Mode()
        self._forgery = "none"
        certificate, key = load_signing(pki)
        self._signer = _Signer(certificate, key)
        #: Set when the simulator stops, so that delayed answers end at once.
        self.stopping = threading.Event()

    @property
    def signing_certificate(self) -> x509.Certificate:
        return self._signer.certificate

    # --- The API --------------------------------------------------------------------------------

    def mode(self) -> Mode:
        with self._lock:
            return self._mode

    def init_authentication(self, request: Mapping[str, Any]) -> dict[str, Any]:
        parsed = _parse_init(request)
        with self._lock:
            now = self._clock()
            self._sweep(now)
            target: SimulatedPerson | None = None
            if parsed.ssn is not None:
                target = self._people.get(parsed.ssn)
                if target is None or target.country != parsed.country:
                    raise ApiError(1012)
                in_progress = self._pending_of(target.personal_number)
                if in_progress:
                    # Only one authentication per person at a time: both are stopped.
                    for other in in_progress:
                        self._finish(other, "REJECTED", now)
                    raise ApiError(2000)
            transaction = Transaction(
                auth_ref=secrets.token_urlsafe(48),
                created=now,
                user_info_type=parsed.user_info_type,
                user_info=parsed.user_info,
                min_registration_level=parsed.min_registration_level,
                attributes=parsed.attributes,
                target=target,
            )
            if target is not None:
                # Freja pushes a directed transaction straight to the person's app.
                transaction.person = target
                transaction.status = "DELIVERED_TO_MOBILE"
            self._transactions[transaction.auth_ref] = transaction
        logger.debug(
            "Freja simulator: transaction %s created (%s%s)",
            transaction.short_ref,
            parsed.user_info_type,
            f" for {mask_personal_number(target.personal_number)}" if target else "",
        )
        return {"authRef": transaction.auth_ref}

    def get_one_result(self, request: Mapping[str, Any]) -> dict[str, Any]:
        auth_ref = _auth_ref(request)
        with self._lock:
            now = self._clock()
            self._sweep(now)
            transaction = self._transactions.get(auth_ref)
            if transaction is None:
                raise ApiError(1100)
            return self._answer(transaction)

    def cancel(self, request: Mapping[str, Any]) -> dict[str, Any]:
        auth_ref = _auth_ref(request)
        with self._lock:
            now = self._clock()
            self._sweep(now)
            transaction = self._transactions.get(auth_ref)
            if transaction is None or transaction.status not in PENDING:
                raise ApiError(1100)
            self._finish(transaction, "RP_CANCELED", now)
        return {}

    # --- The test app and the control API --------------------------------------------------------

    def transactions(self, *, pending_only: bool = False) -> list[TransactionView]:
        with self._lock:
            now = self._clock()
            self._sweep(now)
            return [
                self._view(transaction, now)
                for transaction in sorted(self._transactions.values(), key=lambda t: t.created)
                if transaction.status in PENDING or not pending_only
            ]

    def transaction(self, auth_ref: str) -> TransactionView | None:
        with self._lock:
            now = self._clock()
            self._sweep(now)
            transaction = self._transactions.get(auth_ref)
            return self._view(transaction, now) if transaction else None

    def open_transaction(
        self, auth_ref: str, personal_number: str | None = None, **person: Any
    ) -> TransactionView:
        """The person scans the QR code or opens the link: DELIVERED_TO_MOBILE."""
        with self._lock:
            now = self._clock()
            transaction = self._pending(auth_ref, now)
            self._bind(transaction, personal_number, now, **person)
            return self._view(transaction, now)

    def approve(
        self, auth_ref: str, personal_number: str | None = None, **person: Any
    ) -> TransactionView:
        """The person approves in the app: APPROVED, signed at the next getOneResult."""
        with self._lock:
            now = self._clock()
            transaction = self._pending(auth_ref, now)
            self._bind(transaction, personal_number, now, **person)
            assert transaction.person is not None  # noqa: S101 (_bind guarantees it)
            wanted = REGISTRATION_LEVELS.index(transaction.min_registration_level)
            if REGISTRATION_LEVELS.index(transaction.person.registration_level) < wanted:
                raise AppError(
                    HTTPStatus.CONFLICT,
                    "registrationLevelTooLow",
                    f"Transaktionen kräver registreringsnivå {transaction.min_registration_level}.",
                )
            transaction.approved_at = datetime.now(UTC)
            self._finish(transaction, "APPROVED", now)
            return self._view(transaction, now)

    def decline(self, auth_ref: str) -> TransactionView:
        """The person declines in the app: CANCELED."""
        return self._end(auth_ref, "CANCELED")

    def reject(self, auth_ref: str) -> TransactionView:
        """Freja stops the transaction for security reasons: REJECTED."""
        return self._end(auth_ref, "REJECTED")

    def set_mode(self, name: str, seconds: float = 0.0) -> Mode:
        mode = Mode(name, seconds)
        with self._lock:
            self._mode = mode
        logger.debug("Freja simulator: mode set to %s", name)
        return mode

    def set_forgery(self, forgery: str) -> str:
        if forgery not in FORGERIES:
            raise ValueError(f"unknown forgery {forgery!r}; expected one of {', '.join(FORGERIES)}")
        with self._lock:
            self._forgery = forgery
        logger.debug("Freja simulator: forgery set to %s", forgery)
        return forgery

    def reset(self) -> None:
        """Drop every transaction; back to the normal mode, no forgery."""
        with self._lock:
            self._transactions.clear()
            self._mode = Mode()
            self._forgery = "none"

    # --- Under the lock --------------------------------------------------------------------------

    def _sweep(self, now: float) -> None:
        for transaction in list(self._transactions.values()):
            if transaction.status in PENDING and now - transaction.created >= self.transaction_ttl:
                self._finish(transaction, "EXPIRED", transaction.created + self.transaction_ttl)
            if (
                transaction.finished is not None
                and now - transaction.finished > self.finished_retention
            ):
                del self._transactions[transaction.auth_ref]

    def _pending_of(self, personal_number: str) -> list[Transaction]:
        return [
            transaction
            for transaction in self._transactions.values()
            if transaction.status in PENDING
            and transaction.person is not None
            and transaction.person.personal_number == personal_number
        ]

    def _pending(self, auth_ref: str, now: float) -> Transaction:
        self._sweep(now)
        transaction = self._transactions.get(auth_ref)
        if transaction is None:
            raise AppError(HTTPStatus.NOT_FOUND, "notFound", "Det finns ingen sådan transaktion.")
        if transaction.status not in PENDING:
            raise AppError(
                HTTPStatus.CONFLICT,
                "notPending",
                f"Transaktionen väntar inte längre (den är {_STATUS_TEXT[transaction.status]}).",
            )
        return transaction

    def _end(self, auth_ref: str, status: Status) -> TransactionView:
        with self._lock:
            now = self._clock()
            transaction = self._pending(auth_ref, now)
            self._finish(transaction, status, now)
            return self._view(transaction, now)

    def _bind(
        self,
        transaction: Transaction,
        personal_number: str | None,
        now: float,
        *,
        given_name: str | None = None,
        surname: str | None = None,
        country: str | None = None,
        registration_level: str | None = None,
    ) -> None:
        number = personal_number or (
            transaction.person.personal_number if transaction.person else None
        )
        if not number:
            raise AppError(
                HTTPStatus.BAD_REQUEST,
                "personMissing",
                "Välj en person eller ange ett personnummer.",
            )
        if transaction.person is not None and transaction.person.personal_number != number:
            raise AppError(
                HTTPStatus.CONFLICT,
                "otherPerson",
                "Transaktionen är redan öppnad av, eller gäller, en annan person.",
            )
        known = self._people.get(number)
        base = transaction.person or known
        person = SimulatedPerson(
            number,
            given_name or (base.given_name if base else DEFAULT_GIVEN_NAME),
            surname or (base.surname if base else DEFAULT_SURNAME),
            country=country or (base.country if base else "SE"),
            registration_level=registration_level or (base.registration_level if base else "PLUS"),
            email=base.email if base else "",
        )
        if transaction.person is None:
            for other in self._pending_of(number):
                # Only one authentication per person at a time.
                self._finish(other, "REJECTED", now)
        transaction.person = person
        if transaction.status == "STARTED":
            transaction.status = "DELIVERED_TO_MOBILE"
            logger.debug(
                "Freja simulator: transaction %s opened by %s",
                transaction.short_ref,
                mask_personal_number(number),
            )

    def _finish(self, transaction: Transaction, status: Status, at: float) -> None:
        transaction.status = status
        transaction.finished = at
        logger.debug("Freja simulator: transaction %s %s", transaction.short_ref, status)

    def _answer(self, transaction: Transaction) -> dict[str, Any]:
        answer: dict[str, Any] = {"authRef": transaction.auth_ref, "status": transaction.status}
        if transaction.status != "APPROVED":
            return answer
        forgery = self._forgery
        payload = self._payload(transaction)
        # As Freja does, the attributes also come unsigned next to details; only the JWS counts.
        answer["requestedAttributes"] = payload["requestedAttributes"]
        if forgery == "answer-auth-ref":
            answer["authRef"] = secrets.token_urlsafe(48)
        if forgery != "unsigned":
            answer["details"] = self._sign(payload, forgery)
        return answer

    def _payload(self, transaction: Transaction) -> dict[str, Any]:
        person = transaction.person
        assert person is not None  # noqa: S101 (set when approved)
        assert transaction.approved_at is not None  # noqa: S101
        attributes: dict[str, Any] = {}
        wanted = set(transaction.attributes)
        if "BASIC_USER_INFO" in wanted:
            attributes["basicUserInfo"] = {"name": person.given_name, "surname": person.surname}
        if "SSN" in wanted:
            attributes["ssn"] = {"ssn": person.personal_number, "country": person.country}
        if "DATE_OF_BIRTH" in wanted and (born := _birth_date(person)) is not None:
            attributes["dateOfBirth"] = born.isoformat()
        if "AGE" in wanted and (born := _birth_date(person)) is not None:
            attributes["age"] = _age(born, transaction.approved_at.date())
        if "RELYING_PARTY_USER_ID" in wanted:
            attributes["relyingPartyUserId"] = hashlib.sha256(
                f"portal-simulator|{person.country}|{person.personal_number}".encode()
            ).hexdigest()
        if "EMAIL_ADDRESS" in wanted and person.email:
            attributes["emailAddress"] = person.email
        if "REGISTRATION_LEVEL" in wanted:
            attributes["registrationLevel"] = person.registration_level
        return {
            "authRef": transaction.auth_ref,
            "status": "APPROVED",
            "userInfoType": transaction.user_info_type,
            "userInfo": transaction.user_info,
            "minRegistrationLevel": transaction.min_registration_level,
            "requestedAttributes": attributes,
            "timestamp": int(transaction.approved_at.timestamp() * 1000),
        }

    def _sign(self, payload: dict[str, Any], forgery: str) -> str:
        signer = self._signer
        if forgery == "other-auth-ref":
            payload = {**payload, "authRef": secrets.token_urlsafe(48)}
        elif forgery == "status-mismatch":
            payload = {**payload, "status": "REJECTED"}
        elif forgery == "stale":
            payload = {**payload, "timestamp": payload["timestamp"] - 3_600_000}
        elif forgery == "low-registration-level":
            attributes = {**payload["requestedAttributes"], "registrationLevel": "EXTENDED"}
            payload = {
                **payload,
                "minRegistrationLevel": "EXTENDED",
                "requestedAttributes": attributes,
            }
        if forgery == "wrong-key":
            _, other_key = signer.other_pair()
            return sign_details(payload, other_key, signer.certificate)
        if forgery == "unknown-certificate":
            other_cert, other_key = signer.other_pair()
            return sign_details(payload, other_key, other_cert)
        if forgery == "alg-none":
            header = _b64url(json.dumps({"x5t": thumbprint(signer.certificate), "alg": "none"}))
            return f"{header}.{_b64url(json.dumps(payload))}."
        token = sign_details(payload, signer.key, signer.certificate)
        if forgery == "tampered-payload":
            header, _, signature = token.split(".")
            attributes = {
                **payload["requestedAttributes"],
                "ssn": {"ssn": "198503152343", "country": "SE"},
            }
            forged = _b64url(json.dumps({**payload, "requestedAttributes": attributes}))
            return f"{header}.{forged}.{signature}"
        return token

    def _view(self, transaction: Transaction, now: float) -> TransactionView:
        return TransactionView(
            auth_ref=transaction.auth_ref,
            status=transaction.status,
            user_info_type=transaction.user_info_type,
            min_registration_level=transaction.min_registration_level,
            target_number=transaction.target.personal_number if transaction.target else None,
            personal_number=transaction.person.personal_number if transaction.person else None,
            age=now - transaction.created,
        )


_STATUS_TEXT: Final[Mapping[str, str]] = {
    "STARTED": "startad",
    "DELIVERED_TO_MOBILE": "öppnad i appen",
    "CANCELED": "avbruten av personen",
    "RP_CANCELED": "avbruten av webbplatsen",
    "EXPIRED": "utgången",
    "APPROVED": "godkänd",
    "REJECTED": "stoppad av säkerhetsskäl",
}


def _b64url(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8")).rstrip(b"=").decode("ascii")


def _birth_date(person: SimulatedPerson) -> date | None:
    if person.country != "SE" or not _PERSONAL_NUMBER.fullmatch(person.personal_number):
        return None
    number = person.personal_number
    day = int(number[6:8])
    if day > _COORDINATION_OFFSET:
        day -= _COORDINATION_OFFSET
    try:
        return date(int(number[:4]), int(number[4:6]), day)
    except ValueError:
        return None


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


# --- Validation of the API's bodies -------------------------------------------------------------


@dataclass(frozen=True)
class _InitRequest:
    user_info_type: str
    user_info: str
    ssn: str | None
    country: str
    min_registration_level: str
    attributes: tuple[str, ...]


def parse_parameter(body: bytes, name: str) -> dict[str, Any]:
    """The JSON object in ``name=<base64>``, as Freja reads it; ApiError otherwise.

    The base64 is taken as sent (Freja's own clients do not percent-encode it, so ``+`` is a
    base64 character, not a space); a percent-encoded value is decoded first.
    """
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        raise ApiError(1000, "the body is not ASCII") from None
    values = [
        value for key, _, value in (part.partition("=") for part in text.split("&")) if key == name
    ]
    if len(values) != 1 or not values[0]:
        raise ApiError(1000, f"expected one {name} parameter")
    value = unquote(values[0]) if "%" in values[0] else values[0]
    try:
        decoded = base64.b64decode(value, validate=True)
        data = json.loads(decoded.decode("utf-8"), parse_constant=_refuse_constant)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(1010) from None
    if not isinstance(data, dict):
        raise ApiError(1010, "not a JSON object")
    return data


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _parse_init(request: Mapping[str, Any]) -> _InitRequest:
    user_info_type = request.get("userInfoType")
    if user_info_type not in {"INFERRED", "SSN"}:
        # EMAIL, PHONE, ORG_ID and UPI exist in Freja but not in this simulator.
        raise ApiError(1001)
    user_info = request.get("userInfo")
    if not isinstance(user_info, str) or not 0 < len(user_info) <= _MAX_USER_INFO:
        raise ApiError(1002)
    ssn: str | None = None
    country = "SE"
    if user_info_type == "INFERRED":
        if user_info != "N/A":
            raise ApiError(1002, "userInfo must be N/A for INFERRED")
    else:
        ssn, country = _parse_ssn_user_info(user_info)
    level = request.get("minRegistrationLevel", "BASIC")
    if level not in REGISTRATION_LEVELS:
        raise ApiError(1007)
    attributes = _parse_attributes(request.get("attributesToReturn"), level)
    return _InitRequest(user_info_type, user_info, ssn, country, level, attributes)


def _parse_ssn_user_info(user_info: str) -> tuple[str, str]:
    try:
        inner = json.loads(base64.b64decode(user_info, validate=True).decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise ApiError(1002, "userInfo is not base64 of a JSON object") from None
    if not isinstance(inner, dict):
        raise ApiError(1002)
    ssn, country = inner.get("ssn"), inner.get("country")
    if not isinstance(ssn, str) or country not in COUNTRIES:
        raise ApiError(1002)
    if country == "SE" and not is_swedish_number(ssn):
        raise ApiError(1002, "a Swedish ssn is 12 digits YYYYMMDDNNNN")
    return ssn, str(country)


def _parse_attributes(value: object, level: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ApiError(2002)
    names: list[str] = []
    for item in value:
        name = item.get("attribute") if isinstance(item, dict) else None
        if not isinstance(name, str) or name not in ATTRIBUTES:
            raise ApiError(2002)
        if level == "BASIC" and name in _IDENTITY_ATTRIBUTES:
            raise ApiError(2002, f"{name} needs minRegistrationLevel EXTENDED or PLUS")
        names.append(name)
    return tuple(dict.fromkeys(names))


def _auth_ref(request: Mapping[str, Any]) -> str:
    auth_ref = request.get("authRef")
    if not isinstance(auth_ref, str) or not auth_ref:
        raise ApiError(1000, "authRef is required")
    return auth_ref


# --- HTTP servers -------------------------------------------------------------------------------


class _Server(localserver.LocalServer):
    """The API's server (with TLS) or the test app's, sharing the simulator's state."""

    label = "Freja simulator"
    log = logger
    state: FrejaSimulatorState


class _Handler(localserver.LocalHandler):
    server_version = "FrejaEidSimulator/1.0"
    server: _Server

    def _body(self) -> bytes:
        return self._read_body(_MAX_BODY_BYTES, _BODY_TIMEOUT)


class _ApiHandler(_Handler):
    """The RP API: POST ``name=<base64 JSON>`` to the three authentication paths."""

    methods = frozenset({"POST", "GET", "PUT", "DELETE"})

    def _handle(self) -> None:
        started = time.perf_counter()
        state = self.server.state
        path = urlsplit(self.path).path
        mode = state.mode()
        if mode.name == "slow":
            state.stopping.wait(mode.seconds)
        status, content_type, body = self._answer(path, mode)
        self._send(status, body, content_type)
        logger.info(
            "Freja simulator API: %s %s %d %.1f ms",
            self.command,
            path if path in _PARAMETERS else "(other)",
            status,
            (time.perf_counter() - started) * 1000,
        )

    def _answer(self, path: str, mode: Mode) -> tuple[int, str, bytes]:  # noqa: PLR0911
        try:
            body = self._body()
        except localserver.BodyError as error:
            return _json_error(ApiError(1000, error.message))
        if path not in _PARAMETERS:
            return HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"Not Found"
        if self.command != "POST":
            return HTTPStatus.METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", b"Method Not Allowed"
        if mode.name == "unavailable":
            # As a load balancer in front of a service that is down answers: not Freja's JSON.
            return HTTPStatus.SERVICE_UNAVAILABLE, "text/html", b"<h1>503 Service Unavailable</h1>"
        if mode.name == "internalError":
            return _json_error(ApiError(0))
        state = self.server.state
        try:
            request = parse_parameter(body, _PARAMETERS[path])
            if path == INIT_PATH:
                answer = state.init_authentication(request)
            elif path == RESULT_PATH:
                answer = state.get_one_result(request)
            else:
                answer = state.cancel(request)
        except ApiError as error:
            logger.debug("Freja simulator: refused %s: %s", path, error.code)
            return _json_error(error)
        except Exception:
            logger.exception("Freja simulator: error answering %s", path)
            return _json_error(ApiError(0))
        data = json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return HTTPStatus.OK, "application/json", data


def _json_error(error: ApiError) -> tuple[int, str, bytes]:
    return error.status, "application/json", json.dumps(error.body()).encode("utf-8")


# --- The test app -------------------------------------------------------------------------------

_STYLE: Final = """
body { font-family: system-ui, sans-serif; margin: 0; color: #1b1b1b; background: #f6f6f6; }
main { max-width: 44rem; margin: 0 auto; padding: 1rem 1.25rem 3rem; }
h1 { font-size: 1.6rem; }
section { background: #fff; border: 1px solid #767676; border-radius: .5rem;
  padding: .75rem 1rem; margin: 1rem 0; }
label { display: block; font-weight: 600; margin-top: .75rem; }
input, select, button { font: inherit; margin-top: .25rem; }
input, select { width: 100%; box-sizing: border-box; padding: .4rem; border: 1px solid #595959; }
button { padding: .5rem 1rem; margin-top: .75rem; margin-right: .5rem; border-radius: .3rem;
  border: 2px solid #3c1053; background: #3c1053; color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: #3c1053; }
:focus-visible { outline: 3px solid #d12c2c; outline-offset: 2px; }
.status { border: 2px solid #1e6e2f; background: #e8f5eb; padding: .75rem 1rem; }
.error { border: 2px solid #b00020; background: #fdecee; padding: .75rem 1rem; }
.hint { color: #4a4a4a; font-size: .95rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }
"""
_DONE_MESSAGES: Final[Mapping[str, str]] = {
    "opened": "Transaktionen är öppnad i appen. Godkänn eller neka nedan.",
    "approved": "Godkänt – gå tillbaka till webbplatsen.",
    "declined": "Nekat – gå tillbaka till webbplatsen.",
}
_TRANSACTION_PATH = re.compile(r"/transactions/(?P<ref>[A-Za-z0-9_-]{16,128})")
_ACTION_PATH = re.compile(
    r"/transactions/(?P<ref>[A-Za-z0-9_-]{16,128})/(?P<action>open|approve|decline)"
)
_CONTROL_PATH = re.compile(
    r"/control/transactions/(?P<ref>[A-Za-z0-9_-]{16,128})/(?P<action>open|approve|decline|reject)"
)


class _AppHandler(_Handler, localserver.SimulatorAppHandler):
    """The test app (HTML, in Swedish) and the JSON control API, on 127.0.0.1 only."""

    access_label = "Freja simulator app"
    page_headers = localserver.html_page_headers(_STYLE)
    failure_text = b"Ett fel uppstod i simulatorn."

    def _handle(self) -> None:
        url = urlsplit(self.path)
        self._serve_request(lambda: self._route(url.path, url.query), url.path[:40])

    def _route(self, path: str, query: str) -> int:
        control = path.startswith("/control/")
        try:
            body = self._body()
            self._check_host()
            if control:
                return self._control(path, body)
            return self._page(path, parse_qs(query), body)
        except localserver.BodyError:
            return self._refuse(
                control,
                AppError(HTTPStatus.BAD_REQUEST, "badRequest", "Förfrågan kunde inte läsas."),
            )
        except AppError as error:
            return self._refuse(control, error)

    def _refuse(self, control: bool, error: AppError) -> int:
        if control:
            self._send_json(error.status, {"errorCode": error.error_code, "message": error.message})
        else:
            self._send_page(error.status, self._render_list(error=error.message))
        return error.status

    # --- HTML ---

    def _page(self, path: str, query: Mapping[str, list[str]], body: bytes) -> int:
        state = self.server.state
        if self.command in {"GET", "HEAD"}:
            if path == "/":
                self._send_page(HTTPStatus.OK, self._render_list())
                return HTTPStatus.OK
            match = _TRANSACTION_PATH.fullmatch(path)
            if match is None:
                raise AppError(HTTPStatus.NOT_FOUND, "notFound", "Sidan finns inte.")
            view = state.transaction(match["ref"])
            if view is None:
                raise AppError(
                    HTTPStatus.NOT_FOUND,
                    "notFound",
                    "Det finns ingen sådan transaktion. Den kan ha gått ut.",
                )
            done = (query.get("done") or [""])[0]
            self._send_page(HTTPStatus.OK, self._render_transaction(view, done))
            return HTTPStatus.OK
        if self.command != "POST":
            raise AppError(
                HTTPStatus.METHOD_NOT_ALLOWED, "methodNotAllowed", "Metoden är inte tillåten."
            )
        self._check_same_origin()
        form = self._form(body)
        if path == "/scan":
            auth_ref = _ref_from_qr(form.get("qr", ""))
            self._redirect(f"/transactions/{quote(auth_ref, safe='')}")
            return HTTPStatus.SEE_OTHER
        match = _ACTION_PATH.fullmatch(path)
        if match is None:
            raise AppError(HTTPStatus.NOT_FOUND, "notFound", "Sidan finns inte.")
        auth_ref, action = match["ref"], match["action"]
        if action == "decline":
            state.decline(auth_ref)
            done = "declined"
        else:
            number, given_name, surname = localserver.person_from_form(form)
            operation = state.approve if action == "approve" else state.open_transaction
            operation(auth_ref, number, given_name=given_name, surname=surname)
            done = "approved" if action == "approve" else "opened"
        self._redirect(f"/transactions/{quote(auth_ref, safe='')}?{urlencode({'done': done})}")
        return HTTPStatus.SEE_OTHER

    def _redirect(self, location: str) -> None:
        self._send(HTTPStatus.SEE_OTHER, b"", "text/plain; charset=utf-8", {"Location": location})

    def _head(self, error: str | None = None) -> list[str]:
        parts = [
            '<!doctype html><html lang="sv"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            "<title>Freja eID-simulator – testapp</title>",
            f"<style>{_STYLE}</style></head><body><main>",
            "<h1>Freja eID-simulator – testapp</h1>",
            (
                '<p class="hint">Här legitimerar du dig som en testperson när portalen körs mot '
                "den lokala Freja eID-simulatorn. Endast för utveckling och demonstration – ingen "
                "riktig e-legitimation används.</p>"
            ),
        ]
        if error:
            parts.append(f'<p class="error" role="alert">{localserver.h(error)}</p>')
        return parts

    def _render_list(self, error: str | None = None) -> str:
        state = self.server.state
        parts = self._head(error)
        parts.append('<h2>Väntande transaktioner</h2><p><a href="/">Uppdatera listan</a></p>')
        pending = state.transactions(pending_only=True)
        if not pending:
            parts.append("<p>Inga väntande transaktioner just nu.</p>")
        else:
            parts.append("<ul>")
            parts.extend(
                f'<li><a href="/transactions/{localserver.h(quote(view.auth_ref, safe=""))}">'
                f"Legitimering {localserver.h(view.short_ref)}</a> – {localserver.h(_STATUS_TEXT[view.status])}, "
                f"skapad för {int(view.age)} sekunder sedan</li>"
                for view in pending
            )
            parts.append("</ul>")
        parts.append(
            '<section aria-labelledby="scan"><h2 id="scan">Skanna QR-kod</h2>'
            '<p class="hint" id="qr-hint">Klistra in texten i den QR-kod som portalen visar '
            "(frejaeid://bindUserToTransaction?transactionReference=…).</p>"
            '<form method="post" action="/scan">'
            '<label for="qr">QR-kodens innehåll</label>'
            '<input id="qr" name="qr" required autocomplete="off" spellcheck="false" '
            'aria-describedby="qr-hint">'
            '<button type="submit">Skanna QR-kod</button></form></section>'
            "</main></body></html>"
        )
        return "".join(parts)

    def _render_transaction(self, view: TransactionView, done: str) -> str:
        parts = self._head()
        if done in _DONE_MESSAGES:
            parts.append(
                f'<p class="status" role="status">{localserver.h(_DONE_MESSAGES[done])}</p>'
            )
        ref = localserver.h(quote(view.auth_ref, safe=""))
        parts.append(
            f"<section><h2>Legitimering {localserver.h(view.short_ref)}</h2>"
            f"<p>Status: {localserver.h(_STATUS_TEXT[view.status])}. "
            f"Kräver registreringsnivå {localserver.h(view.min_registration_level)}.</p>"
        )
        if view.pending:
            fixed = view.personal_number
            parts.append(
                f'<form method="post" action="/transactions/{ref}/approve">'
                + self._person_fields(fixed)
                + '<button type="submit">Godkänn</button>'
                f'<button type="submit" formaction="/transactions/{ref}/open" class="secondary">'
                "Öppna utan att svara</button></form>"
                f'<form method="post" action="/transactions/{ref}/decline">'
                '<button type="submit" class="secondary">Neka</button></form>'
            )
        parts.append(
            '</section><p><a href="/">Alla väntande transaktioner</a></p></main></body></html>'
        )
        return "".join(parts)

    def _person_fields(self, fixed: str | None) -> str:
        people = self.server.state.people
        if fixed is not None:
            person = next((p for p in people if p.personal_number == fixed), None)
            label = person.label if person else fixed
            return (
                f"<p>Person: {localserver.h(label)}</p>"
                f'<input type="hidden" name="personal_number" value="{localserver.h(fixed)}">'
            )
        options = "".join(
            f'<option value="{localserver.h(person.personal_number)}">{localserver.h(person.label)}</option>'
            for person in people
        )
        return (
            '<label for="person">Person</label>'
            f'<select id="person" name="personal_number">{options}'
            '<option value="">Annan person (ange personnummer nedan)</option></select>'
            '<label for="other">Annat personnummer (valfritt)</label>'
            '<input id="other" name="other_personal_number" inputmode="numeric" '
            'autocomplete="off" aria-describedby="other-hint">'
            '<p class="hint" id="other-hint">12 siffror, till exempel 19121212-1212.</p>'
            '<label for="given">Förnamn (valfritt)</label>'
            '<input id="given" name="given_name" autocomplete="off">'
            '<label for="surname">Efternamn (valfritt)</label>'
            '<input id="surname" name="surname" autocomplete="off">'
        )

    # --- JSON control API ---

    def _control(self, path: str, body: bytes) -> int:
        state = self.server.state
        request = self._control_request(
            path,
            body,
            listing=("/control/transactions", state.transactions),
            pattern=_CONTROL_PATH,
            actions={"/control/mode", "/control/forgery", "/control/reset"},
        )
        if request is None:
            return HTTPStatus.OK
        match, data = request
        answer: Any
        if match is not None:
            answer = _control_transaction(state, match["ref"], match["action"], data)
        elif path == "/control/mode":
            answer = localserver.control_mode(state, data)
        elif path == "/control/forgery":
            forgery = data.get("forgery")
            try:
                answer = {"forgery": state.set_forgery(str(forgery))}
            except ValueError as error:
                raise AppError(HTTPStatus.BAD_REQUEST, "invalidParameters", str(error)) from None
        else:
            state.reset()
            answer = {}
        self._send_json(HTTPStatus.OK, answer)
        return HTTPStatus.OK


def _control_transaction(
    state: FrejaSimulatorState, auth_ref: str, action: str, data: Mapping[str, Any]
) -> dict[str, Any]:
    if action == "decline":
        return state.decline(auth_ref).as_json()
    if action == "reject":
        return state.reject(auth_ref).as_json()
    number = data.get("ssn", data.get("personalNumber"))
    country = data.get("country", "SE")
    if country not in COUNTRIES:
        raise AppError(HTTPStatus.BAD_REQUEST, "invalidParameters", "country: SE, NO, DK eller FI.")
    if number is not None and (
        not isinstance(number, str)
        or not (is_swedish_number(number) if country == "SE" else 0 < len(number) <= _MAX_USER_INFO)
    ):
        raise AppError(
            HTTPStatus.BAD_REQUEST, "invalidParameters", "ssn måste vara ett giltigt personnummer."
        )
    level = data.get("registrationLevel")
    if level is not None and level not in REGISTRATION_LEVELS:
        raise AppError(
            HTTPStatus.BAD_REQUEST,
            "invalidParameters",
            "registrationLevel: BASIC, EXTENDED eller PLUS.",
        )
    person = {
        "given_name": localserver.control_name(data, "givenName"),
        "surname": localserver.control_name(data, "surname"),
        "country": country if "country" in data else None,
        "registration_level": level,
    }
    operation = state.approve if action == "approve" else state.open_transaction
    return operation(auth_ref, number, **person).as_json()


def _ref_from_qr(text: str) -> str:
    """The authRef in ``frejaeid://bindUserToTransaction?transactionReference=<authRef>``."""
    url = urlsplit(text.strip())
    refs = parse_qs(url.query).get("transactionReference", [])
    if (
        url.scheme != "frejaeid"
        or url.netloc != "bindUserToTransaction"
        or len(refs) != 1
        or not _REF.fullmatch(refs[0])
    ):
        raise AppError(
            HTTPStatus.BAD_REQUEST,
            "invalidQr",
            "Det här är inte innehållet i en Freja eID-QR-kod "
            "(frejaeid://bindUserToTransaction?transactionReference=…).",
        )
    return refs[0]


# --- Running ------------------------------------------------------------------------------------


class RunningFrejaSimulator(localserver.RunningSimulatorServers):
    """The two servers of a started simulator; ``stop()`` them, or use ``with``."""

    thread_prefix = "freja-simulator"
    state: FrejaSimulatorState

    def transaction_url(self, auth_ref: str) -> str:
        """The test app's page for a transaction (where "on this device" leads)."""
        return f"{self.app_url}/transactions/{quote(auth_ref, safe='')}"


def start_simulator(
    *,
    pki: FrejaTestPki,
    host: str = "127.0.0.1",
    api_port: int = 0,
    app_port: int = 0,
    people: Iterable[PersonLike] = (),
    transaction_ttl: float = DEFAULT_TRANSACTION_TTL,
    clock: Callable[[], float] = time.monotonic,
) -> RunningFrejaSimulator:
    """Start the API (HTTPS, mutual TLS, on ``host``) and the test app (HTTP, on 127.0.0.1).

    Port 0 picks a free port; the URLs on the returned object say which.
    """
    state = FrejaSimulatorState(
        pki=pki, people=people, transaction_ttl=transaction_ttl, clock=clock
    )
    api_server = _Server(
        (host, api_port),
        _ApiHandler,
        state=state,
        ssl_context=localserver.mutual_tls_context(pki.server_cert, pki.server_key, pki.ca_cert),
    )
    try:
        app_server = _Server(("127.0.0.1", app_port), _AppHandler, state=state)
    except OSError:
        api_server.server_close()
        raise
    return RunningFrejaSimulator(
        state=state,
        api_server=api_server,
        app_server=app_server,
        api_url=f"https://{localserver.url_host(host)}:{api_server.server_port}",
        app_url=f"http://127.0.0.1:{app_server.server_port}",
    )
