"""Faults at the portal's edges, against real processes: BankID unreachable or slow, and the mail
server down.

BankID: the portal is served by gunicorn (one worker with threads, as ``portal_server`` starts it)
and talks over mutual TLS to the BankID simulator on ports of its own, which the tests stop, slow
down and start again. The browser is httpx, keeping the portal's cookies itself.

Mail: the portal's own commands, each its own process as in production: ``portal terms_publish``
queues a notice, ``portal db_worker --batch`` tries to send it while nothing listens on the SMTP
port, ``portal outbox_flush`` runs as its timer would, and a real SMTP server (aiosmtpd) appears
later. The backoff is fast-forwarded by moving every stored time back, which to the portal is the
same as the clock moving on.
"""

from __future__ import annotations

import re
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from django.utils import translation

from portal.identity.bankid import messages as bankid_messages
from portal.identity.bankid.pki import TestPki
from portal.identity.bankid.simulator import RunningSimulator, start_simulator
from portal.identity.demo import DEMO_PEOPLE
from tests.messaging.smtp_sink import SmtpSink
from tests.support.server import free_port, portal_env, portal_server, run_portal

pytestmark = [pytest.mark.faults]

T = TypeVar("T")

# --- BankID -------------------------------------------------------------------------------------

#: BANKID_TIMEOUT_SECONDS for the portal under test: starting an order (its retries included)
#: and each collect give up after this long.
BANKID_TIMEOUT = 3
#: The longest a login start may take when BankID never answers: the whole start, retries
#: included, is held to one timeout, so that a hanging BankID cannot tie up a server thread for
#: a timeout per attempt.
WORST_CASE = float(BANKID_TIMEOUT)
#: Room for a loaded CI machine (two test processes on two cores) on top of the worst case.
SLACK = 3.0
#: How long the slow simulator holds each answer: far beyond the portal's timeout.
SIMULATOR_DELAY = 30.0
#: What "answers at once" means for a page that does not need BankID, on a loaded CI machine.
QUICK = 2.0
_CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _rfa5() -> str:
    """BankID's RFA5 text, in Swedish as the portal shows it by default."""
    with translation.override("sv"):
        return bankid_messages.text(bankid_messages.error_message("unavailable"))


class Browser:
    """httpx as a browser. The portal's cookies are ``Secure`` with the ``__Host-`` prefix, which
    browsers send to http://127.0.0.1 but httpx's cookie jar keeps to https://; so they are kept
    here and sent by hand."""

    def __init__(self, base_url: str) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=WORST_CASE + 30)
        self.cookies: dict[str, str] = {}

    def close(self) -> None:
        self.client.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        response = self.client.request(method, path, headers=headers, **kwargs)
        self.client.cookies.clear()
        for header in response.headers.get_list("set-cookie"):
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return response

    def login_form(self) -> dict[str, str]:
        """The login page's BankID form (QR code on another device), with its CSRF token."""
        page = self.request("GET", "/logga-in/")
        assert page.status_code == 200, page.text
        assert "__Host-portal_csrf" in self.cookies, page.headers
        token = _CSRF_FIELD.search(page.text)
        assert token is not None, "no CSRF token in the login page"
        return {"csrfmiddlewaretoken": token[1], "device": "other", "next": ""}

    def start_login(self, form: dict[str, str] | None = None) -> httpx.Response:
        """Press "Mobilt BankID på en annan enhet"."""
        return self.request("POST", "/logga-in/bankid/", data=form or self.login_form())


def _timed(call: Callable[[], T]) -> tuple[T, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def _wait_until(condition: Callable[[], T], *, seconds: float, what: str) -> T:
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {seconds:g} s")
        time.sleep(0.05)


@dataclass(frozen=True)
class BankIDPortal:
    """The portal under test, and where it expects BankID to be (nothing there until a test
    starts the simulator)."""

    url: str
    pki: TestPki
    api_port: int
    app_port: int

    def simulator(self) -> RunningSimulator:
        return start_simulator(
            pki=self.pki, api_port=self.api_port, app_port=self.app_port, people=DEMO_PEOPLE
        )


@pytest.fixture(scope="module")
def bankid_portal(
    tmp_path_factory: pytest.TempPathFactory, bankid_pki: TestPki
) -> Iterator[BankIDPortal]:
    tmp_path = tmp_path_factory.mktemp("faults-bankid")
    api_port, app_port = free_port(), free_port()
    env = portal_env(
        tmp_path,
        BANKID_API_URL=f"https://127.0.0.1:{api_port}/rp/v6.0",
        BANKID_CLIENT_CERT=str(bankid_pki.client_cert),
        BANKID_CLIENT_KEY=str(bankid_pki.client_key),
        BANKID_CA_CERT=str(bankid_pki.ca_cert),
        BANKID_SIMULATOR_APP_URL=f"http://127.0.0.1:{app_port}",
        BANKID_TIMEOUT_SECONDS=str(BANKID_TIMEOUT),
    )
    with portal_server(env) as url:
        yield BankIDPortal(url=url, pki=bankid_pki, api_port=api_port, app_port=app_port)


def _orders(simulator: RunningSimulator) -> list[dict[str, Any]]:
    orders: list[dict[str, Any]] = httpx.get(f"{simulator.app_url}/control/orders").json()
    return orders


def _set_mode(simulator: RunningSimulator, mode: str, seconds: float = 0.0) -> None:
    response = httpx.post(
        f"{simulator.app_url}/control/mode", json={"mode": mode, "seconds": seconds}
    )
    assert response.status_code == 200, response.text


def _assert_rfa5(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert _rfa5() in response.text


@dataclass(frozen=True)
class LoginInProgress:
    """A login the portal has started: its order page, and the order's reference at BankID."""

    page: str
    order_ref: str


def _start_login(browser: Browser, simulator: RunningSimulator) -> LoginInProgress:
    """Start a login and open its page (the QR code): the portal has a pending order at BankID."""
    earlier = {order["orderRef"] for order in _orders(simulator)}
    started = browser.start_login()
    assert started.status_code == 302, started.text
    order_page = started.headers["location"]
    assert order_page.startswith("/e-legitimation/")
    page = browser.request("GET", order_page)
    assert page.status_code == 200
    assert "<svg" in page.text  # the QR code
    [order] = [order for order in _orders(simulator) if order["orderRef"] not in earlier]
    assert order["status"] == "pending"
    return LoginInProgress(page=order_page, order_ref=order["orderRef"])


def _poll(browser: Browser, login: LoginInProgress) -> dict[str, Any]:
    """What the order page's script asks every second."""
    answer = browser.request("GET", f"{login.page}status")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _complete_login(
    browser: Browser, simulator: RunningSimulator, login: LoginInProgress, person: Any
) -> None:
    """The person approves in the simulated app; the page's polling logs them in."""
    approved = httpx.post(
        f"{simulator.app_url}/control/orders/{login.order_ref}/approve",
        json={"personalNumber": person.personal_number},
    )
    assert approved.status_code == 200, approved.text
    done = _wait_until(
        lambda: (body := _poll(browser, login))["status"] != "pending" and body,
        seconds=10,
        what="the approved login completing",
    )
    assert done["status"] == "complete", done
    account = browser.request("GET", "/konto/")
    assert account.status_code == 200
    assert person.given_name in account.text


def _log_in(browser: Browser, simulator: RunningSimulator, person: Any = DEMO_PEOPLE[0]) -> None:
    _complete_login(browser, simulator, _start_login(browser, simulator), person)


def test_bankid_unreachable_gives_rfa5_and_503_at_once_and_logins_work_when_it_returns(
    bankid_portal: BankIDPortal,
) -> None:
    browser = Browser(bankid_portal.url)
    latecomer = Browser(bankid_portal.url)
    try:
        # Nothing listens on BankID's port: every attempt is refused at once.
        response, elapsed = _timed(browser.start_login)
        _assert_rfa5(response)
        assert elapsed < WORST_CASE + SLACK
        assert httpx.get(f"{bankid_portal.url}/healthz", timeout=QUICK).status_code == 200

        with bankid_portal.simulator() as simulator:
            _log_in(browser, simulator)

        # Stopped again, with the portal's kept-alive connection to it now dead: the same.
        response, elapsed = _timed(latecomer.start_login)
        _assert_rfa5(response)
        assert elapsed < WORST_CASE + SLACK
    finally:
        latecomer.close()
        browser.close()


def test_slow_bankid_is_given_up_on_in_bounded_time_and_the_worker_keeps_serving(
    bankid_portal: BankIDPortal,
) -> None:
    browser = Browser(bankid_portal.url)
    waiting = Browser(bankid_portal.url)
    others = httpx.Client(base_url=bankid_portal.url, timeout=QUICK + 5)
    try:
        with bankid_portal.simulator() as simulator:
            # Someone is looking at their QR code when BankID slows down.
            in_progress = _start_login(waiting, simulator)
            _set_mode(simulator, "slow", SIMULATOR_DELAY)
            form = browser.login_form()
            with ThreadPoolExecutor(max_workers=1) as pool:
                slow_login = pool.submit(_timed, lambda: browser.start_login(form))
                # The simulator has the portal's /auth call (it records the order, then holds
                # the answer back): a worker thread is now waiting for BankID.
                _wait_until(
                    lambda: len(_orders(simulator)) > 1,
                    seconds=10,
                    what="the portal calling BankID",
                )
                served_meanwhile = []
                for path in ("/healthz", "/", "/readyz", "/logga-in/"):
                    answer, elapsed = _timed(lambda path=path: others.get(path))
                    assert answer.status_code == 200, (path, answer.text)
                    assert elapsed < QUICK, (path, elapsed)
                    if not slow_login.done():
                        served_meanwhile.append(path)
                # At least the first two were answered while the BankID call was still waiting
                # (it waits for several seconds; they take milliseconds).
                assert served_meanwhile[:2] == ["/healthz", "/"], served_meanwhile
                response, elapsed = slow_login.result(timeout=WORST_CASE + 30)
            _assert_rfa5(response)
            # Given up after one timeout, not one per attempt, and not much later.
            assert BANKID_TIMEOUT - 0.2 <= elapsed < WORST_CASE + SLACK
            # The one attempt used up the time: no retry was started after the deadline.
            assert len(_orders(simulator)) == 1 + 1

            # The waiting page's poll (more than the poll interval after the last) is not
            # retried: it answers after one timeout, with RFA5, and the login stays open.
            polled, elapsed = _timed(lambda: _poll(waiting, in_progress))
            assert (polled["status"], polled["message"]) == ("pending", _rfa5())
            assert BANKID_TIMEOUT <= elapsed < BANKID_TIMEOUT + SLACK

            # BankID is back to normal: the open login completes, and new ones start.
            _set_mode(simulator, "normal")
            _complete_login(waiting, simulator, in_progress, DEMO_PEOPLE[1])
            _log_in(browser, simulator)
    finally:
        others.close()
        waiting.close()
        browser.close()


# --- Mail ---------------------------------------------------------------------------------------

#: Seconds the first retry waits (portal.messaging.tasks.retry_delay(1)).
FIRST_RETRY_SECONDS = 60
#: Further than ``portal outbox_flush`` waits (15 minutes) before it takes a message as lost.
TIME_TRAVEL = timedelta(minutes=16)
_TIMES = {
    "messaging_outboxmessage": ("created_at", "send_after", "last_attempt_at", "sent_at"),
    "django_tasks_database_dbtaskresult": ("run_after", "enqueued_at", "started_at", "finished_at"),
}


@dataclass(frozen=True)
class Outboxed:
    """One outbox row as the portal's database has it."""

    public_id: str
    template: str
    recipient: str
    subject: str
    status: str
    attempts: int
    last_error: str
    send_after: datetime
    last_attempt_at: datetime | None
    sent_at: datetime | None

    @property
    def message_id(self) -> str:
        return f"<outbox.{self.public_id}@localhost>"


def _datetime(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _outbox(database: Path) -> list[Outboxed]:
    with closing(sqlite3.connect(database)) as db:
        rows = db.execute(
            "SELECT public_id, template, recipient_email, subject, status, attempts, last_error,"
            " send_after, last_attempt_at, sent_at FROM messaging_outboxmessage ORDER BY id"
        ).fetchall()
    return [
        Outboxed(
            public_id=str(uuid.UUID(row[0])),
            template=row[1],
            recipient=row[2],
            subject=row[3],
            status=row[4],
            attempts=row[5],
            last_error=row[6],
            send_after=datetime.fromisoformat(row[7]),
            last_attempt_at=_datetime(row[8]),
            sent_at=_datetime(row[9]),
        )
        for row in rows
    ]


def _task_outcomes(database: Path) -> list[tuple[str, str | None]]:
    """Each send task's state and return value."""
    with closing(sqlite3.connect(database)) as db:
        rows = db.execute(
            "SELECT status, return_value FROM django_tasks_database_dbtaskresult"
            " WHERE task_path = 'portal.messaging.tasks.send_outbox_message'"
            " ORDER BY enqueued_at"
        ).fetchall()
    return [(status, value.strip('"') if value else None) for status, value in rows]


def _travel(database: Path, delta: timedelta) -> None:
    """Move every stored time of the outbox and the task queue ``delta`` into the past: to the
    portal's processes, the clock has moved ``delta`` on. ("Run at once" is stored as year 9999
    and stays.)"""
    with closing(sqlite3.connect(database)) as db:
        for table, columns in _TIMES.items():
            rows = db.execute(f"SELECT rowid, {', '.join(columns)} FROM {table}").fetchall()  # noqa: S608
            for rowid, *values in rows:
                moved = [
                    (when - delta).isoformat(" ") if when and when.year < 9999 else value
                    for value, when in ((value, _datetime(value)) for value in values)
                ]
                assignments = ", ".join(f"{column} = ?" for column in columns)
                db.execute(f"UPDATE {table} SET {assignments} WHERE rowid = ?", (*moved, rowid))  # noqa: S608
        db.commit()


def _portal(env: dict[str, str], *args: str) -> str:
    """Run a ``portal`` command; it must succeed without a traceback. Returns what it printed."""
    done = run_portal(list(args), env)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Traceback" not in output, output
    return done.stdout


def _worker(env: dict[str, str]) -> None:
    """``portal db_worker`` as a timer would run it: every task that is due, then exit."""
    _portal(env, "db_worker", "--batch", "--no-reload", "--no-startup-delay")


def test_mail_waits_in_the_outbox_while_smtp_is_down_and_goes_out_once_when_it_returns(
    tmp_path: Path,
) -> None:
    sink = SmtpSink()  # its port is chosen, but nothing listens there yet
    env = portal_env(
        tmp_path,
        PORTAL_MAIL_BACKEND="smtp",
        EMAIL_HOST=sink.host,
        EMAIL_PORT=str(sink.port),
        EMAIL_TIMEOUT="5",
    )
    database = tmp_path / "portal.sqlite3"
    _portal(env, "migrate", "--noinput")
    # The demo employer's open inquiries notify its people by mail too.
    _portal(env, "load_demo_data")
    effective = datetime.now(UTC).date() + timedelta(days=45)
    for name in ("sv", "en"):
        (tmp_path / f"terms-{name}.txt").write_text("Nya villkor.\n\nAndra stycket.\n")
    published = _portal(
        env,
        "terms_publish",
        "--terms-version=2099-fault",
        f"--effective-from={effective.isoformat()}",
        "--title-sv=Villkor",
        "--title-en=Terms",
        f"--text-sv={tmp_path / 'terms-sv.txt'}",
        f"--text-en={tmp_path / 'terms-en.txt'}",
    )
    assert "1 notices queued" in published
    queued = _outbox(database)
    [terms] = [message for message in queued if message.template == "terms_changed"]
    administrator = next(p for p in DEMO_PEOPLE if p.personal_number == "191212121212")
    assert terms.recipient == administrator.email
    assert effective.isoformat() in terms.subject
    assert {message.status for message in queued} == {"queued"}

    # The mail server is down: one attempt each, a retry a minute later, nothing lost.
    _worker(env)
    waiting = _outbox(database)
    assert [m.public_id for m in waiting] == [m.public_id for m in queued]
    for message in waiting:
        assert (message.status, message.attempts) == ("queued", 1), message
        assert message.last_error.startswith("ConnectionRefusedError"), message
        assert message.last_attempt_at is not None
        assert (message.send_after - message.last_attempt_at) // timedelta(seconds=1) == (
            FIRST_RETRY_SECONDS
        )
        assert message.sent_at is None
    outcomes = _task_outcomes(database)
    assert outcomes.count(("SUCCESSFUL", "retry")) == len(queued)
    assert outcomes.count(("READY", None)) == len(queued)  # the retries, waiting for their time
    # The safety net finds nothing lost: every message has its retry.
    assert _portal(env, "outbox_flush").strip() == "Outbox: 0 stuck messages re-enqueued."

    # The mail server is back, and the clock has moved on past the retry and past the point
    # where outbox_flush takes the messages for lost: each now has two tasks, its retry and the
    # safety net's, and must still go out once.
    sink.start()
    try:
        _travel(database, TIME_TRAVEL)
        assert _portal(env, "outbox_flush").strip() == (
            f"Outbox: {len(queued)} stuck messages re-enqueued."
        )
        _worker(env)
    finally:
        sink.stop()

    sent = _outbox(database)
    for message in sent:
        assert (message.status, message.attempts) == ("sent", 2), message
        assert message.sent_at is not None
    mails = {mail.message["Message-ID"]: mail for mail in sink.messages}
    assert len(sink.messages) == len(mails) == len(queued), [
        m.message["Subject"] for m in mails.values()
    ]
    for message in sent:
        mail = mails[message.message_id]
        assert mail.rcpt_tos == [message.recipient]
        assert mail.message["To"] == message.recipient
        # A long encoded subject is folded after "Subject:"; the parser keeps the fold's space.
        assert mail.message["Subject"].strip() == message.subject
    # Every task has run, none failed, none is left; of each message's two tasks, one sent it
    # and the other found it sent.
    outcomes = _task_outcomes(database)
    assert all(status == "SUCCESSFUL" for status, _value in outcomes), outcomes
    assert sorted(value for _status, value in outcomes if value != "retry") == sorted(
        ["sent"] * len(queued) + ["skipped"] * len(queued)
    )
