"""The portal under load: gunicorn on PostgreSQL, driven by locust on loopback.

Run by ``bench/run.py`` (``make bench``) as its own process, ``python bench/load.py OUT.json``,
with DATABASE_URL naming a PostgreSQL server (the database named need not exist): the bench creates
a database of its own there (``bench_load_<pid>``), and drops it afterwards.

1. **The world** (``bench/seed.py``, COPY): BENCH_EMPLOYERS employers (default 1 000) with 50
   people each (memberships as access administrator or user, grants to the e-services, some
   history), and BENCH_LOAD_AUDIT_EVENTS audit events (default 1 000 000).
2. **The server**: ``gunicorn portal.config.wsgi`` with BENCH_WORKERS workers (default 2) of
   BENCH_THREADS threads (default 4) and a listening socket each (``--reuse-port``), as
   docs/operations.md runs it (the Prometheus multiprocess
   directory set, the request log written at LOG_LEVEL, default info, to a file), with
   ``DJANGO_SETTINGS_MODULE=bench.settings``: the portal's settings and URLs plus the floor's
   view (bench/urls.py). Nothing else runs beside it (no task worker, no audit sequencer).
3. **The runs**, each BENCH_USERS locust users (default 50, all started in the first second) for
   BENCH_SECONDS (default 60), after BENCH_WARMUP_SECONDS (default 10) of the same load unmeasured,
   each with fresh sessions of people spread over the employers (bench/locustfile.py describes
   the users):

   - ``mixed``: the mixed workload of users and administrators, at BENCH_EMPLOYERS;
   - ``floor``: the minimal logged-in view, at BENCH_EMPLOYERS;
   - ``scale_small`` and ``scale_large``: the mixed workload at BENCH_SCALE_SMALL (default 100)
     and BENCH_SCALE_LARGE (default 10 000) employers. The world grows from the smallest size to
     the largest (the audit events are written at the first), so that each size is run once; a
     size equal to BENCH_EMPLOYERS reuses the mixed run.

   Reported per run: requests, failures (any answer but the expected one, or none), requests per
   second, exact p50, p95, p99 and max of every request's time (locust's own figures are rounded),
   the same per request name, the commonest failures, the machine's CPU use (the load generator
   shares the machine with the server and the database: its CPU seconds are reported too), and
   the clients' connections on each worker halfway through the run.

Users wait BENCH_THINK_MS between tasks (default 0: each user sends its next request as soon as
the last is answered, so that the throughput is the portal's; the latencies then include the time
spent queueing for a worker thread).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
VENV_BIN = Path(sys.executable).parent

EMPLOYERS = int(os.environ.get("BENCH_EMPLOYERS", "1000"))
SCALE_SMALL = int(os.environ.get("BENCH_SCALE_SMALL", "100"))
SCALE_LARGE = int(os.environ.get("BENCH_SCALE_LARGE", "10000"))
AUDIT_EVENTS = int(os.environ.get("BENCH_LOAD_AUDIT_EVENTS", "1000000"))
USERS = int(os.environ.get("BENCH_USERS", "50"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "60"))
WARMUP_SECONDS = int(os.environ.get("BENCH_WARMUP_SECONDS", "10"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
THINK_MS = int(os.environ.get("BENCH_THINK_MS", "0"))
MIXED = ("EServiceUser", "AdministratorUser")
FLOOR = ("FloorUser",)


def main() -> None:
    out = Path(sys.argv[1])
    server_url = os.environ.get("DATABASE_URL", "")
    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-load-"))
    with _database(server_url) as url:
        os.environ.update(
            {
                "DATABASE_URL": url,
                "DJANGO_SETTINGS_MODULE": "bench.settings",
                "PORTAL_VAR_DIR": str(workdir / "var"),
            }
        )
        os.environ.setdefault("LOG_LEVEL", "warning")
        sys.path.insert(0, str(ROOT))
        import django  # noqa: PLC0415

        django.setup()
        from django.core.management import call_command  # noqa: PLC0415
        from django.db import connection, connections  # noqa: PLC0415

        if connection.vendor != "postgresql":
            msg = f"the load bench runs on PostgreSQL, not {connection.vendor}"
            raise SystemExit(msg)
        call_command("migrate", verbosity=0, interactive=False)
        try:
            result = Bench(url, workdir).run()
        finally:
            connections.close_all()
    out.write_text(json.dumps(result, indent=2) + "\n")
    if os.environ.get("BENCH_KEEP_WORKDIR"):
        _progress(f"the server's log, locust's output and the personas are in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def _database(server_url: str) -> Any:
    """A database of the bench's own on the server of ``server_url``; dropped afterwards."""
    import dj_database_url  # noqa: PLC0415
    import psycopg  # noqa: PLC0415

    params = dj_database_url.parse(server_url)
    if params["ENGINE"] != "django.db.backends.postgresql":
        msg = "the load bench needs DATABASE_URL to name a PostgreSQL server"
        raise SystemExit(msg)
    connect = {
        # The server's maintenance database: the one named need not exist.
        "dbname": "postgres",
        "user": params.get("USER") or None,
        "password": params.get("PASSWORD") or None,
        "host": params.get("HOST") or None,
        "port": params.get("PORT") or None,
        "autocommit": True,
    }
    name = f"bench_load_{os.getpid()}"
    with psycopg.connect(**connect) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        user = params.get("USER") or ""
        password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
        credentials = f"{user}{password}@" if user else ""
        host = params.get("HOST") or "127.0.0.1"
        yield f"postgres://{credentials}{host}:{params.get('PORT') or 5432}/{name}"
    finally:
        with psycopg.connect(**connect) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _progress(text: str) -> None:
    sys.stderr.write(f"  load: {text}\n")
    sys.stderr.flush()


class Bench:
    def __init__(self, url: str, workdir: Path) -> None:
        self.url = url
        self.workdir = workdir
        self.server: subprocess.Popen[bytes] | None = None
        self.base_url = ""
        self.runs = 0

    def run(self) -> dict[str, Any]:
        import seed  # noqa: PLC0415 (bench/seed.py, importable once Django is set up)

        started = time.perf_counter()
        sizes = sorted({SCALE_SMALL, EMPLOYERS, SCALE_LARGE})
        world: dict[str, Any] = {"grow": [], "audit": None}
        runs: dict[str, Any] = {}
        try:
            for size in sizes:
                _progress(f"seeding {size} employers with {seed.PEOPLE_PER_EMPLOYER} people each")
                world["grow"].append(seed.grow(size))
                if world["audit"] is None:
                    _progress(f"seeding {AUDIT_EVENTS} audit events")
                    world["audit"] = seed.audit_events(AUDIT_EVENTS, EMPLOYERS)
                if self.server is None:
                    self._start_server()
                if size == EMPLOYERS:
                    runs["mixed"] = self._measure("mixed", MIXED, size)
                    runs["floor"] = self._measure("floor", FLOOR, size)
                for name, scale in (("scale_small", SCALE_SMALL), ("scale_large", SCALE_LARGE)):
                    if size == scale:
                        runs[name] = (
                            runs["mixed"]
                            if size == EMPLOYERS
                            else self._measure("mixed", MIXED, size)
                        )
        finally:
            self._stop_server()
        return {
            "benchmark": "the portal under load: gunicorn on PostgreSQL, locust on loopback",
            "server": f"gunicorn, {WORKERS} workers of {THREADS} threads, --reuse-port",
            "load_generator": f"locust {_locust_version()} (FastHttpUser), on the same machine",
            "users": USERS,
            "seconds": SECONDS,
            "warmup_seconds": WARMUP_SECONDS,
            "think_ms": THINK_MS,
            "employers": EMPLOYERS,
            "people_per_employer": seed.PEOPLE_PER_EMPLOYER,
            "audit_events": AUDIT_EVENTS,
            "scale": {"small": SCALE_SMALL, "large": SCALE_LARGE},
            "world": world,
            "runs": runs,
            "total_seconds": round(time.perf_counter() - started, 1),
        }

    # --- the server ----------------------------------------------------------------------------

    def _start_server(self) -> None:
        import socket  # noqa: PLC0415

        import httpx  # noqa: PLC0415

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        metrics = self.workdir / "prometheus"
        metrics.mkdir()
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
            "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "info"),
            "PORTAL_LOG_FORMAT": "json",
            "PORTAL_BASE_URL": self.base_url,
        }
        log = (self.workdir / "server.log").open("wb")
        _progress(f"starting gunicorn ({WORKERS} workers, {THREADS} threads) on {self.base_url}")
        self.server = subprocess.Popen(  # noqa: S603 (the venv's gunicorn)
            [
                str(VENV_BIN / "gunicorn"),
                "portal.config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(WORKERS),
                "--threads",
                str(THREADS),
                "--reuse-port",
                "--chdir",
                str(ROOT),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.server.poll() is not None:
                msg = f"gunicorn exited at start-up:\n{self._server_log()[-4000:]}"
                raise RuntimeError(msg)
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:  # noqa: PLR2004
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                msg = "gunicorn did not answer /healthz within 60 s"
                raise RuntimeError(msg)
            time.sleep(0.2)

    def _stop_server(self) -> None:
        if self.server is None:
            return
        self.server.terminate()
        try:
            self.server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.server.kill()
            self.server.wait()
        self.server = None

    def _server_log(self) -> str:
        return (self.workdir / "server.log").read_text(errors="replace")

    # --- the runs ------------------------------------------------------------------------------

    def _measure(self, kind: str, classes: tuple[str, ...], employers: int) -> dict[str, Any]:
        import seed  # noqa: PLC0415

        self.runs += 1
        personas = seed.personas(USERS, seed=1000 + self.runs)
        path = self.workdir / f"personas-{self.runs}.json"
        path.write_text(json.dumps([persona.as_json() for persona in personas]))
        if WARMUP_SECONDS:
            _progress(f"{kind} at {employers} employers: warming up for {WARMUP_SECONDS} s")
            self._locust(classes, path, WARMUP_SECONDS, f"warmup-{self.runs}", run=self.runs * 2)
        _progress(f"{kind} at {employers} employers: {USERS} users for {SECONDS} s")
        result = self._locust(classes, path, SECONDS, f"run-{self.runs}", run=self.runs * 2 + 1)
        return {"workload": kind, "employers": employers, **result}

    def _locust(
        self, classes: tuple[str, ...], personas: Path, seconds: int, label: str, *, run: int
    ) -> dict[str, Any]:
        import psutil  # noqa: PLC0415

        prefix = self.workdir / label
        timings = self.workdir / f"{label}-timings.json"
        env = {
            **os.environ,
            "BENCH_PERSONAS": str(personas),
            "BENCH_TIMINGS": str(timings),
            "BENCH_RUN": str(run),
            "BENCH_THINK_MS": str(THINK_MS),
        }
        command = [
            str(VENV_BIN / "locust"),
            "-f", str(BENCH_DIR / "locustfile.py"),
            "--headless",
            "--host", self.base_url,
            "--users", str(USERS),
            "--spawn-rate", str(USERS),
            "--run-time", f"{seconds}s",
            "--csv", str(prefix),
            "--only-summary",
            "--loglevel", "WARNING",
            "--exit-code-on-error", "0",
            *classes,
        ]  # fmt: skip
        server = self._server_processes()
        server_cpu = _cpu_seconds(server)
        database_cpu = _database_cpu()
        psutil.cpu_percent()
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        with (self.workdir / f"{label}-locust.log").open("wb") as log:
            locust = psutil.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
            locust_cpu = 0.0
            split: list[int] = []
            while locust.poll() is None:
                try:
                    times = locust.cpu_times()
                    locust_cpu = times.user + times.system
                except psutil.NoSuchProcess:
                    break
                if not split and time.perf_counter() - started > seconds / 2:
                    split = self._connections_per_worker()
                time.sleep(0.5)
        elapsed = time.perf_counter() - started
        machine_percent = psutil.cpu_percent()
        if locust.returncode != 0:
            log_text = (self.workdir / f"{label}-locust.log").read_text(errors="replace")
            msg = f"locust exited with {locust.returncode}:\n{log_text[-4000:]}"
            raise RuntimeError(msg)
        if not timings.exists():
            msg = f"locust wrote no timings ({timings})"
            raise RuntimeError(msg)
        summary = _summary(json.loads(timings.read_text()), seconds)
        server_cpu = _cpu_seconds(server) - server_cpu
        database_cpu_s = _database_cpu_since(database_cpu)
        return {
            **summary,
            "locust_requests_per_second": _locust_rps(Path(f"{prefix}_stats.csv")),
            "failures_seen": _failures(Path(f"{prefix}_failures.csv")),
            "cpu": {
                "machine_percent": machine_percent,
                "cores": os.cpu_count(),
                "server_cpu_s": round(server_cpu, 1),
                # What a request costs the web server's processes, whatever else runs (the
                # warm-up's requests still finishing at the start are counted in, a few).
                "server_cpu_ms_per_request": (
                    round(server_cpu * 1000 / summary["requests"], 2)
                    if summary["requests"]
                    else None
                ),
                # What PostgreSQL's processes spent (its backends, its writers, autovacuum), when
                # the server runs on this machine: null otherwise.
                "database_cpu_s": None if database_cpu_s is None else round(database_cpu_s, 1),
                "database_cpu_ms_per_request": (
                    round(database_cpu_s * 1000 / summary["requests"], 2)
                    if database_cpu_s is not None and summary["requests"]
                    else None
                ),
                "locust_cpu_s": round(locust_cpu, 1),
                "wall_s": round(elapsed, 1),
            },
            "load_average_before": round(load_before, 2),
            # The clients' open connections on each worker halfway through the run, most first:
            # a connection stays with its worker, and an uneven split leaves a worker's clients
            # waiting while the other has little to do.
            "connections_per_worker": split,
        }

    def _connections_per_worker(self) -> list[int]:
        import psutil  # noqa: PLC0415

        port = int(self.base_url.rpartition(":")[2])
        counts = []
        for worker in self._server_processes()[1:]:
            try:
                found = worker.net_connections("tcp")
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            counts.append(
                sum(
                    1
                    for connection in found
                    if connection.status == psutil.CONN_ESTABLISHED
                    and connection.laddr.port == port
                )
            )
        return sorted(counts, reverse=True)

    def _server_processes(self) -> list[Any]:
        import psutil  # noqa: PLC0415

        if self.server is None:
            return []
        master = psutil.Process(self.server.pid)
        return [master, *master.children(recursive=True)]


def _cpu_seconds(processes: list[Any]) -> float:
    import psutil  # noqa: PLC0415

    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _database_cpu() -> dict[int, float] | None:
    """The CPU seconds of each PostgreSQL process on this machine (the server's own processes,
    which call themselves ``postgres``), or None when there is none to see."""
    import psutil  # noqa: PLC0415

    found: dict[int, float] = {}
    for process in psutil.process_iter(["name"]):
        if process.info["name"] != "postgres":
            continue
        try:
            times = process.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        found[process.pid] = times.user + times.system
    return found or None


def _database_cpu_since(before: dict[int, float] | None) -> float | None:
    """What PostgreSQL's processes spent since ``before`` (a process begun since counts whole;
    one that ended since is not seen, and the server's connections outlive a run)."""
    after = _database_cpu()
    if before is None or after is None:
        return None
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def _percentile(ordered: list[float], share: float) -> float:
    """The nearest-rank percentile of sorted values."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[min(len(ordered), rank) - 1]


def _summary(timings: list[list[Any]], seconds: int) -> dict[str, Any]:
    times = sorted(float(t[1]) for t in timings)
    failures = sum(1 for t in timings if t[2])
    rows = []
    by_name: dict[str, list[list[Any]]] = {}
    for timing in timings:
        by_name.setdefault(timing[0], []).append(timing)
    for name, group in sorted(by_name.items(), key=lambda item: -len(item[1])):
        ordered = sorted(float(t[1]) for t in group)
        rows.append(
            {
                "name": name,
                "requests": len(group),
                "share": round(len(group) / len(timings), 3),
                "failures": sum(1 for t in group if t[2]),
                "p50_ms": round(statistics.median(ordered), 1),
                "p95_ms": round(_percentile(ordered, 0.95), 1),
                "p99_ms": round(_percentile(ordered, 0.99), 1),
            }
        )
    return {
        "requests": len(times),
        "failures": failures,
        "rps": round(len(times) / seconds, 1),
        "p50_ms": round(statistics.median(times), 1) if times else None,
        "p95_ms": round(_percentile(times, 0.95), 1) if times else None,
        "p99_ms": round(_percentile(times, 0.99), 1) if times else None,
        "max_ms": round(times[-1], 1) if times else None,
        "rows": rows,
    }


def _locust_rps(stats: Path) -> float | None:
    import csv  # noqa: PLC0415

    if not stats.exists():
        return None
    with stats.open() as file:
        for row in csv.DictReader(file):
            if row.get("Name") == "Aggregated":
                return round(float(row["Requests/s"]), 1)
    return None


def _failures(path: Path) -> list[dict[str, Any]]:
    import csv  # noqa: PLC0415

    if not path.exists():
        return []
    counted: Counter[tuple[str, str]] = Counter()
    with path.open() as file:
        for row in csv.DictReader(file):
            counted[(f"{row['Method']} {row['Name']}", row["Error"])] += int(row["Occurrences"])
    return [
        {"request": request, "error": error[:300], "occurrences": n}
        for (request, error), n in counted.most_common(10)
    ]


def _locust_version() -> str:
    from importlib.metadata import version  # noqa: PLC0415

    return version("locust")


if __name__ == "__main__":
    main()
