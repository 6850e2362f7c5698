"""A local BankID simulator: the relying-party API v6.0 over HTTPS with mutual TLS, and a test app.

The portal's real BankID client talks to it unchanged (same paths, bodies, status codes and error
codes, a client certificate and a pinned CA), so development, demonstrations and tests need no
network and no real e-ID. The *test app* on a second, plain-HTTP port on 127.0.0.1 stands in for
the BankID app: a Swedish page where a developer picks a demo person and approves or declines an
order (or pastes the content of the animated QR code), and a JSON control API for tests.

Only the standard library and ``cryptography`` are used, and nothing from Django, so the module
also runs on its own (``start_simulator``). Everything is kept in memory behind one lock.

What the simulator does on its own, per personal number, is set with *scripts* (``manual``,
``complete:N``, one of the failure hint codes, ``maintenance``, ``tooManyRequests``,
``internalError``, ``slow:SECONDS``); see ``Script``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import logging
import math
import re
import secrets
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any, Final, Literal, NoReturn
from urllib.parse import parse_qs, urlencode, urlsplit
from xml.sax.saxutils import escape as xml_escape

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509 import ocsp

from portal.identity import localserver
from portal.identity.bankid.pki import TestPki, issue_user_certificate, load_ca
from portal.identity.bankid.qr import QR_PREFIX, qr_auth_code
from portal.identity.demo import PersonLike
from portal.identity.localserver import AppError

#: One INFO line per call (method, path, status, duration); what happens to orders is at DEBUG.
#: Personal numbers are masked everywhere (19121212-****).
logger = logging.getLogger("portal.bankid.simulator")

API_BASE_PATH: Final = "/rp/v6.0"
DEFAULT_ORDER_TTL: Final = 180.0
#: BankID keeps a finished order for this long; collect answers the same until then.
FINISHED_ORDER_RETENTION: Final = 60.0
#: The BankID app refuses a QR code whose time is older than this (relative to the order's age).
QR_MAX_AGE_SECONDS: Final = 30
#: Tolerance for a QR time ahead of the order's age: the relying party may round where we truncate.
QR_FUTURE_TOLERANCE_SECONDS: Final = 1
BANKID_ISSUE_DATE: Final = "2020-01-15"
DEFAULT_GIVEN_NAME: Final = "Test"
DEFAULT_SURNAME: Final = "Testsson"
MAX_SLOW_SECONDS: Final = 600.0

_MAX_BODY_BYTES = 1024 * 1024
_DEFAULT_BODY_TIMEOUT = 10.0
_SHORT_REF_LENGTH = 8
_PERSONAL_NUMBER_LENGTH = 12
_QR_PARTS = 4
_QR_MAX_SECONDS_DIGITS = 9
_PERSONAL_NUMBER = re.compile(r"[0-9]{12}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

OrderType = Literal["auth", "sign"]
OrderStatus = Literal["pending", "failed", "complete"]

#: Length limits in characters of the base64 text, as in BankID's API reference: userVisibleData
#: and userNonVisibleData are 1-1 500 characters for auth, 1-40 000 and 1-200 000 for sign.
_DATA_LIMITS: Final[Mapping[str, tuple[int, int]]] = {
    "auth": (1_500, 1_500),
    "sign": (40_000, 200_000),
}

_ERROR_STATUS: Final[Mapping[str, HTTPStatus]] = {
    "invalidParameters": HTTPStatus.BAD_REQUEST,
    "alreadyInProgress": HTTPStatus.BAD_REQUEST,
    "unauthorized": HTTPStatus.UNAUTHORIZED,
    "notFound": HTTPStatus.NOT_FOUND,
    "methodNotAllowed": HTTPStatus.METHOD_NOT_ALLOWED,
    "requestTimeout": HTTPStatus.REQUEST_TIMEOUT,
    "unsupportedMediaType": HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    "tooManyRequests": HTTPStatus.TOO_MANY_REQUESTS,
    "internalError": HTTPStatus.INTERNAL_SERVER_ERROR,
    "maintenance": HTTPStatus.SERVICE_UNAVAILABLE,
}
_ERROR_DETAILS: Final[Mapping[str, str]] = {
    "unauthorized": "The relying party is not allowed to use this service (simulated).",
    "requestTimeout": "The request was not received in time (simulated).",
    "tooManyRequests": "Too many requests (simulated).",
    "internalError": "Internal error (simulated).",
    "maintenance": "The service is down for maintenance (simulated).",
}

#: Failure hint codes a script can produce at the first collect after the person is attached.
FAILURE_HINT_CODES: Final = (
    "userCancel",
    "expiredTransaction",
    "startFailed",
    "certificateErr",
    "userDeclinedCall",
    "transactionRiskBlocked",
    "notSupportedByUserApp",
)
#: Scripts that make /auth and /sign for the person answer with this error instead.
SCRIPT_ERROR_CODES: Final = ("maintenance", "tooManyRequests", "internalError")
#: Global modes. unauthorized and requestTimeout go beyond the brief of the original design so that
#: a client's handling of every documented error code can be tested.
MODES: Final = (
    "normal",
    "maintenance",
    "internalError",
    "tooManyRequests",
    "unauthorized",
    "requestTimeout",
    "slow",
)
#: A slow person, once the delay is over, behaves like complete:2.
_SLOW_COMPLETES_AFTER = 2


class ApiError(Exception):
    """An error answer of the RP API: ``{"errorCode", "details"}`` with the code's HTTP status."""

    def __init__(self, error_code: str, details: str, *, delay: float = 0.0) -> None:
        super().__init__(f"{error_code}: {details}")
        self.error_code = error_code
        self.details = details
        self.status = _ERROR_STATUS[error_code]
        # Errors about a slow person's orders are as slow as the successful answers.
        self.delay = delay

    def body(self) -> dict[str, str]:
        return {"errorCode": self.error_code, "details": self.details}


# --- People, scripts, mode ----------------------------------------------------------------------


@dataclass(frozen=True)
class SimulatedPerson:
    """A person as the simulated BankID knows them: their number and their names."""

    personal_number: str
    given_name: str
    surname: str

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.surname}"

    @property
    def label(self) -> str:
        """How the test app shows the person: ``Tolvan Tolvansson (19121212-1212)``."""
        return f"{self.name} ({format_personal_number(self.personal_number)})"


@dataclass(frozen=True)
class Script:
    """What a simulated person does with their orders, parsed from a SPEC such as ``complete:2``.

    ``manual`` (the default) waits for the test app. ``complete:N`` answers N pending collects once
    the person is attached, then completes. A failure hint code (``userCancel``, ...) fails the
    order with that hint at the first collect after the person is attached. ``maintenance``,
    ``tooManyRequests`` and ``internalError`` make /auth and /sign for the person answer with that
    error. ``slow:SECONDS`` delays every API answer about the person's orders, then behaves like
    ``complete:2``.
    """

    kind: Literal["manual", "complete", "fail", "error", "slow"]
    count: int = 0
    code: str = ""
    seconds: float = 0.0

    @classmethod
    def parse(cls, spec: str) -> Script:
        name, separator, argument = spec.strip().partition(":")
        if name == "manual" and not separator:
            return cls("manual")
        if name == "complete" and separator:
            if not argument.isascii() or not argument.isdigit():
                raise ValueError(f"complete:N needs a whole number N >= 0, not {argument!r}")
            return cls("complete", count=int(argument))
        if name in FAILURE_HINT_CODES and not separator:
            return cls("fail", code=name)
        if name in SCRIPT_ERROR_CODES and not separator:
            return cls("error", code=name)
        if name == "slow" and separator:
            return cls("slow", seconds=_parse_seconds(argument))
        raise ValueError(
            f"unknown script {spec!r}; expected manual, complete:N, slow:SECONDS, "
            f"{', '.join(FAILURE_HINT_CODES)} or {', '.join(SCRIPT_ERROR_CODES)}"
        )

    @property
    def spec(self) -> str:
        if self.kind == "complete":
            return f"complete:{self.count}"
        if self.kind == "slow":
            return f"slow:{self.seconds:g}"
        if self.kind in {"fail", "error"}:
            return self.code
        return "manual"

    @property
    def delay(self) -> float:
        return self.seconds if self.kind == "slow" else 0.0


MANUAL: Final = Script("manual")


def parse_script_option(text: str) -> tuple[str, Script]:
    """Parse ``PNR=SPEC`` (the ``--script`` option) into the personal number and its script."""
    personal_number, separator, spec = text.partition("=")
    personal_number = personal_number.strip()
    if not separator or not _PERSONAL_NUMBER.fullmatch(personal_number):
        raise ValueError(f"expected PNR=SPEC with a 12-digit personal number, not {text!r}")
    return personal_number, Script.parse(spec)


@dataclass(frozen=True)
class Mode:
    """The global behaviour for every API call: ``normal``, an error, or ``slow``."""

    name: str = "normal"
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.name not in MODES:
            raise ValueError(f"unknown mode {self.name!r}; expected one of {', '.join(MODES)}")
        if not (math.isfinite(self.seconds) and 0 <= self.seconds <= MAX_SLOW_SECONDS):
            raise ValueError(f"seconds must be between 0 and {MAX_SLOW_SECONDS:g}")

    @property
    def delay(self) -> float:
        return self.seconds if self.name == "slow" else 0.0


def _parse_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise ValueError(f"slow:SECONDS needs a number of seconds, not {text!r}") from None
    if not (math.isfinite(seconds) and 0 <= seconds <= MAX_SLOW_SECONDS):
        raise ValueError(f"slow:SECONDS must be between 0 and {MAX_SLOW_SECONDS:g}")
    return seconds


def format_personal_number(personal_number: str) -> str:
    """``191212121212`` as people write it: ``19121212-1212``."""
    return f"{personal_number[:8]}-{personal_number[8:]}"


_NUMBER_IN_TEXT = re.compile(r"(?<![0-9])((?:19|20)?[0-9]{6})[-+]?([0-9]{4})(?![0-9])")


def _loggable(text: str) -> str:
    """``text`` (a path a client chose) with anything that looks like a personal number masked."""

    def mask(match: re.Match[str]) -> str:
        ten_digits = (match[1] + match[2])[-10:]
        return f"{match[1]}-****" if localserver.luhn_valid(ten_digits) else match[0]

    return _NUMBER_IN_TEXT.sub(mask, text)


def mask_personal_number(personal_number: str) -> str:
    """The form logs may show: ``19121212-****``."""
    if len(personal_number) != _PERSONAL_NUMBER_LENGTH:
        return "****"
    return f"{personal_number[:8]}-****"


# --- Orders -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StartRequest:
    """A validated body of /auth or /sign."""

    order_type: OrderType
    end_user_ip: str
    personal_number: str | None
    mrtd: bool
    user_visible_data: str | None
    user_non_visible_data: str | None
    return_url: str | None
    return_risk: bool


@dataclass(eq=False)
class Order:
    """One auth or sign order, as the simulated BankID keeps it (mutated under the state's lock)."""

    order_ref: str
    order_type: OrderType
    auto_start_token: str
    qr_start_token: str
    qr_start_secret: str
    created: float
    request: StartRequest
    uhi: str
    status: OrderStatus = "pending"
    hint_code: str | None = "outstandingTransaction"
    person: SimulatedPerson | None = None
    attached: bool = False
    script: Script = MANUAL
    collects_since_attached: int = 0
    finished: float | None = None
    completion_data: dict[str, Any] | None = None

    @property
    def short_ref(self) -> str:
        return self.order_ref[:_SHORT_REF_LENGTH]

    def collect_answer(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"orderRef": self.order_ref, "status": self.status}
        if self.status == "complete":
            answer["completionData"] = self.completion_data
        else:
            answer["hintCode"] = self.hint_code
        return answer


@dataclass(frozen=True)
class OrderView:
    """A consistent copy of an order for the test app and the control API."""

    order_ref: str
    order_type: OrderType
    status: OrderStatus
    hint_code: str | None
    personal_number: str | None
    required_personal_number: str | None
    age: float
    user_visible_text: str | None
    auto_start_token: str
    return_url: str | None
    script: str

    @property
    def short_ref(self) -> str:
        return self.order_ref[:_SHORT_REF_LENGTH]

    def as_json(self) -> dict[str, Any]:
        return {
            "orderRef": self.order_ref,
            "type": self.order_type,
            "status": self.status,
            "hintCode": self.hint_code,
            "personalNumber": self.personal_number,
            "age": round(self.age, 3),
        }


class SimulatorState:
    """The simulated BankID service: orders, scripts and the global mode, behind one lock.

    Both servers call into it; tests may call it directly (``RunningSimulator.state``) and may
    lower ``finished_retention`` and ``body_timeout`` to test those behaviours quickly.
    """

    def __init__(
        self,
        *,
        pki: TestPki,
        people: Iterable[PersonLike] = (),
        scripts: Mapping[str, str | Script] | None = None,
        order_ttl: float = DEFAULT_ORDER_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._orders: dict[str, Order] = {}
        self.people: tuple[SimulatedPerson, ...] = tuple(
            SimulatedPerson(person.personal_number, person.given_name, person.surname)
            for person in people
        )
        self._people_by_number = {person.personal_number: person for person in self.people}
        self._initial_scripts = {
            number: script if isinstance(script, Script) else Script.parse(script)
            for number, script in (scripts or {}).items()
        }
        self._scripts = dict(self._initial_scripts)
        self._mode = Mode()
        self.order_ttl = order_ttl
        self.finished_retention = FINISHED_ORDER_RETENTION
        self.body_timeout = _DEFAULT_BODY_TIMEOUT
        self._pki = pki
        self._ca_cert, self._ca_key = load_ca(pki)
        self._user_certificates: dict[
            tuple[str, str], tuple[x509.Certificate, ec.EllipticCurvePrivateKey]
        ] = {}
        #: Set when the simulator stops, so that delayed answers end at once.
        self.stopping = threading.Event()

    # --- The RP API ------------------------------------------------------------------------------

    def mode(self) -> Mode:
        with self._lock:
            return self._mode

    def check_mode(self) -> None:
        """Raise the global mode's error, if it is one."""
        mode = self.mode()
        if mode.name not in {"normal", "slow"}:
            raise ApiError(mode.name, _ERROR_DETAILS[mode.name])

    def start_order(
        self, order_type: OrderType, body: Mapping[str, Any]
    ) -> tuple[dict[str, str], float]:
        """/auth or /sign: the answer and how long to delay it."""
        request = parse_start_request(order_type, body)
        number = request.personal_number
        with self._lock:
            now = self._clock()
            self._sweep(now)
            script = self._scripts.get(number, MANUAL) if number else MANUAL
            if script.kind == "error":
                raise ApiError(script.code, _ERROR_DETAILS[script.code])
            if number:
                in_progress = self._pending_of(number)
                if in_progress:
                    # As BankID does: the new order is refused and the one in progress is
                    # cancelled, so that a person is never asked to approve two at once.
                    for order in in_progress:
                        self._finish(order, "failed", "cancelled", now)
                    raise ApiError(
                        "alreadyInProgress",
                        "An order for this personal number is already in progress.",
                        delay=script.delay,
                    )
            order = Order(
                order_ref=str(uuid.uuid4()),
                order_type=order_type,
                auto_start_token=str(uuid.uuid4()),
                qr_start_token=str(uuid.uuid4()),
                qr_start_secret=str(uuid.uuid4()),
                created=now,
                request=request,
                uhi=secrets.token_urlsafe(20),
            )
            if number:
                order.person = self._person(number)
                if script.kind != "manual":
                    # A scripted person acts on their own from the start; a manual one waits
                    # until someone opens the order in the test app.
                    order.attached = True
                    order.script = script
            self._orders[order.order_ref] = order
        logger.debug(
            "BankID simulator: %s order %s created%s",
            order_type,
            order.short_ref,
            f" for {mask_personal_number(number)} ({script.spec})" if number else "",
        )
        answer = {
            "orderRef": order.order_ref,
            "autoStartToken": order.auto_start_token,
            "qrStartToken": order.qr_start_token,
            "qrStartSecret": order.qr_start_secret,
        }
        return answer, script.delay

    def collect(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], float]:
        """/collect: the order's status and how long to delay the answer."""
        order_ref = _order_ref(body)
        with self._lock:
            now = self._clock()
            self._sweep(now)
            order = self._orders.get(order_ref)
            if order is None:
                raise ApiError("invalidParameters", "No such order.")
            if order.status == "pending":
                self._advance(order, now)
            return order.collect_answer(), order.script.delay

    def cancel(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], float]:
        """/cancel: the order is gone; a later collect answers invalidParameters."""
        order_ref = _order_ref(body)
        with self._lock:
            self._sweep(self._clock())
            order = self._orders.pop(order_ref, None)
            if order is None:
                raise ApiError("invalidParameters", "No such order.")
        logger.debug("BankID simulator: order %s cancelled by the relying party", order.short_ref)
        return {}, order.script.delay

    # --- The test app and the control API -------------------------------------------------------

    def orders(self, *, pending_only: bool = False) -> list[OrderView]:
        with self._lock:
            now = self._clock()
            self._sweep(now)
            return [
                self._view(order, now)
                for order in sorted(self._orders.values(), key=lambda order: order.created)
                if order.status == "pending" or not pending_only
            ]

    def order_by_auto_start_token(self, token: str) -> OrderView | None:
        with self._lock:
            now = self._clock()
            self._sweep(now)
            for order in self._orders.values():
                if hmac.compare_digest(order.auto_start_token, token):
                    return self._view(order, now)
        return None

    def open_order(
        self,
        order_ref: str,
        personal_number: str | None,
        *,
        given_name: str | None = None,
        surname: str | None = None,
    ) -> OrderView:
        """The person opens the order in their app: the hint becomes ``started``."""
        with self._lock:
            now = self._clock()
            order = self._pending_order(order_ref, now)
            self._attach(order, personal_number, given_name, surname, now)
            return self._view(order, now)

    def approve_order(
        self,
        order_ref: str,
        personal_number: str | None,
        *,
        given_name: str | None = None,
        surname: str | None = None,
    ) -> OrderView:
        """The person approves: complete at the next collect (unless a script decides)."""
        with self._lock:
            now = self._clock()
            order = self._pending_order(order_ref, now)
            self._approve(order, personal_number, given_name, surname, now)
            return self._view(order, now)

    def decline_order(self, order_ref: str) -> OrderView:
        """The person cancels in their app: failed with ``userCancel``."""
        with self._lock:
            now = self._clock()
            order = self._pending_order(order_ref, now)
            self._finish(order, "failed", "userCancel", now)
            logger.debug("BankID simulator: order %s declined in the test app", order.short_ref)
            return self._view(order, now)

    def scan(
        self,
        qr: str,
        personal_number: str,
        *,
        given_name: str | None = None,
        surname: str | None = None,
    ) -> OrderView:
        """Check QR content as the BankID app does, then open and approve the order it names."""
        parts = qr.strip().split(".")
        if len(parts) != _QR_PARTS or parts[0] != QR_PREFIX or not qr.isascii():
            raise AppError(
                HTTPStatus.BAD_REQUEST,
                "invalidQr",
                "Det här är inte innehållet i en BankID-QR-kod "
                "(bankid.<qrStartToken>.<sekunder>.<kod>).",
            )
        _, token, seconds_text, code = parts
        if not seconds_text.isdigit() or len(seconds_text) > _QR_MAX_SECONDS_DIGITS:
            raise AppError(HTTPStatus.BAD_REQUEST, "invalidQr", "QR-kodens tid är inte ett heltal.")
        seconds = int(seconds_text)
        with self._lock:
            now = self._clock()
            self._sweep(now)
            order = next(
                (
                    candidate
                    for candidate in self._orders.values()
                    if hmac.compare_digest(candidate.qr_start_token, token)
                ),
                None,
            )
            if order is None or order.status != "pending":
                raise AppError(
                    HTTPStatus.BAD_REQUEST,
                    "unknownQr",
                    "Ingen väntande order har den här QR-koden. "
                    "Ordern kan ha avbrutits eller gått ut.",
                )
            expected = qr_auth_code(order.qr_start_secret, seconds)
            if not hmac.compare_digest(expected, code):
                raise AppError(
                    HTTPStatus.BAD_REQUEST,
                    "forgedQr",
                    "QR-koden är inte äkta: kontrollkoden stämmer inte med ordern.",
                )
            age = int(now - order.created)
            if seconds > age + QR_FUTURE_TOLERANCE_SECONDS:
                raise AppError(
                    HTTPStatus.BAD_REQUEST,
                    "futureQr",
                    "QR-kodens tid ligger i framtiden. Skanna koden som visas just nu.",
                )
            if age - seconds > QR_MAX_AGE_SECONDS:
                raise AppError(
                    HTTPStatus.BAD_REQUEST,
                    "expiredQr",
                    f"QR-koden är äldre än {QR_MAX_AGE_SECONDS} sekunder. "
                    "Skanna koden som visas just nu.",
                )
            self._approve(order, personal_number, given_name, surname, now)
            return self._view(order, now)

    def set_script(self, personal_number: str, script: str | Script) -> Script:
        if not _PERSONAL_NUMBER.fullmatch(personal_number):
            raise ValueError("the personal number must be 12 digits")
        parsed = script if isinstance(script, Script) else Script.parse(script)
        with self._lock:
            self._scripts[personal_number] = parsed
        logger.debug(
            "BankID simulator: script for %s set to %s",
            mask_personal_number(personal_number),
            parsed.spec,
        )
        return parsed

    def set_mode(self, name: str, seconds: float = 0.0) -> Mode:
        mode = Mode(name, seconds)
        with self._lock:
            self._mode = mode
        logger.debug("BankID simulator: mode set to %s", name)
        return mode

    def reset(self) -> None:
        """Drop every order, every script (also those given at start) and the mode."""
        with self._lock:
            self._orders.clear()
            self._scripts.clear()
            self._mode = Mode()
        logger.debug("BankID simulator: reset")

    # --- Under the lock -------------------------------------------------------------------------

    def _sweep(self, now: float) -> None:
        for order in list(self._orders.values()):
            self._expire(order, now)
            if order.finished is not None and now - order.finished > self.finished_retention:
                del self._orders[order.order_ref]

    def _expire(self, order: Order, now: float) -> None:
        if order.status == "pending" and now - order.created >= self.order_ttl:
            self._finish(order, "failed", "expiredTransaction", order.created + self.order_ttl)

    def _pending_of(self, personal_number: str) -> list[Order]:
        return [
            order
            for order in self._orders.values()
            if order.status == "pending"
            and order.person is not None
            and order.person.personal_number == personal_number
        ]

    def _pending_order(self, order_ref: str, now: float) -> Order:
        self._sweep(now)
        order = self._orders.get(order_ref)
        if order is None:
            raise AppError(HTTPStatus.NOT_FOUND, "notFound", "Det finns ingen sådan order.")
        if order.status != "pending":
            raise AppError(
                HTTPStatus.CONFLICT,
                "notPending",
                f"Ordern väntar inte längre (den är {_STATUS_TEXT[order.status]}).",
            )
        return order

    def _person(
        self, personal_number: str, given_name: str | None = None, surname: str | None = None
    ) -> SimulatedPerson:
        known = self._people_by_number.get(personal_number)
        if given_name or surname:
            return SimulatedPerson(
                personal_number,
                given_name or (known.given_name if known else DEFAULT_GIVEN_NAME),
                surname or (known.surname if known else DEFAULT_SURNAME),
            )
        return known or SimulatedPerson(personal_number, DEFAULT_GIVEN_NAME, DEFAULT_SURNAME)

    def _attach(
        self,
        order: Order,
        personal_number: str | None,
        given_name: str | None,
        surname: str | None,
        now: float,
    ) -> None:
        required = order.request.personal_number
        number = personal_number or required
        if not number and order.attached and order.person is not None:
            number = order.person.personal_number
        if not number:
            raise AppError(
                HTTPStatus.BAD_REQUEST,
                "personalNumberMissing",
                "Välj en person eller ange ett personnummer.",
            )
        if required and number != required:
            raise AppError(
                HTTPStatus.BAD_REQUEST,
                "wrongPerson",
                "Ordern gäller ett annat personnummer än det du valde.",
            )
        if order.attached and order.person is not None:
            if order.person.personal_number != number:
                raise AppError(
                    HTTPStatus.CONFLICT,
                    "openedByAnother",
                    "Ordern är redan öppnad av en annan person.",
                )
            if given_name or surname:
                order.person = self._person(number, given_name, surname)
            return
        for other in self._pending_of(number):
            if other is not order:
                # Opening a second order cancels the one already in progress, as in BankID.
                self._finish(other, "failed", "cancelled", now)
        order.person = self._person(number, given_name, surname)
        order.attached = True
        order.script = self._scripts.get(number, MANUAL)
        order.collects_since_attached = 0
        order.hint_code = "started"
        logger.debug(
            "BankID simulator: order %s opened by %s (%s)",
            order.short_ref,
            mask_personal_number(number),
            order.script.spec,
        )

    def _approve(
        self,
        order: Order,
        personal_number: str | None,
        given_name: str | None,
        surname: str | None,
        now: float,
    ) -> None:
        self._attach(order, personal_number, given_name, surname, now)
        if order.script.kind in {"manual", "error"}:
            self._complete(order, now)
        # Otherwise the person's script decides when and how the order ends.

    def _advance(self, order: Order, now: float) -> None:
        """One collect of a pending order: move the hint along or end the order."""
        if not order.attached:
            return
        seen = order.collects_since_attached
        order.collects_since_attached += 1
        script = order.script
        mrtd = order.request.mrtd
        if script.kind == "fail":
            self._finish(order, "failed", script.code, now)
        elif script.kind in {"complete", "slow"}:
            pending_collects = script.count if script.kind == "complete" else _SLOW_COMPLETES_AFTER
            if seen >= pending_collects:
                self._complete(order, now)
            else:
                order.hint_code = _scripted_hints(pending_collects, mrtd=mrtd)[seen]
        else:
            # Opened in the test app and waiting for the person: started, then (after one
            # further collect) the step before approval.
            steps = ["started", *(["userMrtd"] if mrtd else []), "userSign"]
            order.hint_code = steps[min(seen, len(steps) - 1)]

    def _finish(self, order: Order, status: OrderStatus, hint_code: str, at: float) -> None:
        order.status = status
        order.hint_code = hint_code
        order.finished = at
        logger.debug("BankID simulator: order %s %s (%s)", order.short_ref, status, hint_code)

    def _complete(self, order: Order, now: float) -> None:
        if order.person is None:
            raise RuntimeError("an order completes only once a person is attached")
        order.completion_data = self._completion_data(order, order.person)
        order.status = "complete"
        order.hint_code = None
        order.finished = now
        logger.debug("BankID simulator: order %s complete", order.short_ref)

    def _completion_data(self, order: Order, person: SimulatedPerson) -> dict[str, Any]:
        certificate, key = self._user_certificate(person)
        signed_at = datetime.now(UTC).replace(microsecond=0)
        signature = signature_xml(order, person, certificate, key, signed_at=signed_at)
        ocsp_response = _ocsp_response(
            certificate, self._ca_cert, self._ca_key, signature=signature, at=signed_at
        )
        data: dict[str, Any] = {
            "user": {
                "personalNumber": person.personal_number,
                "name": person.name,
                "givenName": person.given_name,
                "surname": person.surname,
            },
            "device": {"ipAddress": order.request.end_user_ip, "uhi": order.uhi},
        }
        if order.request.mrtd:
            data["stepUp"] = {"mrtd": True}
        data["bankIdIssueDate"] = BANKID_ISSUE_DATE
        data["signature"] = base64.b64encode(signature).decode("ascii")
        data["ocspResponse"] = base64.b64encode(ocsp_response).decode("ascii")
        if order.request.return_risk:
            data["risk"] = "low"
        return data

    def _user_certificate(
        self, person: SimulatedPerson
    ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = (person.personal_number, person.name)
        if key not in self._user_certificates:
            self._user_certificates[key] = issue_user_certificate(
                self._pki, person.personal_number, person.name
            )
        return self._user_certificates[key]

    def _view(self, order: Order, now: float) -> OrderView:
        return OrderView(
            order_ref=order.order_ref,
            order_type=order.order_type,
            status=order.status,
            hint_code=order.hint_code,
            personal_number=order.person.personal_number if order.person else None,
            required_personal_number=order.request.personal_number,
            age=now - order.created,
            user_visible_text=_decode_text(order.request.user_visible_data),
            auto_start_token=order.auto_start_token,
            return_url=order.request.return_url,
            script=order.script.spec,
        )


_STATUS_TEXT: Final[Mapping[str, str]] = {
    "pending": "väntande",
    "failed": "avbruten eller misslyckad",
    "complete": "redan godkänd",
}


def _scripted_hints(pending_collects: int, *, mrtd: bool) -> list[str]:
    """The hints of a scripted person's pending collects: started ..., (userMrtd,) userSign."""
    tail = [*(["userMrtd"] if mrtd else []), "userSign"]
    steps = ["started"] * max(0, pending_collects - len(tail)) + tail
    return steps[-pending_collects:]


def _decode_text(data: str | None) -> str | None:
    if data is None:
        return None
    return base64.b64decode(data).decode("utf-8")


# --- Validation of the RP API's bodies ----------------------------------------------------------


def parse_start_request(order_type: OrderType, body: Mapping[str, Any]) -> StartRequest:
    """Validate an /auth or /sign body as BankID does; raise invalidParameters otherwise."""
    if "personalNumber" in body:
        # Accepted up to v5.1; v6.0 moved it into requirement. A client still sending it would
        # believe it restricts the order to one person while it does not.
        _invalid("personalNumber is not a parameter in v6.0; use requirement.personalNumber.")
    end_user_ip = body.get("endUserIp")
    if not isinstance(end_user_ip, str):
        _invalid("endUserIp is required (a string).")
    try:
        ipaddress.ip_address(end_user_ip)
    except ValueError:
        _invalid("endUserIp is not an IPv4 or IPv6 address.")

    requirement = _parse_requirement(body)
    personal_number = _optional_str(requirement, "personalNumber", "requirement.personalNumber")

    visible_limit, non_visible_limit = _DATA_LIMITS[order_type]
    user_visible_data = _optional_str(body, "userVisibleData", "userVisibleData")
    if user_visible_data is None and order_type == "sign":
        _invalid("userVisibleData is required for sign.")
    if user_visible_data is not None:
        _check_base64(user_visible_data, "userVisibleData", visible_limit, text=True)
    user_non_visible_data = _optional_str(body, "userNonVisibleData", "userNonVisibleData")
    if user_non_visible_data is not None:
        _check_base64(user_non_visible_data, "userNonVisibleData", non_visible_limit, text=False)
    data_format = _optional_str(body, "userVisibleDataFormat", "userVisibleDataFormat")
    if data_format is not None and data_format != "simpleMarkdownV1":
        _invalid("userVisibleDataFormat must be simpleMarkdownV1.")

    return_url = _optional_str(body, "returnUrl", "returnUrl")
    if return_url is not None and not return_url:
        _invalid("returnUrl must not be empty.")
    return_risk = _optional_bool(body, "returnRisk", "returnRisk")
    _check_device(body)
    return StartRequest(
        order_type=order_type,
        end_user_ip=end_user_ip,
        personal_number=personal_number,
        mrtd=requirement.get("mrtd") is True,
        user_visible_data=user_visible_data,
        user_non_visible_data=user_non_visible_data,
        return_url=return_url,
        return_risk=return_risk is True,
    )


def _parse_requirement(body: Mapping[str, Any]) -> Mapping[str, Any]:
    requirement = _optional_object(body, "requirement")
    for name in ("pinCode", "mrtd"):
        _optional_bool(requirement, name, f"requirement.{name}")
    card_reader = _optional_str(requirement, "cardReader", "requirement.cardReader")
    if card_reader is not None and card_reader not in {"class1", "class2"}:
        _invalid("requirement.cardReader must be class1 or class2.")
    policies = requirement.get("certificatePolicies")
    if policies is not None and not (
        isinstance(policies, list)
        and all(isinstance(policy, str) and policy for policy in policies)
    ):
        _invalid("requirement.certificatePolicies must be a list of strings.")
    personal_number = _optional_str(requirement, "personalNumber", "requirement.personalNumber")
    if personal_number is not None and not _PERSONAL_NUMBER.fullmatch(personal_number):
        _invalid("requirement.personalNumber must be 12 digits (YYYYMMDDNNNN).")
    return requirement


def _check_device(body: Mapping[str, Any]) -> None:
    web = _optional_object(body, "web")
    for name in ("deviceIdentifier", "referringDomain", "userAgent"):
        _optional_str(web, name, f"web.{name}")
    app = _optional_object(body, "app")
    for name in ("appIdentifier", "deviceOS", "deviceModelName", "deviceIdentifier"):
        _optional_str(app, name, f"app.{name}")


def _invalid(details: str) -> NoReturn:
    raise ApiError("invalidParameters", details)


def _order_ref(body: Mapping[str, Any]) -> str:
    order_ref = body.get("orderRef")
    if not isinstance(order_ref, str) or not order_ref:
        _invalid("orderRef is required (a string).")
    return order_ref


def _optional_object(body: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        _invalid(f"{name} must be an object.")
    return value


def _optional_str(body: Mapping[str, Any], name: str, label: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        _invalid(f"{label} must be a string.")
    return value


def _optional_bool(body: Mapping[str, Any], name: str, label: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        _invalid(f"{label} must be true or false.")
    return value


def _check_base64(value: str, name: str, limit: int, *, text: bool) -> None:
    if not 1 <= len(value) <= limit:
        _invalid(f"{name} must be 1-{limit} characters of base64.")
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        _invalid(f"{name} is not valid base64.")
    if text:
        try:
            decoded.decode("utf-8")
        except UnicodeDecodeError:
            _invalid(f"{name} is not base64 of UTF-8 text.")


# --- Signature and OCSP -------------------------------------------------------------------------

XMLDSIG_NAMESPACE: Final = "http://www.w3.org/2000/09/xmldsig#"
BANKID_SIGNATURE_NAMESPACE: Final = "http://www.bankid.com/signature/v1.0.0/types"


def signature_xml(
    order: Order,
    person: SimulatedPerson,
    certificate: x509.Certificate,
    key: ec.EllipticCurvePrivateKey,
    *,
    signed_at: datetime,
) -> bytes:
    """An XML-DSig-style signature document, like the one BankID returns in completionData.

    ``bankIdSignedData`` holds what was signed (order type and reference, userVisibleData and
    userNonVisibleData exactly as sent, the personal number, name and time). ``SignedInfo``
    carries the SHA-256 digest of that element's bytes and ``SignatureValue`` is ECDSA-SHA256 over
    ``SignedInfo``'s bytes (r||s, as XML-DSig writes ECDSA), both taken exactly as they appear in
    the document, which writes them in canonical form. The user's certificate is in ``KeyInfo``.
    """
    request = order.request
    signed_data = "".join(
        [
            f'<bankIdSignedData xmlns="{BANKID_SIGNATURE_NAMESPACE}" Id="bidSignedData">',
            f"<orderType>{order.order_type}</orderType>",
            f"<orderRef>{order.order_ref}</orderRef>",
            (
                '<usrVisibleData charset="UTF-8" visible="wysiwys">'
                f"{xml_escape(request.user_visible_data)}</usrVisibleData>"
                if request.user_visible_data is not None
                else ""
            ),
            (
                f"<usrNonVisibleData>{xml_escape(request.user_non_visible_data)}</usrNonVisibleData>"
                if request.user_non_visible_data is not None
                else ""
            ),
            f"<personalNumber>{xml_escape(person.personal_number)}</personalNumber>",
            f"<name>{xml_escape(person.name)}</name>",
            f"<timestamp>{signed_at.strftime('%Y-%m-%dT%H:%M:%SZ')}</timestamp>",
            f"<nonce>{base64.b64encode(secrets.token_bytes(16)).decode('ascii')}</nonce>",
            "</bankIdSignedData>",
        ]
    ).encode("utf-8")
    digest = base64.b64encode(hashlib.sha256(signed_data).digest()).decode("ascii")
    signed_info = (
        f'<SignedInfo xmlns="{XMLDSIG_NAMESPACE}">'
        '<CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#">'
        "</CanonicalizationMethod>"
        '<SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256">'
        "</SignatureMethod>"
        f'<Reference Type="{BANKID_SIGNATURE_NAMESPACE}" URI="#bidSignedData">'
        "<Transforms>"
        '<Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"></Transform>'
        "</Transforms>"
        '<DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"></DigestMethod>'
        f"<DigestValue>{digest}</DigestValue>"
        "</Reference>"
        "</SignedInfo>"
    ).encode()
    r, s = decode_dss_signature(key.sign(signed_info, ec.ECDSA(hashes.SHA256())))
    size = (key.curve.key_size + 7) // 8
    signature_value = base64.b64encode(r.to_bytes(size, "big") + s.to_bytes(size, "big"))
    certificate_der = base64.b64encode(certificate.public_bytes(serialization.Encoding.DER))
    return b"".join(
        [
            b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
            f'<Signature xmlns="{XMLDSIG_NAMESPACE}">'.encode("ascii"),
            signed_info,
            b"<SignatureValue>",
            signature_value,
            b"</SignatureValue>",
            b"<KeyInfo><X509Data><X509Certificate>",
            certificate_der,
            b"</X509Certificate></X509Data></KeyInfo>",
            b"<Object>",
            signed_data,
            b"</Object>",
            b"</Signature>",
        ]
    )


def _ocsp_response(
    certificate: x509.Certificate,
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    *,
    signature: bytes,
    at: datetime,
) -> bytes:
    """A real OCSP response, signed by the test CA, saying the user's certificate is good."""
    response = (
        ocsp.OCSPResponseBuilder()
        .add_response(
            cert=certificate,
            issuer=ca_cert,
            algorithm=hashes.SHA256(),
            cert_status=ocsp.OCSPCertStatus.GOOD,
            this_update=at,
            next_update=at + timedelta(hours=12),
            revocation_time=None,
            revocation_reason=None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, ca_cert)
        # As in BankID's responses, the nonce binds the OCSP response to this very signature.
        .add_extension(x509.OCSPNonce(hashlib.sha256(signature).digest()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return response.public_bytes(serialization.Encoding.DER)


# --- HTTP servers -------------------------------------------------------------------------------


def server_ssl_context(pki: TestPki) -> ssl.SSLContext:
    """The API's TLS: 1.2 or newer, and a client certificate issued by the test CA is required."""
    return localserver.mutual_tls_context(pki.server_cert, pki.server_key, pki.ca_cert)


class _Server(localserver.LocalServer):
    """The API's server (with TLS) or the test app's, sharing the simulator's state."""

    label = "BankID simulator"
    log = logger
    state: SimulatorState


class _Handler(localserver.LocalHandler):
    server_version = "BankIDSimulator/6.0"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 -- the base class's name
        super().log_message("%s", _loggable(format % args))

    def _body(self) -> bytes:
        return self._read_body(_MAX_BODY_BYTES, self.server.state.body_timeout)


def _body_error_code(error: localserver.BodyError) -> str:
    return "requestTimeout" if error.timed_out else "invalidParameters"


_API_ENDPOINTS: Final = frozenset({"auth", "sign", "collect", "cancel"})


class _ApiHandler(_Handler):
    """The RP API: POST with a JSON object to /rp/v6.0/{auth,sign,collect,cancel}."""

    methods = frozenset({"POST", "GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"})

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # What http.server refuses by itself (a malformed request line, an unknown method) is
        # answered in the API's JSON too.
        if code == HTTPStatus.NOT_IMPLEMENTED:
            error_code = "methodNotAllowed"
        elif code == HTTPStatus.REQUEST_TIMEOUT:
            error_code = "requestTimeout"
        else:
            error_code = "invalidParameters"
        self.close_connection = True
        error = ApiError(error_code, message or "The request could not be read.")
        self._send_json(error.status, error.body())

    def _handle(self) -> None:
        started = time.perf_counter()
        state = self.server.state
        path = urlsplit(self.path).path
        delay = state.mode().delay
        try:
            payload, extra_delay = self._answer(path)
            status = HTTPStatus.OK
        except ApiError as error:
            status, payload, extra_delay = error.status, error.body(), error.delay
        except OSError:
            raise
        except Exception:
            logger.exception(
                "BankID simulator: error answering %s %s", self.command, _loggable(path)
            )
            failure = ApiError("internalError", "Internal error in the simulator.")
            status, payload, extra_delay = failure.status, failure.body(), 0.0
        delay = max(delay, extra_delay)
        if delay > 0:
            state.stopping.wait(delay)
        self._send_json(status, payload)
        logger.info(
            "BankID simulator API: %s %s %d %.1f ms",
            self.command,
            _loggable(path),
            status,
            (time.perf_counter() - started) * 1000,
        )

    def _answer(self, path: str) -> tuple[dict[str, Any], float]:
        state = self.server.state
        try:
            body = self._body()
        except localserver.BodyError as error:
            raise ApiError(_body_error_code(error), error.message) from None
        endpoint = (
            path.removeprefix(API_BASE_PATH + "/") if path.startswith(API_BASE_PATH + "/") else ""
        )
        if endpoint not in _API_ENDPOINTS:
            raise ApiError("notFound", f"No such resource: {path}")
        if self.command != "POST":
            raise ApiError("methodNotAllowed", f"{self.command} is not allowed; use POST.")
        if self.headers.get_content_type() != "application/json" or (
            self.headers.get_content_charset("utf-8").lower() not in {"utf-8", "utf8"}
        ):
            raise ApiError("unsupportedMediaType", "Content-Type must be application/json.")
        state.check_mode()
        data = _parse_json_object(body)
        if endpoint == "auth":
            return state.start_order("auth", data)
        if endpoint == "sign":
            return state.start_order("sign", data)
        if endpoint == "collect":
            return state.collect(data)
        return state.cancel(data)


def _parse_json_object(body: bytes) -> dict[str, Any]:
    def refuse_constant(name: str) -> NoReturn:
        raise ValueError(f"{name} is not JSON")

    try:
        data = json.loads(body.decode("utf-8"), parse_constant=refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        _invalid("The body is not valid JSON.")
    if not isinstance(data, dict):
        _invalid("The body must be a JSON object.")
    return data


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
  border: 2px solid #193e4f; background: #193e4f; color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: #193e4f; }
:focus-visible { outline: 3px solid #d12c2c; outline-offset: 2px; }
.text { white-space: pre-wrap; border-left: 4px solid #193e4f; padding-left: .75rem; }
.status { border: 2px solid #1e6e2f; background: #e8f5eb; padding: .75rem 1rem; }
.error { border: 2px solid #b00020; background: #fdecee; padding: .75rem 1rem; }
.hint { color: #4a4a4a; font-size: .95rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }
"""
_DONE_MESSAGES: Final[Mapping[str, str]] = {
    "approved": "Klart – gå tillbaka till webbplatsen.",
    "declined": "Avbrutet – gå tillbaka till webbplatsen.",
    "scripted": "Personen har ett skript som bestämmer hur ordern slutar. "
    "Gå tillbaka till webbplatsen.",
}
_ORDER_PATH = re.compile(r"/orders/(?P<ref>[0-9a-f-]{36})/(?P<action>approve|decline)")
_CONTROL_ORDER_PATH = re.compile(
    r"/control/orders/(?P<ref>[0-9a-f-]{36})/(?P<action>approve|decline|open)"
)


class _AppHandler(_Handler, localserver.SimulatorAppHandler):
    """The test app (HTML, in Swedish) and the JSON control API, on 127.0.0.1 only."""

    access_label = "BankID simulator app"
    page_headers = localserver.html_page_headers(_STYLE)
    failure_text = b"Ett fel uppstod i simulatorn."

    def _handle(self) -> None:
        url = urlsplit(self.path)
        self._serve_request(lambda: self._route(url.path, parse_qs(url.query)), _loggable(url.path))

    def _route(self, path: str, query: Mapping[str, list[str]]) -> int:
        control = path.startswith("/control/")
        try:
            body = self._body()
        except localserver.BodyError as error:
            return self._refuse(
                control,
                AppError(
                    HTTPStatus.BAD_REQUEST, _body_error_code(error), "Förfrågan kunde inte läsas."
                ),
                query,
            )
        try:
            self._check_host()
            if control:
                return self._control(path, body)
            return self._page(path, query, body)
        except AppError as error:
            return self._refuse(control, error, query)

    def _refuse(self, control: bool, error: AppError, query: Mapping[str, list[str]]) -> int:
        if control:
            self._send_json(error.status, {"errorCode": error.error_code, "details": error.message})
        else:
            token = _valid_token(query)
            self._send_page(error.status, self._render(token=token, error=error.message))
        return error.status

    # --- HTML ---

    def _page(self, path: str, query: Mapping[str, list[str]], body: bytes) -> int:
        token = _valid_token(query)
        if path == "/":
            if self.command not in {"GET", "HEAD"}:
                raise AppError(
                    HTTPStatus.METHOD_NOT_ALLOWED, "methodNotAllowed", "Metoden är inte tillåten."
                )
            done = (query.get("done") or [""])[0]
            self._send_page(HTTPStatus.OK, self._render(token=token, done=done))
            return HTTPStatus.OK
        match = _ORDER_PATH.fullmatch(path)
        if path != "/scan" and match is None:
            raise AppError(HTTPStatus.NOT_FOUND, "notFound", "Sidan finns inte.")
        if self.command != "POST":
            raise AppError(
                HTTPStatus.METHOD_NOT_ALLOWED, "methodNotAllowed", "Metoden är inte tillåten."
            )
        self._check_same_origin()
        form = self._form(body)
        state = self.server.state
        if match is None:
            qr = form.get("qr", "")
            if not qr:
                raise AppError(
                    HTTPStatus.BAD_REQUEST, "qrMissing", "Klistra in QR-kodens innehåll."
                )
            number, given_name, surname = localserver.person_from_form(form)
            if number is None:
                raise AppError(
                    HTTPStatus.BAD_REQUEST,
                    "personalNumberMissing",
                    "Välj en person eller ange ett personnummer.",
                )
            view = state.scan(qr, number, given_name=given_name, surname=surname)
        elif match["action"] == "decline":
            view = state.decline_order(match["ref"])
        else:
            number, given_name, surname = localserver.person_from_form(form)
            view = state.approve_order(match["ref"], number, given_name=given_name, surname=surname)
        if view.status == "complete":
            done = "approved"
        elif view.status == "failed":
            done = "declined"
        else:
            done = "scripted"
        location = "/?" + urlencode({"done": done, **({"autostarttoken": token} if token else {})})
        self._send(HTTPStatus.SEE_OTHER, b"", "text/plain; charset=utf-8", {"Location": location})
        return HTTPStatus.SEE_OTHER

    def _render(self, *, token: str | None, done: str = "", error: str | None = None) -> str:
        state = self.server.state
        if token:
            found = state.order_by_auto_start_token(token)
            orders = [found] if found is not None and found.status == "pending" else []
        else:
            found = None
            orders = state.orders(pending_only=True)
        query = f"?{urlencode({'autostarttoken': token})}" if token else ""
        parts = [
            '<!doctype html><html lang="sv"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            "<title>BankID-simulator – testapp</title>",
            f"<style>{_STYLE}</style></head><body><main>",
            "<h1>BankID-simulator – testapp</h1>",
            (
                '<p class="hint">Här legitimerar och signerar du som en testperson när portalen '
                "körs mot den lokala BankID-simulatorn. Endast för utveckling och demonstration "
                "– ingen riktig e-legitimation används.</p>"
            ),
        ]
        if error:
            parts.append(f'<p class="error" role="alert">{localserver.h(error)}</p>')
        if done in _DONE_MESSAGES:
            parts.append(f'<p class="status" role="status">{localserver.h(_DONE_MESSAGES[done])}')
            if found is not None and done == "approved" and _is_web_url(found.return_url):
                parts.append(
                    f' <a href="{localserver.h(found.return_url or "")}">Tillbaka till webbplatsen</a>'
                )
            parts.append("</p>")
        parts.append(
            '<h2>Väntande order</h2><p><a href="/' + localserver.h(query) + '">Uppdatera listan</a>'
        )
        if token:
            parts.append(' · <a href="/">Visa alla order</a>')
        parts.append("</p>")
        if not orders and not done:
            parts.append(
                "<p>Ingen väntande order för den här länken.</p>"
                if token
                else "<p>Inga väntande order just nu.</p>"
            )
        parts.extend(self._render_order(order, query) for order in orders)
        if not token:
            parts.append(self._render_scan())
        parts.append("</main></body></html>")
        return "".join(parts)

    def _render_order(self, order: OrderView, query: str) -> str:
        ref = localserver.h(order.order_ref)
        kind = "Legitimering" if order.order_type == "auth" else "Underskrift"
        action = "Legitimera" if order.order_type == "auth" else "Signera"
        parts = [
            f'<section aria-labelledby="order-{ref}">',
            f'<h3 id="order-{ref}">{kind} {localserver.h(order.short_ref)}</h3>',
            f"<p>Skapad för {int(order.age)} sekunder sedan.",
        ]
        if order.required_personal_number:
            parts.append(
                f" Gäller bara {localserver.h(format_personal_number(order.required_personal_number))}."
            )
        if order.script != "manual":
            parts.append(f" Skript: {localserver.h(order.script)}.")
        parts.append("</p>")
        if order.user_visible_text is not None:
            label = "Text att signera" if order.order_type == "sign" else "Text från webbplatsen"
            parts.append(
                f'<p><strong>{label}:</strong></p><div class="text">{localserver.h(order.user_visible_text)}</div>'
            )
        parts.append(
            f'<form method="post" action="/orders/{ref}/approve{localserver.h(query)}">'
            + self._render_person_fields(f"o{order.short_ref}", order.required_personal_number)
            + f'<button type="submit">{action}<span class="visually-hidden"> '
            f"order {localserver.h(order.short_ref)}</span></button></form>"
            f'<form method="post" action="/orders/{ref}/decline{localserver.h(query)}">'
            '<button type="submit" class="secondary">Avbryt'
            f'<span class="visually-hidden"> order {localserver.h(order.short_ref)}</span></button>'
            "</form></section>"
        )
        return "".join(parts)

    def _render_person_fields(self, prefix: str, required: str | None) -> str:
        people = self.server.state.people
        # An order for someone who is not a demo person preselects "another person" and fills in
        # their number; otherwise the browser preselects the first person in the list.
        other = required is not None and required not in {p.personal_number for p in people}
        options = "".join(
            f'<option value="{localserver.h(person.personal_number)}"'
            f"{' selected' if person.personal_number == required else ''}>"
            f"{localserver.h(person.label)}</option>"
            for person in people
        )
        other_value = required if other and required else ""
        return (
            f'<label for="{prefix}-person">Person</label>'
            f'<select id="{prefix}-person" name="personal_number">{options}'
            f'<option value=""{" selected" if other else ""}>'
            "Annan person (ange personnummer nedan)</option></select>"
            f'<label for="{prefix}-other">Annat personnummer (valfritt)</label>'
            f'<input id="{prefix}-other" name="other_personal_number" '
            f'aria-describedby="{prefix}-other-hint" inputmode="numeric" autocomplete="off" '
            f'value="{localserver.h(other_value)}">'
            f'<p class="hint" id="{prefix}-other-hint">12 siffror, till exempel '
            "19121212-1212. Fyll i för att välja någon som inte finns i listan.</p>"
            f'<label for="{prefix}-given">Förnamn (valfritt)</label>'
            f'<input id="{prefix}-given" name="given_name" autocomplete="off">'
            f'<label for="{prefix}-surname">Efternamn (valfritt)</label>'
            f'<input id="{prefix}-surname" name="surname" autocomplete="off">'
        )

    def _render_scan(self) -> str:
        return (
            '<section aria-labelledby="scan"><h2 id="scan">Skanna QR-kod</h2>'
            '<p class="hint">Klistra in texten i den QR-kod som portalen visar '
            "(bankid.…). Koden byts varje sekund och gäller i 30 sekunder.</p>"
            '<form method="post" action="/scan">'
            '<label for="qr">QR-kodens innehåll</label>'
            '<input id="qr" name="qr" required autocomplete="off" spellcheck="false">'
            + self._render_person_fields("scan", None)
            + '<button type="submit">Skanna QR-kod</button></form></section>'
        )

    # --- JSON control API ---

    def _control_order(self, order_ref: str, action: str, data: Mapping[str, Any]) -> Any:
        state = self.server.state
        if action == "decline":
            return state.decline_order(order_ref).as_json()
        number = _control_personal_number(data)
        given_name = localserver.control_name(data, "givenName")
        surname = localserver.control_name(data, "surname")
        operation = state.approve_order if action == "approve" else state.open_order
        return operation(order_ref, number, given_name=given_name, surname=surname).as_json()

    def _control(self, path: str, body: bytes) -> int:
        state = self.server.state
        request = self._control_request(
            path,
            body,
            listing=("/control/orders", state.orders),
            pattern=_CONTROL_ORDER_PATH,
            actions={"/control/scripts", "/control/mode", "/control/reset"},
        )
        if request is None:
            return HTTPStatus.OK
        match, data = request
        answer: Any
        if match is not None:
            answer = self._control_order(match["ref"], match["action"], data)
        elif path == "/control/scripts":
            answer = _control_script(state, data)
        elif path == "/control/mode":
            answer = localserver.control_mode(state, data)
        else:
            state.reset()
            answer = {}
        self._send_json(HTTPStatus.OK, answer)
        return HTTPStatus.OK


def _control_script(state: SimulatorState, data: Mapping[str, Any]) -> dict[str, Any]:
    number = _control_personal_number(data)
    spec = data.get("spec")
    if number is None or not isinstance(spec, str):
        raise AppError(
            HTTPStatus.BAD_REQUEST,
            "invalidParameters",
            "Ange personalNumber (12 siffror) och spec (till exempel complete:2).",
        )
    try:
        script = state.set_script(number, spec)
    except ValueError as error:
        raise AppError(HTTPStatus.BAD_REQUEST, "invalidParameters", str(error)) from None
    return {"personalNumber": number, "spec": script.spec}


def _control_personal_number(data: Mapping[str, Any]) -> str | None:
    number = data.get("personalNumber")
    if number is None:
        return None
    if not isinstance(number, str) or not _PERSONAL_NUMBER.fullmatch(number):
        raise AppError(
            HTTPStatus.BAD_REQUEST,
            "invalidParameters",
            "personalNumber måste vara 12 siffror (ÅÅÅÅMMDDNNNN).",
        )
    return number


def _valid_token(query: Mapping[str, list[str]]) -> str | None:
    token = (query.get("autostarttoken") or [""])[0]
    return token if _UUID.fullmatch(token) else None


def _is_web_url(url: str | None) -> bool:
    return url is not None and urlsplit(url).scheme in {"http", "https"}


# --- Running ------------------------------------------------------------------------------------


class RunningSimulator(localserver.RunningSimulatorServers):
    """The two servers of a started simulator; ``stop()`` them, or use ``with``."""

    thread_prefix = "bankid-simulator"
    state: SimulatorState


def start_simulator(
    *,
    pki: TestPki,
    host: str = "127.0.0.1",
    api_port: int = 0,
    app_port: int = 0,
    people: Iterable[PersonLike] = (),
    scripts: Mapping[str, str | Script] | None = None,
    order_ttl: float = DEFAULT_ORDER_TTL,
) -> RunningSimulator:
    """Start the RP API (HTTPS, mutual TLS, on ``host``) and the test app (HTTP, on 127.0.0.1).

    Port 0 picks a free port; the URLs on the returned object say which. Both servers run in
    daemon threads until ``stop()``.
    """
    state = SimulatorState(pki=pki, people=people, scripts=scripts, order_ttl=order_ttl)
    api_server = _Server(
        (host, api_port), _ApiHandler, state=state, ssl_context=server_ssl_context(pki)
    )
    try:
        app_server = _Server(("127.0.0.1", app_port), _AppHandler, state=state)
    except OSError:
        api_server.server_close()
        raise
    api_host = localserver.url_host(host)
    return RunningSimulator(
        state=state,
        api_server=api_server,
        app_server=app_server,
        api_url=f"https://{api_host}:{api_server.server_port}{API_BASE_PATH}",
        app_url=f"http://127.0.0.1:{app_server.server_port}",
    )
