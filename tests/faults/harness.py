"""The fault tests' harness: a private PostgreSQL, the portal on it under gunicorn, a logged-in API
session, and a client that submits with an Idempotency-Key and retries with the same key.

Nothing here touches a shared database: the private PostgreSQL is initialised into a temporary
directory, listens on a free port of 127.0.0.1 (and a Unix socket in the same directory) and is
removed afterwards. When PostgreSQL's server binaries are missing, ``postgres_bindir`` raises
``HarnessError`` saying what is missing and how to get it; the fixtures turn that into a failed
test, never a skipped or hung one.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from stdnum import luhn

from tests.support.server import VENV_BIN, answers_health, free_port, run_portal, stop

#: PostgreSQL's server programs the harness runs.
PG_PROGRAMS = ("initdb", "pg_ctl", "postgres")
#: Where to look besides PORTAL_PG_BINDIR and PATH: Debian's and Ubuntu's versioned directories.
PG_DEBIAN_DIRS = "/usr/lib/postgresql/*/bin"
#: The demo employer and the demo user who may submit sick-leave reports for it.
DEMO_EMPLOYER_NUMBER = "9699012341"
DEMO_SUBMITTER = "198503152343"  # Bertil Exempelberg
SESSION_COOKIE = "__Host-portal_session"
CSRF_COOKIE = "__Host-portal_csrf"


class HarnessError(RuntimeError):
    """The harness cannot do its part (a program is missing, a process did not start)."""


def wait_for(
    condition: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.05
) -> float:
    """Poll ``condition`` until it holds; return the seconds waited. Fails after ``timeout``."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
    return time.monotonic() - started


# --- A private PostgreSQL -----------------------------------------------------------------------


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))


def postgres_bindir() -> Path:
    """The directory with initdb, pg_ctl and postgres: PORTAL_PG_BINDIR if set, else the one on
    PATH, else Debian's newest /usr/lib/postgresql/<version>/bin."""
    configured = os.environ.get("PORTAL_PG_BINDIR", "")
    candidates: list[Path] = []
    if configured:
        candidates.append(Path(configured))
    else:
        on_path = shutil.which("initdb")
        if on_path:
            candidates.append(Path(on_path).resolve().parent)
        candidates += sorted(Path("/").glob(PG_DEBIAN_DIRS.lstrip("/")), key=_version_key)[::-1]
    for candidate in candidates:
        if all(os.access(candidate / program, os.X_OK) for program in PG_PROGRAMS):
            return candidate
    looked = ", ".join(str(c) for c in candidates) or f"PATH and {PG_DEBIAN_DIRS}"
    raise HarnessError(
        "The fault tests run their own PostgreSQL server and need its programs "
        f"({', '.join(PG_PROGRAMS)}), which were not found (looked in: {looked}). "
        "Install them with `apt-get install postgresql` (Debian/Ubuntu; the packaged server "
        "need not be running), or set PORTAL_PG_BINDIR to the directory that holds initdb, "
        "pg_ctl and postgres."
    )


def _unprivileged_user() -> pwd.struct_passwd | None:
    """PostgreSQL refuses to run as root: as root, run it as the ``postgres`` user."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise HarnessError(
            "PostgreSQL refuses to run as root, and there is no 'postgres' user to run it as: "
            "run the tests as an ordinary user, or install the server with "
            "`apt-get install postgresql`, which creates that user."
        ) from None


@dataclass
class PrivatePostgres:
    """A PostgreSQL server of the tests' own, in ``root`` (data, socket and log), on ``port``."""

    bindir: Path
    root: Path
    port: int
    user: pwd.struct_passwd | None = None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    def url(self, database: str = "portal") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "portal", timeout: int = 5) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            dbname=database,
            connect_timeout=timeout,
            autocommit=True,
        )

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        user = self.user
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C"}
        try:
            return subprocess.run(
                [str(self.bindir / args[0]), *args[1:]],
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                cwd=self.root,
                user=user.pw_uid if user else None,
                group=user.pw_gid if user else None,
                extra_groups=[] if user else None,
            )
        except subprocess.TimeoutExpired:
            raise HarnessError(f"{args[0]} {args[1:]} took more than {timeout:.0f} s") from None

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def initdb(self) -> None:
        self.data_dir.mkdir(mode=0o700)
        self.socket_dir.mkdir(mode=0o700)
        if self.user:
            for path in (self.root, self.data_dir, self.socket_dir):
                os.chown(path, self.user.pw_uid, self.user.pw_gid)
        done = self._run(
            "initdb",
            "--pgdata",
            str(self.data_dir),
            "--username",
            "postgres",
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        )
        if done.returncode != 0:
            raise HarnessError(f"initdb failed:\n{done.stdout}\n{done.stderr}")

    def start(self, *, wait: bool = True) -> None:
        """Start; with ``wait``, return once it accepts connections (pg_ctl -w)."""
        options = " ".join(
            [
                f"-c port={self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.socket_dir}",
                # Durability against a crash of the machine is not under test; a killed or
                # restarted server still loses nothing it acknowledged.
                "-c fsync=off",
                "-c full_page_writes=off",
                "-c max_connections=60",
            ]
        )
        done = self._run(
            "pg_ctl",
            "--pgdata",
            str(self.data_dir),
            "--log",
            str(self.log_file),
            "--wait" if wait else "--no-wait",
            "--timeout",
            "30",
            "-o",
            options,
            "start",
        )
        if done.returncode != 0:
            raise HarnessError(
                f"PostgreSQL did not start on port {self.port}:\n{done.stdout}{done.stderr}\n"
                f"{self.log_tail()}"
            )

    def stop(self, mode: str = "fast") -> None:
        """Stop (``fast``: roll back open transactions, end the sessions, checkpoint)."""
        done = self._run("pg_ctl", "--pgdata", str(self.data_dir), "--mode", mode, "--wait", "stop")
        if done.returncode != 0:
            raise HarnessError(f"PostgreSQL did not stop:\n{done.stdout}{done.stderr}")

    def running(self) -> bool:
        return self._run("pg_ctl", "--pgdata", str(self.data_dir), "status").returncode == 0

    def accepting(self) -> bool:
        try:
            with self.connect("postgres", timeout=1) as connection:
                connection.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def create_database(self, name: str, template: str = "template1") -> None:
        with self.connect("postgres") as connection:
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


@contextlib.contextmanager
def private_postgres(bindir: Path | None = None) -> Iterator[PrivatePostgres]:
    """A fresh PostgreSQL server in a temporary directory; stopped and removed afterwards."""
    bindir = bindir or postgres_bindir()
    user = _unprivileged_user()
    root = Path(tempfile.mkdtemp(prefix="portal-faults-pg-"))
    server = PrivatePostgres(bindir=bindir, root=root, port=free_port(), user=user)
    try:
        server.initdb()
        for attempt in range(3):
            try:
                server.start()
                break
            except HarnessError:
                # The free port was taken in the meantime: try another.
                if attempt == 2:
                    raise
                server.port = free_port()
        yield server
    finally:
        if server.data_dir.exists() and server.running():
            server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


# --- The portal under gunicorn ------------------------------------------------------------------


@dataclass
class RunningPortal:
    """A gunicorn master with its workers, and where its output goes."""

    process: subprocess.Popen[bytes]
    base_url: str
    log_file: Path
    workers: int

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def worker_pids(self) -> set[int]:
        """The master's live child processes (its workers), from /proc."""
        master = self.process.pid
        pids: set[int] = set()
        listed = list(Path(f"/proc/{master}/task").glob("*/children"))
        for children in listed:
            with contextlib.suppress(OSError):
                pids.update(int(pid) for pid in children.read_text().split())
        if not listed:
            # A kernel without /proc/<pid>/task/<tid>/children: every process's parent instead.
            for stat in Path("/proc").glob("[0-9]*/stat"):
                with contextlib.suppress(OSError, IndexError, ValueError):
                    if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                        pids.add(int(stat.parent.name))
        return {pid for pid in pids if _alive(pid)}

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        return ""


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for its parent."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def prepare_database(env: Mapping[str, str]) -> None:
    """Migrate and load the demo data into the database of ``env``."""
    for args in (["migrate", "--noinput"], ["load_demo_data"]):
        done = run_portal(args, env, timeout=300)
        if done.returncode != 0:
            raise HarnessError(f"portal {' '.join(args)} failed:\n{done.stderr[-3000:]}")


@contextlib.contextmanager
def gunicorn_portal(
    env: Mapping[str, str], log_dir: Path, *, workers: int = 2, threads: int = 4
) -> Iterator[RunningPortal]:
    """gunicorn with ``workers`` workers on a free port; yields once every worker answers."""
    port = free_port()
    log_file = log_dir / f"gunicorn-{port}.log"
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "portal.config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--reuse-port",
                "--graceful-timeout",
                "5",
            ],
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    portal = RunningPortal(process, f"http://127.0.0.1:{port}", log_file, workers)
    try:
        deadline = time.monotonic() + 60
        while not (len(portal.worker_pids()) == workers and answers_health(portal.base_url)):
            if process.poll() is not None:
                raise HarnessError(f"gunicorn exited at start-up:\n{portal.log_tail()}")
            if time.monotonic() > deadline:
                raise HarnessError(f"gunicorn did not start within 60 s:\n{portal.log_tail()}")
            time.sleep(0.1)
        yield portal
    finally:
        stop(process, timeout=15)


def client_connections(pid: int, port: int) -> dict[int, int]:
    """The established TCP connections to ``port`` that process ``pid`` holds (a worker's
    connections from clients): for each the client's port, and the bytes received and not yet
    read by the process. From its open sockets and /proc/net/tcp."""
    inodes: set[str] = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = str(fd.readlink())
                if target.startswith("socket:["):
                    inodes.add(target[len("socket:[") : -1])
    unread: dict[int, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if local_port == port and fields[3] == "01" and fields[9] in inodes:
                    client_port = int(fields[2].rsplit(":", 1)[1], 16)
                    unread[client_port] = int(fields[4].split(":")[1], 16)
    return unread


def signal_worker(portal: RunningPortal, pid: int, signum: signal.Signals) -> None:
    assert pid in portal.worker_pids(), f"{pid} is not one of gunicorn's workers"
    os.kill(pid, signum)


# --- A logged-in API client ---------------------------------------------------------------------

_LOGIN_SCRIPT = """
import json
from django.test import Client
from portal.employers.models import Employer
from portal.identity.models import Person

client = Client()
client.force_login(Person.objects.get(personal_number={number!r}))
employer = Employer.objects.get(organisation_number={employer!r})
print(json.dumps({{"session": client.cookies[{cookie!r}].value, "employer": str(employer.public_id)}}))
"""


@dataclass(frozen=True)
class ApiLogin:
    """A session of ``personal_number`` (made in the database as a login would make it) and the
    employer the person submits for."""

    personal_number: str
    employer_id: str
    session_key: str
    csrf_secret: str = field(default_factory=lambda: secrets.token_hex(16))

    def headers(self) -> dict[str, str]:
        # Django's CSRF check: the cookie's secret, and the same value in the header.
        return {
            "Cookie": f"{SESSION_COOKIE}={self.session_key}; {CSRF_COOKIE}={self.csrf_secret}",
            "X-CSRFToken": self.csrf_secret,
        }

    @property
    def submissions_path(self) -> str:
        return f"/api/v1/employers/{self.employer_id}/eservices/sick_report/submissions"

    @property
    def employer_page(self) -> str:
        return f"/arbetsgivare/{self.employer_id}/"


def api_login(env: Mapping[str, str], personal_number: str = DEMO_SUBMITTER) -> ApiLogin:
    script = _LOGIN_SCRIPT.format(
        number=personal_number, employer=DEMO_EMPLOYER_NUMBER, cookie=SESSION_COOKIE
    )
    done = run_portal(["shell", "--no-imports", "-c", script], env)
    if done.returncode != 0:
        raise HarnessError(f"could not make a session:\n{done.stderr[-3000:]}")
    made = json.loads(done.stdout.strip().splitlines()[-1])
    return ApiLogin(personal_number, made["employer"], made["session"])


def employee_number(index: int) -> str:
    """A valid, distinct 12-digit personal number per index (born 1960-01-01 + index days), so
    that no two test submissions are about the same employee (the sick-leave report refuses
    overlapping periods of one employee)."""
    birth = date(1960, 1, 1) + timedelta(days=index)
    nine = f"{birth:%y%m%d}{index % 1000:03d}"
    return f"{birth.year // 100}{nine}{luhn.calc_check_digit(nine)}"


def sick_report(index: int) -> dict[str, Any]:
    return {
        "employee_personal_number": employee_number(index),
        "first_day": (date.today() - timedelta(days=16)).isoformat(),  # noqa: DTZ011
        "extent": "half",
        "contact_name": "Lisa Lön",
        "contact_phone": "060123456",
    }


@dataclass
class Answer:
    """One HTTP exchange as the client saw it."""

    kind: str
    sent: float
    received: float
    status: int | None  # None: no answer (connection error or timeout)
    content_type: str = ""
    body: str = ""
    retry_after: str = ""
    error: str = ""


@dataclass
class Outcome:
    """A submission's end: acknowledged (2xx) with its reference, or given up."""

    key: str
    index: int
    status: int | None
    reference: str | None
    attempts: int
    replayed: bool

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Recorder:
    """Every answer and every submission outcome, from all client threads."""

    answers: list[Answer] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, answer: Answer) -> None:
        with self.lock:
            self.answers.append(answer)

    def outcome(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)

    def snapshot(self) -> tuple[list[Answer], list[Outcome]]:
        with self.lock:
            return list(self.answers), list(self.outcomes)


class PortalClient:
    """One client thread's connection to the portal, recording what it sees."""

    def __init__(
        self, base_url: str, login: ApiLogin, recorder: Recorder, timeout: float = 15
    ) -> None:
        self.login = login
        self.recorder = recorder
        self.http = httpx.Client(base_url=base_url, timeout=timeout, headers=login.headers())
        #: When the request now waiting for its answer was sent (None: none is).
        self.in_flight_since: float | None = None
        #: The local port of the (kept-alive) connection of the last answer: which worker holds
        #: the other end can be read from /proc (``client_connections``).
        self.local_port: int | None = None

    def close(self) -> None:
        self.http.close()

    def request(self, kind: str, method: str, path: str, **kwargs: Any) -> Answer:
        sent = self.in_flight_since = time.monotonic()
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError as error:
            answer = Answer(kind, sent, time.monotonic(), None, error=repr(error))
        else:
            answer = Answer(
                kind,
                sent,
                time.monotonic(),
                response.status_code,
                response.headers.get("content-type", ""),
                response.text,
                response.headers.get("retry-after", ""),
            )
            stream = response.extensions.get("network_stream")
            with contextlib.suppress(OSError, TypeError, IndexError):
                self.local_port = int(stream.get_extra_info("client_addr")[1])
        finally:
            self.in_flight_since = None
        self.recorder.answer(answer)
        return answer

    def submit(
        self,
        index: int,
        *,
        key: str | None = None,
        give_up_after: float = 40,
        retry_on: Callable[[Answer], bool] | None = None,
    ) -> Outcome:
        """Submit sick-leave report ``index``; on an answer ``retry_on`` accepts (by default no
        answer at all, or a 5xx), retry with the same Idempotency-Key until a final answer."""
        key = key or f"faults-{uuid.uuid4()}"
        retry_on = retry_on or (lambda a: a.status is None or a.status >= 500)
        body = sick_report(index)
        started = time.monotonic()
        attempts = 0
        pause = 0.05
        while True:
            attempts += 1
            answer = self.request(
                "submit",
                "POST",
                self.login.submissions_path,
                json=body,
                headers={"Idempotency-Key": key},
            )
            if not retry_on(answer) or time.monotonic() - started > give_up_after:
                break
            time.sleep(pause)
            pause = min(pause * 2, 0.5)
        reference = None
        replayed = False
        if answer.status in (200, 201):
            reference = json.loads(answer.body)["reference"]
            replayed = answer.status == 200
        outcome = Outcome(key, index, answer.status, reference, attempts, replayed)
        self.recorder.outcome(outcome)
        return outcome


# --- What the database holds --------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """A stored submission with the side effects written in its transaction."""

    key: str
    reference: str
    subject: str
    audit_events: int
    intake_messages: int


def stored_submissions(
    server: PrivatePostgres, database: str, personal_number: str
) -> list[Stored]:
    """The person's API submissions in the database, one row per stored submission."""
    with server.connect(database) as connection:
        rows = connection.execute(
            """
            SELECT s.idempotency_key, s.reference, s.subject,
                   (SELECT count(*) FROM audit_auditevent e
                     WHERE e.event_type = 'eservices:submission:receive'
                       AND e.object_id = s.public_id::text),
                   (SELECT count(*) FROM eservices_intakemessage m WHERE m.submission_id = s.id)
              FROM eservices_submission s
              JOIN identity_person p ON p.id = s.submitted_by_id
             WHERE p.personal_number = %s AND s.idempotency_key LIKE 'api:%%'
            """,
            (personal_number,),
        ).fetchall()
    return [Stored(key.removeprefix("api:"), *rest) for key, *rest in rows]


def exactly_once_problems(outcomes: list[Outcome], stored: list[Stored]) -> list[str]:
    """What breaks "every acknowledged submission stored exactly once": duplicates per key or per
    employee, an acknowledged one missing or stored under another reference, a stored one nobody
    sent, its audit event or intake message missing or doubled."""
    problems: list[str] = []
    by_key: dict[str, list[Stored]] = {}
    for row in stored:
        by_key.setdefault(row.key, []).append(row)
    sent_keys = {outcome.key for outcome in outcomes}
    for key, rows in by_key.items():
        if len(rows) != 1:
            problems.append(f"key {key} stored {len(rows)} times")
        if key not in sent_keys:
            problems.append(f"key {key} stored but never sent")
    subjects = [row.subject for row in stored]
    if len(subjects) != len(set(subjects)):
        problems.append("one employee's report was stored more than once")
    for outcome in outcomes:
        if not outcome.acknowledged:
            continue
        rows = by_key.get(outcome.key, [])
        if not rows:
            problems.append(f"acknowledged {outcome.reference} ({outcome.key}) is not stored")
        elif rows[0].reference != outcome.reference:
            problems.append(
                f"{outcome.key} was acknowledged as {outcome.reference}, stored as "
                f"{rows[0].reference}"
            )
    problems.extend(
        f"{row.reference}: {row.audit_events} audit events and {row.intake_messages} intake "
        "messages, expected one of each"
        for row in stored
        if row.audit_events != 1 or row.intake_messages != 1
    )
    return problems
