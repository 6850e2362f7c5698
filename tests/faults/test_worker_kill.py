"""kill -9 of an app worker in the middle of a burst of API submissions: every acknowledged
submission is stored exactly once.

The portal runs under gunicorn with two workers on a private PostgreSQL. Four client threads send
sick-leave reports through the JSON API, each with its own Idempotency-Key, and retry with the
same key when they get no answer or a 5xx, as a well-behaved system client does. One third of the
way in, the worker holding client connections is frozen (SIGSTOP) until a request is stuck in it,
then killed with SIGKILL: so the kill always takes requests down with it, whatever the timing (the
second half of the burst is handed to the clients only once the worker is frozen, so that they
are still sending however fast the portal answers).
gunicorn starts a new worker; the clients' retries land on the live one.

Then the database is counted: one submission per key and per employee, every acknowledged
reference stored under its key, each with exactly one audit event and one intake message (written
in the submission's transaction), nothing stored that was not sent. Finally every acknowledged
submission is sent once more with its key, as a client whose answer was lost would: each is
answered with the submission already received, and nothing new is stored.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.faults import harness

pytestmark = [pytest.mark.faults]

logger = logging.getLogger(__name__)

SUBMISSIONS = 90
CLIENTS = 4
#: A client's pause between two submissions, so that the burst outlasts the fault.
THINK = 0.02
#: A request on a connection of the frozen worker, unanswered this long after the freeze, is stuck
#: in it (a request takes ~20 ms).
STUCK = 0.2


def test_kill_9_of_a_worker_loses_and_duplicates_no_acknowledged_submission(
    private_postgres: harness.PrivatePostgres,
    pg_portal_env: dict[str, str],
    pg_portal: harness.RunningPortal,
) -> None:
    login = harness.api_login(pg_portal_env)
    recorder = harness.Recorder()
    burst_work = Burst()
    clients = [harness.PortalClient(pg_portal.base_url, login, recorder) for _ in range(CLIENTS)]

    def acknowledged() -> int:
        return sum(outcome.acknowledged for outcome in recorder.snapshot()[1])

    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            burst = [pool.submit(burst_work.submit_all, client) for client in clients]
            try:
                # Every client has had an answer, so that its connection's port is known: a
                # request frozen on a connection that has had no answer yet is read already (no
                # bytes wait in it) and its port unknown, so it could not be seen to be stuck.
                harness.wait_for(
                    lambda: (
                        acknowledged() >= SUBMISSIONS // 3
                        and all(client.local_port is not None for client in clients)
                    ),
                    timeout=30,
                    what="a third acknowledged and an answer to every client",
                )
                victim = _busiest_worker(pg_portal)
                harness.signal_worker(pg_portal, victim, signal.SIGSTOP)
                frozen_at = time.monotonic()
                burst_work.release_the_rest()
                try:
                    harness.wait_for(
                        lambda: _request_stuck_in(pg_portal, victim, frozen_at, clients),
                        timeout=10,
                        what="a request stuck in the frozen worker",
                    )
                finally:
                    harness.signal_worker(pg_portal, victim, signal.SIGKILL)
            finally:
                # Whatever failed above, the clients finish the burst and stop.
                burst_work.release_the_rest()
            killed_at = time.monotonic()
            acknowledged_at_kill = acknowledged()
            replaced_after = harness.wait_for(
                lambda: (
                    len(pids := pg_portal.worker_pids()) == pg_portal.workers and victim not in pids
                ),
                timeout=30,
                what="gunicorn to replace the killed worker",
            )
            for done in burst:
                done.result(timeout=60)
        answers, outcomes = recorder.snapshot()

        # The fault hit the burst: requests were lost with the worker, and the burst went on.
        lost = [answer for answer in answers if answer.status is None]
        assert lost, "the kill took no request down with it"
        assert acknowledged_at_kill < SUBMISSIONS
        assert any(answer.sent > killed_at for answer in answers)
        assert {answer.status for answer in answers} <= {200, 201, None}, _statuses(answers)
        # Every submission was acknowledged in the end (the clients retried with the same key).
        assert len(outcomes) == SUBMISSIONS
        assert all(outcome.acknowledged for outcome in outcomes), [
            o for o in outcomes if not o.acknowledged
        ]
        assert sum(outcome.attempts > 1 for outcome in outcomes) >= len(lost) > 0

        stored = harness.stored_submissions(
            private_postgres, _database(pg_portal_env), login.personal_number
        )
        assert harness.exactly_once_problems(outcomes, stored) == []
        assert len(stored) == SUBMISSIONS

        # Every answer lost once more: the same key gets the submission already received.
        again = clients[0]
        for outcome in outcomes:
            replay = again.submit(outcome.index, key=outcome.key)
            assert (replay.status, replay.replayed, replay.reference) == (
                200,
                True,
                outcome.reference,
            )
        after = harness.stored_submissions(
            private_postgres, _database(pg_portal_env), login.personal_number
        )
        assert sorted(after, key=lambda s: s.key) == sorted(stored, key=lambda s: s.key)
    finally:
        for client in clients:
            client.close()
    logger.info(
        "kill -9 of worker %d after %d/%d acknowledged: %d requests lost with it, %d submissions "
        "retried, %d answered as replays; replaced within %.1f s",
        victim,
        acknowledged_at_kill,
        SUBMISSIONS,
        len(lost),
        sum(o.attempts > 1 for o in outcomes),
        sum(o.replayed for o in outcomes),
        replaced_after,
    )


class Burst:
    """The submissions the clients share: the first half at once, the rest once the worker is
    frozen, so that the clients are still sending when the fault comes however fast the portal
    answers (the whole burst once took less time than finding the busiest worker on a busy
    machine)."""

    def __init__(self) -> None:
        self.work: queue.SimpleQueue[int] = queue.SimpleQueue()
        for index in range(SUBMISSIONS // 2):
            self.work.put(index)
        self.released = threading.Event()

    def submit_all(self, client: harness.PortalClient) -> None:
        while True:
            try:
                index = self.work.get_nowait()
            except queue.Empty:
                if self.released.is_set() and self.work.empty():
                    return
                time.sleep(THINK)
                continue
            client.submit(index, give_up_after=20)
            time.sleep(THINK)

    def release_the_rest(self) -> None:
        """Hand out the second half (once; whatever failed, the clients then finish and stop)."""
        if self.released.is_set():
            return
        for index in range(SUBMISSIONS // 2, SUBMISSIONS):
            self.work.put(index)
        self.released.set()


def _busiest_worker(portal: harness.RunningPortal) -> int:
    """The worker holding the most client connections (at least one)."""
    found: list[tuple[int, int]] = []

    def holding() -> bool:
        found[:] = [
            (len(harness.client_connections(pid, portal.port)), pid) for pid in portal.worker_pids()
        ]
        return max(found, default=(0, 0))[0] > 0

    harness.wait_for(holding, timeout=10, what="a worker with client connections")
    return max(found)[1]


def _request_stuck_in(
    portal: harness.RunningPortal, pid: int, frozen_at: float, clients: list[harness.PortalClient]
) -> bool:
    """A request waits unread in a connection of the frozen worker, or a client whose connection
    the frozen worker holds is still waiting for an answer well after the freeze."""
    connections = harness.client_connections(pid, portal.port)
    if any(unread > 0 for unread in connections.values()):
        return True
    return time.monotonic() - frozen_at > STUCK and any(
        client.local_port in connections and client.in_flight_since is not None
        for client in clients
    )


def _database(env: dict[str, str]) -> str:
    return env["DATABASE_URL"].rsplit("/", 1)[1]


def _statuses(answers: list[harness.Answer]) -> list[tuple[int | None, str]]:
    return [(a.status, a.body[:200]) for a in answers if a.status not in {200, 201, None}]
