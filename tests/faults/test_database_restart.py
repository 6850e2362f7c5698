"""PostgreSQL restarted under load: the portal answers 503 (its own page, or problem details in the
API), never 500 and never hangs; it serves again within 5 seconds of the database accepting
connections; nothing acknowledged is lost.

The portal runs under gunicorn with two workers on a private PostgreSQL, which the test stops
(``pg_ctl stop -m fast``: open transactions rolled back, sessions ended), keeps down for at least
two seconds and starts again. Meanwhile one client thread reads (an employer's page, which needs
the session and the employer from the database, and the API's list of submissions) and another
submits sick-leave reports, retrying a 503 with the same Idempotency-Key.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client

from tests.faults import harness

pytestmark = [pytest.mark.faults]

logger = logging.getLogger(__name__)

#: How long the database stays down, at least.
OUTAGE = 2.0
#: The portal must serve again within this long of the database accepting connections.
RECOVERY = 5.0
#: A light load: each client's pause between two requests.
THINK = 0.05
KINDS = ("page", "list", "submit")
UNAVAILABLE_TITLE = "Tjänsten är inte tillgänglig just nu"


class LightLoad:
    """Two client threads: one reading a page and the API's list in turn, one submitting (a 503
    is retried with the same key; anything else, a 500 or no answer, is final)."""

    def __init__(self, portal: harness.RunningPortal, login: harness.ApiLogin) -> None:
        self.portal = portal
        self.login = login
        self.recorder = harness.Recorder()
        self.stopping = threading.Event()
        self.threads = [
            threading.Thread(target=self._read, daemon=True),
            threading.Thread(target=self._submit, daemon=True),
        ]

    def _client(self) -> harness.PortalClient:
        return harness.PortalClient(self.portal.base_url, self.login, self.recorder, timeout=10)

    def _read(self) -> None:
        client = self._client()
        try:
            while not self.stopping.is_set():
                client.request("page", "GET", self.login.employer_page)
                time.sleep(THINK)
                client.request("list", "GET", self.login.submissions_path)
                time.sleep(THINK)
        finally:
            client.close()

    def _submit(self) -> None:
        client = self._client()
        index = 0
        try:
            while not self.stopping.is_set():
                client.submit(index, give_up_after=20, retry_on=lambda a: a.status == 503)
                index += 1
                time.sleep(THINK)
        finally:
            client.close()

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in self.threads), "a client hung"

    def each_kind(self, since: float, count: int, *, ok: bool = False) -> bool:
        """Every kind of request has ``count`` answers (successful ones, with ``ok``) to
        requests sent at ``since`` or later."""
        answers = [a for a in self.recorder.snapshot()[0] if a.sent >= since]
        return all(
            sum(1 for a in answers if a.kind == kind and (_ok(a) or not ok)) >= count
            for kind in KINDS
        )


@dataclass(frozen=True)
class Restart:
    """When the database was down (``down``: stopped; ``starting``: told to start) and when it
    accepted connections again (``up``), on the clock of the answers."""

    down: float
    starting: float
    up: float


def _restart_under_load(server: harness.PrivatePostgres, load: LightLoad) -> Restart:
    harness.wait_for(lambda: load.each_kind(0, 3, ok=True), timeout=20, what="the portal serving")
    server.stop("fast")
    down = time.monotonic()
    harness.wait_for(
        lambda: time.monotonic() - down >= OUTAGE and load.each_kind(down, 2),
        timeout=20,
        what="answers during the outage",
    )
    starting = time.monotonic()
    server.start(wait=False)
    harness.wait_for(server.accepting, timeout=30, what="PostgreSQL accepting connections")
    up = time.monotonic()
    harness.wait_for(lambda: load.each_kind(up, 1, ok=True), timeout=30, what="service again")
    # A while of normal service after the recovery deadline.
    harness.wait_for(
        lambda: load.each_kind(up + RECOVERY, 5, ok=True),
        timeout=30,
        what="service after the recovery deadline",
    )
    return Restart(down, starting, up)


def test_a_database_restart_gives_503s_then_service_within_5_s_and_loses_nothing(
    private_postgres: harness.PrivatePostgres,
    pg_portal_env: dict[str, str],
    pg_portal: harness.RunningPortal,
) -> None:
    login = harness.api_login(pg_portal_env)
    load = LightLoad(pg_portal, login)
    load.start()
    try:
        restart = _restart_under_load(private_postgres, load)
    finally:
        load.stop()
        if not private_postgres.running():
            private_postgres.start()
    answers, outcomes = load.recorder.snapshot()

    # Never a 500, never a hang or a dropped connection: only 2xx and 503 answers.
    unexpected = [
        (a.kind, a.status, a.error or a.body[:300])
        for a in answers
        if a.status != 503 and not _ok(a)
    ]
    assert unexpected == []
    # While the database was down, every answer was the portal's own 503.
    during = [a for a in answers if a.sent >= restart.down and a.received < restart.starting]
    assert {a.kind for a in during} == set(KINDS)
    for answer in during:
        _assert_unavailable(answer)
    # Service again within 5 seconds of the database accepting connections, for every kind of
    # request, and from then on every request succeeds.
    recovered = {
        kind: min(a.received for a in answers if a.kind == kind and a.sent >= restart.up and _ok(a))
        - restart.up
        for kind in KINDS
    }
    assert max(recovered.values()) < RECOVERY, recovered
    late = [(a.kind, a.status) for a in answers if a.sent >= restart.up + RECOVERY and not _ok(a)]
    assert late == []

    # Nothing acknowledged lost, nothing doubled: a submission met by a 503 was retried with its
    # key until it was acknowledged.
    assert outcomes
    assert all(outcome.acknowledged for outcome in outcomes)
    assert any(outcome.attempts > 1 for outcome in outcomes), "no submission met the outage"
    stored = harness.stored_submissions(
        private_postgres, pg_portal_env["DATABASE_URL"].rsplit("/", 1)[1], login.personal_number
    )
    assert harness.exactly_once_problems(outcomes, stored) == []
    logger.info(
        "%d answers during the outage, all 503; service again %s after PostgreSQL accepted "
        "connections; %d submissions stored once each",
        len(during),
        ", ".join(f"{kind} {seconds:.2f} s" for kind, seconds in recovered.items()),
        len(stored),
    )


def _ok(answer: harness.Answer) -> bool:
    return answer.status is not None and 200 <= answer.status < 300


def _assert_unavailable(answer: harness.Answer) -> None:
    assert answer.status == 503, (answer.kind, answer.status, answer.body[:300])
    assert answer.retry_after == "5"
    if answer.kind == "page":
        assert answer.content_type.startswith("text/html")
        assert UNAVAILABLE_TITLE in answer.body
    else:
        assert answer.content_type == "application/problem+json"
        problem = json.loads(answer.body)
        assert problem["status"] == 503
        assert problem["type"].endswith("/service-unavailable")
        assert problem["title"] == UNAVAILABLE_TITLE


# --- The mapping itself, in process -------------------------------------------------------------


@pytest.fixture
def broken_sessions(monkeypatch: pytest.MonkeyPatch) -> list[BaseException]:
    """Loading a session raises the exception the test puts in the list, as a lost connection
    does in the middleware that reads the session, before any view."""
    from django.contrib.sessions.backends.db import SessionStore  # noqa: PLC0415

    raised: list[BaseException] = []

    def load(self: SessionStore) -> dict[str, object]:
        raise raised[0]

    monkeypatch.setattr(SessionStore, "load", load)
    return raised


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("error", "status"),
    [
        (OperationalError("server closed the connection unexpectedly"), 503),
        (OperationalError("terminating connection due to administrator command"), 503),
        (InterfaceError("connection already closed"), 503),
        (ValueError("a bug"), 500),
    ],
)
def test_a_lost_database_connection_is_a_503_and_a_bug_still_a_500(
    broken_sessions: list[BaseException], error: BaseException, status: int
) -> None:
    broken_sessions.append(error)
    client = Client(raise_request_exception=False)
    client.cookies[harness.SESSION_COOKIE] = "x" * 32
    page = client.get("/arbetsgivare/")
    assert page.status_code == status
    assert page["Content-Type"].startswith("text/html")
    api = client.get("/api/v1/status")
    assert api.status_code == status
    assert api["Content-Type"] == "application/problem+json"
    assert api.json()["status"] == status
    if status == 503:
        assert UNAVAILABLE_TITLE in page.content.decode()
        assert page["Retry-After"] == api["Retry-After"] == "5"
    else:
        assert "Retry-After" not in page


def test_without_postgresql_the_harness_fails_saying_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_PG_BINDIR", str(tmp_path))
    with pytest.raises(harness.HarnessError, match=r"apt-get install postgresql") as raised:
        harness.postgres_bindir()
    assert "initdb, pg_ctl, postgres" in str(raised.value)
