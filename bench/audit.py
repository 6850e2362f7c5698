"""The audit log at speed, on PostgreSQL: appending, sealing, verifying, and what the audit write
costs a request.

Run by ``bench/run.py`` (``make bench``) as its own process, ``python bench/audit.py OUT.json``,
with DATABASE_URL naming a PostgreSQL database: Django's settings are read once per process, and
the rest of the bench may run on SQLite. Like run.py it works in a throwaway database beside the
one named (``test_<name>_audit``), dropped afterwards, and writes its result as JSON to OUT.json.
The requirements: append at least 2 000 events per second sustained with the sequencer keeping up
(no committed event waiting more than KEEPING_UP_S = 2 s to be sealed); verify 1 000 000 events
in at most 10 seconds; the audit write adds at most 10 % to the median time of a write request.

1. **Append**: BENCH_AUDIT_APPEND events per run (default 20 000), each written as a request
   writes it: one ``transaction.atomic()`` with one ``audit.record(...)`` (5-6 keys of data, a
   request with its request id, address, User-Agent and session login), by BENCH_AUDIT_WRITERS
   writers (default 2) as fast as they can, each with its own database connection. Meanwhile a
   sequencer thread runs every 0.5 s, and a sampler thread looks every 0.5 s at how many committed
   events are not sealed yet and how old the oldest of them is. BENCH_AUDIT_RUNS lists the runs as
   ``<writers>:<sequencer>`` (default ``thread:seal,process:seal,thread:seal_all``):

   - writers ``thread``: threads of this process, sharing its interpreter lock with the sequencer
     and the sampler (the benchmark's own limit more than the portal's); ``process``: processes of
     their own, as the web server's workers are;
   - sequencer ``seal``: ``tree.seal()`` each tick, again while a batch comes full (a backlog);
     ``seal_all``: ``tree.seal_all()`` each tick, which under a steady load never finds the log
     empty and so signs a head every few events, without a pause.

   Reported: events per second over the run and in its slowest second, the sequencer's largest
   lag (events, and the age of the oldest), the share of the time it was busy, the heads it
   signed, how long it took to catch up once the writers stopped, and ``tree.verify()`` (asserted
   ok).
2. **Overhead**: the median time of a real write request, an access administrator's POST that
   changes a user's grant to an e-service (``access:person-grant``: the old grant is revoked and a
   new one created, two audit events), with the real ``audit.record`` and with
   ``portal.audit.services.record`` replaced by a function that does the same argument handling
   but writes nothing; BENCH_AUDIT_REQUESTS rounds of each (default 300), interleaved, so that
   drift of the machine hits both alike. E-service submissions come with the e-services; this is
   the closest write request until then.
3. **Verify**: the log is filled up to BENCH_AUDIT_VERIFY events (default 1 000 000; their times
   spread over the past 30 days, as a real log of that size would be) with PostgreSQL's COPY (the
   rows ``bulk_create`` would write, faster), sealed by ``tree.seal_all()`` (the sequencer's
   throughput on a backlog), and ``tree.verify()`` is timed (asserted ok).

The machine's load average before the bench is in the result: the numbers are only as good as the
machine was quiet.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

APPEND = int(os.environ.get("BENCH_AUDIT_APPEND", "20000"))
WRITERS = int(os.environ.get("BENCH_AUDIT_WRITERS", "2"))
REQUESTS = int(os.environ.get("BENCH_AUDIT_REQUESTS", "300"))
VERIFY = int(os.environ.get("BENCH_AUDIT_VERIFY", "1000000"))
#: The append runs, "<writers>:<sequencer>" each (see the module's docstring).
RUNS = os.environ.get("BENCH_AUDIT_RUNS", "thread:seal,process:seal,thread:seal_all").split(",")
#: The requirements (see the docstring). The sequencer keeps up when no committed event waits
#: longer than KEEPING_UP_S to be sealed, during the run or after it.
GOAL_EVENTS_PER_S = 2000
KEEPING_UP_S = 2.0
GOAL_VERIFY_S_PER_MILLION = 10.0
GOAL_OVERHEAD_PERCENT = 10.0
#: The sequencer's sleep between runs, and the sampler's period.
INTERVAL = 0.5
CHUNK = 10_000
WARMUP = 30
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
REASONS = ("Ny på löneavdelningen", "Byter arbetsuppgifter", "Vikarie för Åsa Öberg", "Löner")


def main() -> None:
    out = Path(sys.argv[1])
    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-audit-"))
    os.environ.setdefault("PORTAL_VAR_DIR", str(workdir))
    os.environ.setdefault("LOG_LEVEL", "warning")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.config.settings")
    import django  # noqa: PLC0415

    django.setup()
    from django.db import connection  # noqa: PLC0415

    if connection.vendor != "postgresql":
        msg = f"the audit bench runs on PostgreSQL, not {connection.vendor}"
        raise SystemExit(msg)
    connection.settings_dict["TEST"]["NAME"] = f"test_{connection.settings_dict['NAME']}_audit"
    original_name = connection.creation.create_test_db(
        verbosity=0, autoclobber=True, serialize=False
    )
    try:
        major, minor = divmod(connection.pg_version, 10000)
        load = os.getloadavg()[0]
        result = {
            "database": f"postgresql {major}.{minor}",
            "load_average_before": round(load, 2),
            **run(),
        }
    finally:
        from django.db import connections  # noqa: PLC0415

        connections.close_all()
        connection.creation.destroy_test_db(original_name, verbosity=0)
    out.write_text(json.dumps(result, indent=2) + "\n")


def _progress(text: str) -> None:
    sys.stderr.write(f"  audit: {text}\n")
    sys.stderr.flush()


def run() -> dict[str, Any]:
    started = time.perf_counter()
    world = _world()
    append = []
    for spec in RUNS:
        kind, mode = spec.split(":")
        _check(kind in {"thread", "process"} and mode in {"seal", "seal_all"}, f"no run {spec}")
        _progress(
            f"appending {APPEND} events from {WRITERS} {kind} writers, sequencer {mode} {INTERVAL} s"
        )
        append.append(_append(world, kind, mode))
    appended = time.perf_counter()
    _progress(f"{REQUESTS} submissions with and without the audit write")
    overhead = _overhead(world)
    measured = time.perf_counter()
    _progress(f"filling the log to {VERIFY} events, sealing and verifying it")
    verify = _verify(world)
    done = time.perf_counter()
    return {
        "benchmark": "the audit log on PostgreSQL: append, seal, verify, request overhead",
        "append": append,
        "verify": verify,
        "overhead": overhead,
        "seconds": {
            "append": round(appended - started, 1),
            "overhead": round(measured - appended, 1),
            "verify": round(done - measured, 1),
            "total": round(done - started, 1),
        },
        "load_average_after": round(os.getloadavg()[0], 2),
    }


# --- the data ----------------------------------------------------------------------------------


class World:
    """People and employers for the events to name, and the grant request's actors."""

    def __init__(self) -> None:
        from portal.access.models import Grant, Level, Membership, Role  # noqa: PLC0415
        from portal.employers.constants import EmployerState  # noqa: PLC0415
        from portal.employers.models import Employer  # noqa: PLC0415
        from portal.identity.models import Person  # noqa: PLC0415

        self.people = [
            Person.objects.create(
                personal_number=_personal_number(n),
                given_name=f"Bench{n}",
                surname="Öberg",
                email=f"bench{n}@example.se",
                password="!",  # noqa: S106 (unusable: everyone logs in with e-ID)
            )
            for n in range(20)
        ]
        self.employers = [
            Employer.objects.create(
                organisation_number=_organisation_number(n),
                name=f"Bänkbolaget {n} AB",
                state=EmployerState.ACTIVE,
            )
            for n in range(10)
        ]
        self.admin, self.user = self.people[0], self.people[1]
        self.employer = self.employers[0]
        Membership.objects.create(
            employer=self.employer, person=self.admin, role=Role.ADMINISTRATOR, reason="bench"
        )
        member = Membership.objects.create(
            employer=self.employer, person=self.user, role=Role.USER, reason="bench"
        )
        Grant.objects.create(
            membership=member,
            eservice="sick_report",
            level=Level.VIEW,
            valid_from=date(2020, 1, 1),
            reason="bench",
        )


def _world() -> World:
    from django.db import transaction  # noqa: PLC0415

    with transaction.atomic():
        return World()


def _personal_number(n: int) -> str:
    from stdnum import luhn  # noqa: PLC0415

    base = f"900101{100 + n:03d}"  # fictional, Luhn-valid
    return "19" + base + luhn.calc_check_digit(base)


def _organisation_number(n: int) -> str:
    from stdnum import luhn  # noqa: PLC0415

    base = f"55{8800000 + n:07d}"
    return base + luhn.calc_check_digit(base)


def _event_data(n: int, person: int) -> dict[str, Any]:
    """What a grant event carries: five or six keys, Swedish text, sometimes a null."""
    return {
        "grant": n,
        "person": person,
        "eservice": ("sick_report", "inquiries", "work_aids")[n % 3],
        "level": ("view", "submit")[n % 2],
        "reason": REASONS[n % len(REASONS)],
    } | ({"valid_until": None} if n % 5 == 0 else {})


# --- 1. append ---------------------------------------------------------------------------------


def _append(world: World, kind: str, mode: str) -> dict[str, Any]:
    from django.db import connections  # noqa: PLC0415

    from portal.audit import tree  # noqa: PLC0415
    from portal.audit.models import AuditEvent, TreeHead  # noqa: PLC0415

    run = AppendRun(world, mode)
    before = AuditEvent.objects.count()
    heads_before = TreeHead.objects.count()
    writers: list[threading.Thread | multiprocessing.Process]
    if kind == "process":
        # Forked before any thread starts, without a connection to inherit: each opens its own.
        connections.close_all()
        writers = [
            multiprocessing.Process(target=run.process, args=(slot,)) for slot in range(WRITERS)
        ]
    else:
        writers = [
            threading.Thread(target=run.guarded(run.writer, slot)) for slot in range(WRITERS)
        ]
    helpers = [threading.Thread(target=run.guarded(work)) for work in (run.sequencer, run.sampler)]
    started = time.perf_counter()
    for writer in writers:
        writer.start()
    for thread in helpers:
        thread.start()
    for writer in writers:
        writer.join()
    run.writing.clear()
    stopped = time.perf_counter()
    # The sequencer stops at its first run after the writers that finds nothing left; it had
    # caught up at the end of the last run that sealed anything.
    for thread in helpers:
        thread.join()
    connections.close_all()  # the writers' events are committed; read them afresh
    failed = [w.exitcode for w in writers if isinstance(w, multiprocessing.Process) and w.exitcode]
    _check(not failed, f"writer processes failed: exit codes {failed}")
    if run.errors:
        raise run.errors[0]
    seconds = stopped - started
    total = AuditEvent.objects.count() - before
    _check(total == APPEND == sum(run.appended), f"{total} events appended, not {APPEND}")
    unsealed = AuditEvent.objects.filter(leaf__isnull=True).count()
    _check(unsealed == 0, f"{unsealed} events were left unsealed")
    caught_up = max(end for _start, end, events in run.seals if events)
    checked = time.perf_counter()
    report = tree.verify()
    verify_seconds = time.perf_counter() - checked
    _check(report.ok, f"the log does not verify: {report.problems[:5]}")
    # The share of the writers' time that the sequencer spent sealing.
    busy = sum(
        max(0.0, min(end, stopped) - max(start, started)) for start, end, _events in run.seals
    )
    rate = total / seconds
    catch_up = max(0.0, caught_up - stopped)
    oldest = max((s[3] for s in run.samples), default=0.0)
    keeps_up = oldest <= KEEPING_UP_S and catch_up <= KEEPING_UP_S
    return {
        "writers": f"{WRITERS} {'processes' if kind == 'process' else 'threads'}",
        "sequencer": mode,
        "events": total,
        "seconds": round(seconds, 2),
        "events_per_second": round(rate),
        "slowest_second_events_per_second": _slowest_second(run.samples),
        "sequencer_interval_s": INTERVAL,
        "heads_signed": TreeHead.objects.count() - heads_before,
        "sequencer_busy_share": round(busy / seconds, 2),
        "max_unsealed_events": max((s[2] for s in run.samples), default=0),
        "max_unsealed_age_s": round(oldest, 2),
        "samples": len(run.samples),
        "catch_up_s": round(catch_up, 2),
        "sequencer_keeps_up": keeps_up,
        "meets_goal": keeps_up and rate >= GOAL_EVENTS_PER_S,
        "verify_ok": report.ok,
        "verify_s": round(verify_seconds, 2),
    }


class AppendRun:
    """The threads of one append run and what they observe."""

    def __init__(self, world: World, mode: str) -> None:
        self.world = world
        self.mode = mode
        #: Events appended so far by each writer (shared with writer processes).
        self.appended = multiprocessing.Array("q", WRITERS, lock=False)
        self.writing = threading.Event()
        self.writing.set()
        self.errors: list[BaseException] = []
        #: (start, end, events) of each seal() (or seal_all()).
        self.seals: list[tuple[float, float, int]] = []
        #: (time, events appended so far, events not sealed, age of the oldest of them in s).
        self.samples: list[tuple[float, int, int, float]] = []

    def guarded(self, work: Callable[..., None], *args: Any) -> Callable[[], None]:
        from django.db import connection  # noqa: PLC0415

        def target() -> None:
            try:
                work(*args)
            except BaseException as error:
                self.errors.append(error)
                self.writing.clear()
                raise
            finally:
                connection.close()  # this thread's own connection

        return target

    def process(self, slot: int) -> None:
        from django.db import connections  # noqa: PLC0415

        try:
            self.writer(slot)
        finally:
            connections.close_all()

    def writer(self, slot: int) -> None:
        """Events as requests record them: one transaction each."""
        from django.db import transaction  # noqa: PLC0415
        from django.http import HttpRequest  # noqa: PLC0415

        from portal import audit  # noqa: PLC0415
        from portal.audit import SESSION_LOGIN_KEY  # noqa: PLC0415
        from portal.audit.constants import EventType  # noqa: PLC0415

        people, employers = self.world.people, self.world.employers
        for n in range(APPEND // WRITERS + (1 if slot < APPEND % WRITERS else 0)):
            if self.errors:
                return
            person = people[(slot * 7 + n) % len(people)]
            employer = employers[n % len(employers)]
            request = HttpRequest()
            request.META = {"REMOTE_ADDR": f"192.0.2.{1 + n % 250}", "HTTP_USER_AGENT": USER_AGENT}
            request.request_id = uuid.uuid4().hex  # type: ignore[attr-defined]
            request.session = {SESSION_LOGIN_KEY: 1000 + slot}  # type: ignore[assignment]
            with transaction.atomic():
                audit.record(
                    EventType.GRANT_CREATED,
                    actor=person,
                    request=request,
                    object_type="employer",
                    object_id=str(employer.public_id),
                    data=_event_data(n, person.pk),
                )
            self.appended[slot] += 1

    def sequencer(self) -> None:
        from portal.audit import tree  # noqa: PLC0415

        while True:
            stopped_before = not self.writing.is_set()
            if self.mode == "seal_all":
                # Seal until a run finds nothing (what `portal audit seal --follow` did at first).
                started = time.perf_counter()
                sealed = tree.seal_all()
                self.seals.append((started, time.perf_counter(), sealed))
            else:
                # One batch per tick, more only while they come full (a backlog).
                sealed = 0
                while True:
                    started = time.perf_counter()
                    batch = tree.seal()
                    self.seals.append((started, time.perf_counter(), batch))
                    sealed += batch
                    if batch < tree.BATCH_SIZE:
                        break
            if stopped_before and not sealed:
                return
            time.sleep(INTERVAL)

    def sampler(self) -> None:
        from django.db.models import Count, Min  # noqa: PLC0415
        from django.utils import timezone  # noqa: PLC0415

        from portal.audit import tree  # noqa: PLC0415
        from portal.audit.models import AuditEvent  # noqa: PLC0415

        while self.writing.is_set():
            # The backlog: the events above the highest one sealed (a range of the primary key,
            # cheap however long the log; an event committed late, below it, is not counted).
            head = tree.latest_head()
            found = AuditEvent.objects.filter(id__gt=head.max_event_id if head else 0).aggregate(
                n=Count("id"), oldest=Min("occurred_at")
            )
            age = (timezone.now() - found["oldest"]).total_seconds() if found["oldest"] else 0.0
            self.samples.append((time.perf_counter(), sum(self.appended), found["n"], age))
            time.sleep(INTERVAL)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _slowest_second(samples: list[tuple[float, int, int, float]]) -> int | None:
    """The lowest append rate over any stretch of about a second between samples (the first and
    last stretch, when the threads start and stop, left out)."""
    steps = max(1, round(1 / INTERVAL))
    rates = [
        (later[1] - earlier[1]) / (later[0] - earlier[0])
        for earlier, later in itertools.pairwise(samples[::steps])
    ]
    inner = rates[1:-1] or rates
    return round(min(inner)) if inner else None


# --- 2. overhead -------------------------------------------------------------------------------


def _logged_in(person: Any) -> Any:
    from django.test import Client  # noqa: PLC0415

    from portal.audit import SESSION_LOGIN_KEY  # noqa: PLC0415

    client = Client(headers={"user-agent": USER_AGENT})
    client.force_login(person)
    session = client.session
    session[SESSION_LOGIN_KEY] = 4242
    session.save()
    return client


def _overhead(world: World) -> dict[str, Any]:
    """The audit write's share of a submission request (a sick-leave report through the API)."""
    import json  # noqa: PLC0415
    from datetime import timedelta  # noqa: PLC0415

    from django.db import transaction  # noqa: PLC0415
    from django.utils import timezone  # noqa: PLC0415

    from portal.access import administration  # noqa: PLC0415
    from portal.access.administration import GrantSpec  # noqa: PLC0415

    with transaction.atomic():
        administration.grant_set(
            employer=world.employer,
            person=world.user,
            spec=GrantSpec("sick_report", "submit"),
            reason="Benchmark",
            actor=world.admin,
        )
    client = _logged_in(world.user)
    url = f"/api/v1/employers/{world.employer.public_id}/eservices/sick_report/submissions"
    first_day = (timezone.localdate() - timedelta(days=16)).isoformat()
    numbers = itertools.count()

    def post() -> float:
        n = next(numbers)
        body = {
            "employee_personal_number": _employee_number(n),
            "first_day": first_day,
            "extent": "full",
            "contact_name": "Lisa Lön",
            "contact_phone": "060123456",
        }
        started = time.perf_counter()
        response = client.post(
            url, json.dumps(body), content_type="application/json",
            headers={"Idempotency-Key": f"bench-submission-{n:06d}"},
        )  # fmt: skip
        elapsed = time.perf_counter() - started
        _check(response.status_code == 201, f"the submission answered {response.status_code}")  # noqa: PLR2004
        return elapsed * 1000

    return _measure(post, "POST a sick-leave report (eservices submit API)")


def _employee_number(n: int) -> str:
    from stdnum import luhn  # noqa: PLC0415

    base = f"95{n // 900 % 12 + 1:02d}01{100 + n % 900:03d}"  # fictional, Luhn-valid, distinct
    return "19" + base + luhn.calc_check_digit(base)


def _measure(post: Callable[[], float], request: str) -> dict[str, Any]:
    from portal.audit import services  # noqa: PLC0415

    real = services.record
    timings: dict[str, list[float]] = {"with": [], "without": []}
    events = {"with": 0, "without": 0}
    for n in range(WARMUP + REQUESTS):
        # Interleaved, in turns, so that neither always comes first.
        for mode in ("with", "without") if n % 2 else ("without", "with"):
            services.record = real if mode == "with" else _record_without_write  # type: ignore[assignment]
            try:
                before = _last_event_id()
                elapsed = post()
                events[mode] += _last_event_id() - before
            finally:
                services.record = real
            if n >= WARMUP:
                timings[mode].append(elapsed)
    _check(events["without"] == 0, "the replaced record wrote events")
    with_ms = statistics.median(timings["with"])
    without_ms = statistics.median(timings["without"])
    overhead = (with_ms - without_ms) / without_ms * 100
    return {
        "request": request,
        "rounds": REQUESTS,
        "audit_events_per_request": round(events["with"] / (WARMUP + REQUESTS), 2),
        "median_ms_with_audit": round(with_ms, 3),
        "median_ms_without_audit": round(without_ms, 3),
        "p95_ms_with_audit": round(_p95(timings["with"]), 3),
        "p95_ms_without_audit": round(_p95(timings["without"]), 3),
        "overhead_percent": round(overhead, 1),
        "meets_goal": overhead <= GOAL_OVERHEAD_PERCENT,
    }


def _last_event_id() -> int:
    from portal.audit.models import AuditEvent  # noqa: PLC0415

    # The events' ids come from a sequence, one by one: what the request added, without counting
    # a table of tens of thousands of rows twice per request.
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    return int(last or 0)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def _record_without_write(event_type: Any, **arguments: Any) -> Any:
    """``audit.record`` without the INSERT: the same checks and argument handling
    (``audit.services.event_for``), the unsaved event returned."""
    from portal.audit import services  # noqa: PLC0415

    return services.event_for(event_type, **arguments)


# --- 3. verify ---------------------------------------------------------------------------------


def _verify(world: World) -> dict[str, Any]:
    from django.db import connection, transaction  # noqa: PLC0415
    from django.utils import timezone  # noqa: PLC0415

    from portal.audit import tree  # noqa: PLC0415
    from portal.audit.constants import ActorKind, EventType, outcome_of  # noqa: PLC0415
    from portal.audit.models import AuditEvent  # noqa: PLC0415

    existing = AuditEvent.objects.count()
    to_build = max(0, VERIFY - existing)
    # Spread over the past 30 days, ending an hour ago: a log this size is weeks old, and the
    # sequencer finds its backlog by event id.
    end = timezone.now() - timedelta(hours=1)
    step = timedelta(days=30) / max(1, to_build)
    start = end - step * to_build
    types = [EventType.GRANT_CREATED, EventType.GRANT_REVOKED, EventType.MEMBERSHIP_CREATED]
    refs = [str(employer.public_id) for employer in world.employers]
    people = [person.pk for person in world.people]
    agents = [uuid.uuid4().hex * 2 for _ in range(5)]  # 64 hex digits, as a SHA-256
    columns = (
        "occurred_at", "event_type", "actor_kind", "actor_id", "object_type", "object_id",
        "employer_ref", "data", "request_id", "ip_address", "login_id", "outcome",
        "user_agent_hash",
    )  # fmt: skip
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for first in range(0, to_build, CHUNK):
            # COPY, one transaction per chunk: the rows bulk_create would write, several times
            # faster (this is only the setup of the verification).
            with (
                transaction.atomic(),
                cursor.copy(f"COPY audit_auditevent ({', '.join(columns)}) FROM STDIN") as copy,
            ):
                for n in range(first, min(first + CHUNK, to_build)):
                    kind = types[n % len(types)]
                    person = people[n % len(people)]
                    ref = refs[n % len(refs)]
                    copy.write_row((
                        start + step * n, kind.value, ActorKind.PERSON.value, person, "employer", ref,
                        ref, json.dumps(_event_data(n, person)), f"{n:032x}",
                        f"198.51.100.{n % 256}", n // 50, outcome_of(kind).value,
                        agents[n % len(agents)],
                    ))  # fmt: skip
    build_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        # As autovacuum would in production: the planner needs the new rows' statistics.
        cursor.execute("ANALYZE audit_auditevent")
    started = time.perf_counter()
    sealed = tree.seal_all()
    seal_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_logleaf, audit_lognode")
    started = time.perf_counter()
    report = tree.verify()
    verify_seconds = time.perf_counter() - started
    _check(report.ok, f"the log does not verify: {report.problems[:5]}")
    return {
        "events": report.events,
        "heads": report.heads,
        "built": to_build,
        "build_s": round(build_seconds, 1),
        "sealed": sealed,
        "seal_s": round(seal_seconds, 1),
        "seal_events_per_second": round(sealed / seal_seconds) if seal_seconds else None,
        "verify_s": round(verify_seconds, 2),
        "verify_events_per_second": round(report.events / verify_seconds),
        "verify_ok": report.ok,
        "meets_goal": verify_seconds / report.events * 1_000_000 <= GOAL_VERIFY_S_PER_MILLION,
    }


if __name__ == "__main__":
    main()
