"""``make bench``: the portal's benchmarks, printed as tables and written to bench/results.json.

1. Request latency of the public pages and the API, served in-process: each address is requested
   WARMUP times, then BENCH_ROUNDS times (default 300) measured; p50, p95 and requests per second
   (single thread).
2. The authorisation decision, ``access.can`` against pycasbin's RBAC ``enforce`` on the same facts,
   with the database queries per decision (``bench/access.py`` describes it and its sizes).

3. The audit log on PostgreSQL: appending with the sequencer running, verifying a million events,
   and what the audit write adds to a write request (``bench/audit.py`` describes it and its
   sizes). It runs in a process of its own, on DATABASE_URL when that is PostgreSQL, otherwise on
   BENCH_POSTGRES_URL (default ``postgres://postgres@127.0.0.1:5432/postgres``, only used to create
   and drop its throwaway database); with neither reachable it is skipped, and says so.

4. The portal under load on PostgreSQL: gunicorn with two workers, a mixed workload of logged-in
   people from locust on loopback, the floor (a minimal logged-in view on the same stack), and the
   same workload at a small and a large number of employers (``bench/load.py`` describes it and
   its sizes). Like the audit bench, its own process on its own throwaway database, on the same
   PostgreSQL server; skipped, and says so, when none answers.

The database: a temporary SQLite file unless DATABASE_URL is set; with DATABASE_URL (e.g.
``postgres://postgres@127.0.0.1:5432/portal``) a throwaway database beside it (``test_<name>`` on
PostgreSQL), dropped afterwards, so that the bench never writes into a database in use.

The result goes to BENCH_RESULTS (default bench/results.json): the sections above, the headline
figures under flat dotted keys (``mixed.rps``, ``floor.rps``, ``authz.decisions_per_s``, ...; see
HEADLINE), and the goals, each with its figure and whether it is met (docs/performance.md).

``python bench/run.py --smoke`` (``make bench-smoke``) runs all of it at tiny sizes (SMOKE_SIZES,
each overridable from the environment) in well under a minute, to results under var/: a check
that the harness works, not a measurement.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
#: ``--smoke``: every size tiny (the environment still wins).
SMOKE_SIZES = {
    "BENCH_ROUNDS": "5",
    "BENCH_ACCESS_EMPLOYERS": "20",
    "BENCH_ACCESS_PEOPLE": "200",
    "BENCH_ACCESS_DECISIONS": "50",
    "BENCH_ACCESS_SLOW_DECISIONS": "5",
    "BENCH_AUDIT_APPEND": "200",
    "BENCH_AUDIT_REQUESTS": "10",
    "BENCH_AUDIT_VERIFY": "2000",
    "BENCH_EMPLOYERS": "5",
    "BENCH_SCALE_SMALL": "2",
    "BENCH_SCALE_LARGE": "10",
    "BENCH_LOAD_AUDIT_EVENTS": "2000",
    "BENCH_USERS": "5",
    "BENCH_SECONDS": "3",
    "BENCH_WARMUP_SECONDS": "0",
}
if "--smoke" in sys.argv[1:]:
    for _name, _value in SMOKE_SIZES.items():
        os.environ.setdefault(_name, _value)
    os.environ.setdefault(
        "BENCH_RESULTS", str(BENCH_DIR.parent / "var" / "bench-smoke" / "results.json")
    )

WARMUP = 20
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "300"))
ADDRESSES = ["/", "/driftstatus/", "/hjalp/", "/api/v1/status", "/healthz", "/finns-inte/"]
#: The headline figures, under these flat keys at the top of the result (the issue's names).
HEADLINE = (
    "mixed.rps", "mixed.p50_ms", "mixed.p95_ms", "mixed.p99_ms", "mixed.errors", "floor.rps",
    "authz.decisions_per_s", "authz.pycasbin_per_s", "audit.append_per_s", "audit.verify_1m_s",
    "scale.p95_small_ms", "scale.p95_large_ms",
)  # fmt: skip
#: The goals: no failed request; p95 and p99 of the mixed workload; its throughput against the
#: floor's; how much p95 may grow from the small world to the large one.
GOAL_P95_MS = 150
GOAL_P99_MS = 400
GOAL_FLOOR_SHARE = 0.40
GOAL_SCALE_GROWTH = 0.25


def main() -> None:
    postgres = _postgres_url(os.environ.get("DATABASE_URL", ""))
    workdir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ.setdefault("PORTAL_VAR_DIR", str(workdir))
    os.environ.setdefault("LOG_LEVEL", "warning")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.config.settings")
    import django  # noqa: PLC0415

    django.setup()
    from django.db import connection  # noqa: PLC0415

    # A SQLite test database would be in memory by default: keep it a file, as the portal runs.
    connection.settings_dict["TEST"]["NAME"] = (
        str(workdir / "bench-test.sqlite3") if connection.vendor == "sqlite" else None
    )
    original_name = connection.creation.create_test_db(
        verbosity=0, autoclobber=True, serialize=False
    )
    try:
        import access  # noqa: PLC0415 (bench/access.py, importable once Django is set up)

        requests = _requests()
        decisions = access.run()
    finally:
        connection.creation.destroy_test_db(original_name, verbosity=0)
    audit_log = _audit(postgres)
    load = _load(postgres)
    result: dict[str, Any] = {
        "python": platform.python_version(),
        "database": f"{connection.vendor} {_server_version(connection)}".strip(),
        "machine": _machine(),
        "command": _command(),
        "finished_at": time.strftime("%Y-%m-%d %H:%M %Z"),
    }
    headline = _headline(decisions, audit_log, load)
    result.update(headline)
    result["goals"] = _goals(headline, load)
    result.update({"requests": requests, "access": decisions, "audit": audit_log, "load": load})
    out = Path(os.environ.get("BENCH_RESULTS") or BENCH_DIR / "results.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    write = sys.stdout.write
    write(f"{result['database']}, Python {result['python']}, {result['machine']}\n\n")
    _print_requests(requests["rows"])
    write("\n")
    _print_access(decisions)
    write("\n")
    _print_audit(audit_log)
    write("\n")
    _print_load(load)
    write("\n")
    _print_goals(result)
    write(f"\nwritten to {out}\n")
    shutil.rmtree(workdir, ignore_errors=True)


def _requests() -> dict[str, Any]:
    from django.test import Client  # noqa: PLC0415

    client = Client()
    rows = []
    for address in ADDRESSES:
        for _ in range(WARMUP):
            client.get(address)
        timings = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            client.get(address)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        rows.append(
            {
                "address": address,
                "rounds": ROUNDS,
                "p50_ms": round(statistics.median(timings), 2),
                "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
                "requests_per_second": round(1000 / statistics.mean(timings), 1),
            }
        )
    return {"benchmark": "in-process request latency", "rows": rows}


def _postgres_url(database_url: str) -> str:
    """The PostgreSQL server for the audit bench: DATABASE_URL when it is one, otherwise
    BENCH_POSTGRES_URL."""
    if database_url.split(":", 1)[0] in {"postgres", "postgresql", "pgsql"}:
        return database_url
    return os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def _unreachable(url: str) -> str | None:
    """Why the PostgreSQL server of ``url`` cannot be used, or None. Its maintenance database
    ``postgres`` is asked, as the benches create databases of their own beside the one named."""
    import dj_database_url  # noqa: PLC0415
    import psycopg  # noqa: PLC0415

    params = dj_database_url.parse(url)
    where = f"{params.get('HOST') or 'localhost'}:{params.get('PORT') or 5432}"
    try:
        psycopg.connect(
            dbname="postgres",
            user=params.get("USER") or None,
            password=params.get("PASSWORD") or None,
            host=params.get("HOST") or None,
            port=params.get("PORT") or None,
            connect_timeout=3,
        ).close()
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return (
            f"no PostgreSQL at {where} ({reason}); start one, or name one with "
            "BENCH_POSTGRES_URL=postgres://user@host:port/postgres"
        )
    return None


def _where(url: str) -> str:
    import dj_database_url  # noqa: PLC0415

    params = dj_database_url.parse(url)
    return f"{params.get('HOST') or 'localhost'}:{params.get('PORT') or 5432}"


def _subprocess(script: str, url: str, label: str) -> dict[str, Any]:
    """Run bench/<script> in a process of its own on ``url`` (its Django settings are its own),
    or say why not."""
    import subprocess  # noqa: PLC0415

    reason = _unreachable(url)
    if reason is not None:
        return {"skipped": reason}
    out = Path(tempfile.mkdtemp(prefix=f"portal-bench-{Path(script).stem}-")) / "result.json"
    sys.stdout.write(f"\n{label} on PostgreSQL at {_where(url)}...\n")
    sys.stdout.flush()
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run(  # noqa: S603 (this interpreter and the bench's own script)
        [sys.executable, str(BENCH_DIR / script), str(out)],
        env=env,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.read_text())
    out.unlink()
    out.parent.rmdir()
    return result


def _audit(url: str) -> dict[str, Any]:
    return _subprocess("audit.py", url, "audit log bench (a few minutes)")


def _load(url: str) -> dict[str, Any]:
    return _subprocess("load.py", url, "load bench: seeding, gunicorn and locust (minutes)")


def _machine() -> str:
    import psutil  # noqa: PLC0415

    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip() + ", "
                break
    memory = psutil.virtual_memory().total / 2**30
    return (
        f"{cpu}{os.cpu_count()} cores, {memory:.0f} GiB, {platform.system()} {platform.machine()}"
    )


def _command() -> str:
    """The sizes this run was made with: every BENCH_ variable set, and the command."""
    sizes = " ".join(
        f"{name}={value}"
        for name, value in sorted(os.environ.items())
        if name.startswith("BENCH_") and name not in {"BENCH_RESULTS", "BENCH_POSTGRES_URL"}
    )
    return f"{sizes} python bench/run.py {' '.join(sys.argv[1:])}".strip()


def _headline(
    decisions: dict[str, Any], audit_log: dict[str, Any], load: dict[str, Any]
) -> dict[str, Any]:
    """The issue's figures under its names (None where a part was skipped)."""
    figures: dict[str, Any] = dict.fromkeys(HEADLINE)
    # Authorisation: the e-service permission (what every e-service request asks); the portal's
    # can() against the fastest of pycasbin's variants on the same questions.
    rows = decisions["rows"]
    first = rows[0]["permission"]
    asked = [row for row in rows if row["permission"] == first]
    figures["authz.decisions_per_s"] = asked[0]["per_second"]
    figures["authz.pycasbin_per_s"] = max(row["per_second"] for row in asked[1:])
    if "skipped" not in audit_log:
        # Writers in processes of their own, as the web server's workers are, with the sequencer.
        appends = audit_log["append"]
        chosen = [row for row in appends if "processes" in row["writers"]] or appends
        figures["audit.append_per_s"] = chosen[0]["events_per_second"]
        verify = audit_log["verify"]
        figures["audit.verify_1m_s"] = round(verify["verify_s"] * 1_000_000 / verify["events"], 2)
    if "skipped" not in load:
        runs = load["runs"]
        mixed = runs["mixed"]
        figures.update(
            {
                "mixed.rps": mixed["rps"],
                "mixed.p50_ms": mixed["p50_ms"],
                "mixed.p95_ms": mixed["p95_ms"],
                "mixed.p99_ms": mixed["p99_ms"],
                "mixed.errors": mixed["failures"],
                "floor.rps": runs["floor"]["rps"],
                "scale.p95_small_ms": runs["scale_small"]["p95_ms"],
                "scale.p95_large_ms": runs["scale_large"]["p95_ms"],
            }
        )
    return figures


def _goals(figures: dict[str, Any], load: dict[str, Any]) -> dict[str, Any]:
    """Each goal: what it asks, the figure, and whether it is met (None when not measured)."""

    def goal(asks: str, value: Any, met: bool | None) -> dict[str, Any]:
        return {"goal": asks, "value": value, "met": met}

    if "skipped" in load:
        reason = load["skipped"]
        return {
            name: {"goal": asks, "value": None, "met": None, "skipped": reason}
            for name, asks in (
                ("no_errors", "no failed request in any run"),
                ("p95", f"mixed p95 under {GOAL_P95_MS} ms"),
                ("p99", f"mixed p99 under {GOAL_P99_MS} ms"),
                ("throughput", f"mixed at least {GOAL_FLOOR_SHARE:.0%} of the floor's"),
                ("scale", f"p95 grows less than {GOAL_SCALE_GROWTH:.0%}"),
            )
        }
    errors = sum(run["failures"] for run in load["runs"].values())
    share = figures["mixed.rps"] / figures["floor.rps"] if figures["floor.rps"] else 0.0
    small, large = figures["scale.p95_small_ms"], figures["scale.p95_large_ms"]
    growth = (large - small) / small if small else 0.0
    return {
        "no_errors": goal("no failed request in any run", errors, errors == 0),
        "p95": goal(
            f"mixed p95 under {GOAL_P95_MS} ms",
            figures["mixed.p95_ms"],
            figures["mixed.p95_ms"] < GOAL_P95_MS,
        ),
        "p99": goal(
            f"mixed p99 under {GOAL_P99_MS} ms",
            figures["mixed.p99_ms"],
            figures["mixed.p99_ms"] < GOAL_P99_MS,
        ),
        "throughput": goal(
            f"mixed at least {GOAL_FLOOR_SHARE:.0%} of the floor's requests per second",
            round(share, 3),
            share >= GOAL_FLOOR_SHARE,
        ),
        "scale": goal(
            f"p95 grows less than {GOAL_SCALE_GROWTH:.0%} from {load['scale']['small']} to "
            f"{load['scale']['large']} employers",
            round(growth, 3),
            growth < GOAL_SCALE_GROWTH,
        ),
    }


def _server_version(connection: Any) -> str:
    if connection.vendor == "postgresql":
        # e.g. 150020 for 15.20 (PostgreSQL 10 and later)
        major, minor = divmod(connection.pg_version, 10000)
        return f"{major}.{minor}"
    if connection.vendor == "sqlite":
        import sqlite3  # noqa: PLC0415

        return sqlite3.sqlite_version
    return ""


def _print_requests(rows: list[dict[str, Any]]) -> None:
    width = max(len(row["address"]) for row in rows)
    sys.stdout.write(f"{'address':<{width}}  {'p50 ms':>8}  {'p95 ms':>8}  {'req/s':>8}\n")
    for row in rows:
        sys.stdout.write(
            f"{row['address']:<{width}}  {row['p50_ms']:>8}  {row['p95_ms']:>8}  "
            f"{row['requests_per_second']:>8}\n"
        )


def _print_access(decisions: dict[str, Any]) -> None:
    write = sys.stdout.write
    facts, models = decisions["data_set"], decisions["casbin"]
    write(
        f"authorisation: {facts['employers']} employers, {facts['people']} people, "
        f"{facts['memberships']} memberships, {facts['grants']} grants "
        f"(written in {decisions['build_seconds']} s)\n"
        f"pycasbin model A (grants as policies): {models['model_a']['policies']} policies, "
        f"{models['model_a']['role_links']} role links; model B (grants as roles): "
        f"{models['model_b']['policies']} policies, {models['model_b']['role_links']} role links\n"
    )
    rows = decisions["rows"]
    permission_width = max(len(row["permission"]) for row in rows)
    name_width = max(len(row["implementation"]) for row in rows)
    write(
        f"{'permission':<{permission_width}}  {'implementation':<{name_width}}  {'asked':>5}  "
        f"{'allowed':>7}  {'decisions/s':>11}  {'can() ×':>8}  {'queries':>7}\n"
    )
    previous = ""
    for row in rows:
        permission = row["permission"] if row["permission"] != previous else ""
        previous = row["permission"]
        ratio = row.get("portal_times_as_many")
        write(
            f"{permission:<{permission_width}}  {row['implementation']:<{name_width}}  "
            f"{row['decisions']:>5}  {row['allowed_share']:>7.0%}  {row['per_second']:>11}  "
            f"{'' if ratio is None else f'{ratio}':>8}  "
            f"{row.get('queries_per_decision_max', ''):>7}\n"
        )
    write(
        "can() × = the portal's decisions per second over the row's; the portal reads the "
        "database for every decision, pycasbin answers from memory without dates.\n"
    )


def _yes(value: bool) -> str:
    return "yes" if value else "NO"


def _print_audit(result: dict[str, Any]) -> None:
    write = sys.stdout.write
    if "skipped" in result:
        write(f"audit log: skipped: {result['skipped']}\n")
        return
    write(
        f"audit log on {result['database']} (load average {result['load_average_before']} "
        "before): append at least 2 000 events/s with the sequencer keeping up\n"
    )
    columns = (
        ("writers", "writers", 11),
        ("sequencer", "sequencer", 9),
        ("events", "events", 6),
        ("events/s", "events_per_second", 8),
        ("slowest 1 s", "slowest_second_events_per_second", 11),
        ("max unsealed", "max_unsealed_events", 12),
        ("oldest s", "max_unsealed_age_s", 8),
        ("catch-up s", "catch_up_s", 10),
        ("heads", "heads_signed", 5),
        ("busy", "sequencer_busy_share", 4),
        ("goal", "meets_goal", 4),
    )
    write("  ".join(f"{title:>{width}}" for title, _key, width in columns) + "\n")
    for row in result["append"]:
        cells = []
        for _title, key, width in columns:
            value = row[key]
            if key == "sequencer_busy_share":
                value = f"{value:.0%}"
            elif isinstance(value, bool):
                value = _yes(value)
            cells.append(f"{value!s:>{width}}")
        write("  ".join(cells) + "\n")
    write(
        "sequencer: seal = tree.seal() every 0.5 s (again while batches come full), seal_all = "
        "tree.seal_all() every 0.5 s; busy = the share of the run it spent sealing; oldest s = "
        "the longest a committed event waited to be sealed (at most 2 s to keep up)\n"
    )
    verify = result["verify"]
    write(
        f"verify: {verify['events']} events, {verify['heads']} signed heads: tree.verify() "
        f"{verify['verify_s']} s ({verify['verify_events_per_second']} events/s; goal at most "
        f"10 s for a million: {_yes(verify['meets_goal'])})\n"
        f"  built in {verify['build_s']} s (COPY), sealed by seal_all() in {verify['seal_s']} s "
        f"({verify['seal_events_per_second']} events/s)\n"
    )
    overhead = result["overhead"]
    write(
        f"request overhead: {overhead['request']}, {overhead['audit_events_per_request']} audit "
        f"events each, median of {overhead['rounds']}: {overhead['median_ms_with_audit']} ms "
        f"with the audit write, {overhead['median_ms_without_audit']} ms without: "
        f"+{overhead['overhead_percent']}% (goal at most 10%: {_yes(overhead['meets_goal'])}); "
        f"{overhead.get('note', '')}\n"
    )
    seconds = result["seconds"]
    write(
        f"audit bench: {seconds['total']} s (append {seconds['append']} s, requests "
        f"{seconds['overhead']} s, the log of {verify['events']} events: {seconds['verify']} s); "
        "load average "
        f"{result['load_average_after']} after\n"
    )


def _print_load(load: dict[str, Any]) -> None:
    write = sys.stdout.write
    if "skipped" in load:
        write(f"load: skipped: {load['skipped']}\n")
        return
    write(
        f"load: {load['server']}; {load['load_generator']}; {load['users']} users for "
        f"{load['seconds']} s each (after {load['warmup_seconds']} s unmeasured), "
        f"think time {load['think_ms']} ms; {load['people_per_employer']} people per employer, "
        f"{load['audit_events']} audit events\n"
    )
    write(
        f"{'run':<12} {'employers':>9} {'requests':>8} {'failed':>6} {'req/s':>7} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'CPU':>4} {'locust':>6} "
        f"{'cpu ms/req':>10} {'db ms/req':>9} {'load':>5} {'conns':>7}\n"
    )
    for name, run in load["runs"].items():
        cpu = run["cpu"]
        write(
            f"{name:<12} {run['employers']:>9} {run['requests']:>8} {run['failures']:>6} "
            f"{run['rps']:>7} {run['p50_ms']:>7} {run['p95_ms']:>7} {run['p99_ms']:>7} "
            f"{run['max_ms']:>7} {cpu['machine_percent']:>3.0f}% "
            f"{cpu['locust_cpu_s'] / max(cpu['wall_s'], 0.1) / cpu['cores']:>6.0%} "
            f"{cpu.get('server_cpu_ms_per_request')!s:>10} "
            f"{cpu.get('database_cpu_ms_per_request') or '-'!s:>9} {run['load_average_before']:>5} "
            f"{'/'.join(map(str, run.get('connections_per_worker') or [])) or '-':>7}\n"
        )
        for failure in run["failures_seen"][:3]:
            write(f"  {failure['occurrences']} x {failure['request']}: {failure['error']}\n")
    write(
        "CPU = the machine's use during the run; locust = the load generator's share of the "
        "machine; cpu ms/req = the web server's CPU time per request; db ms/req = PostgreSQL's "
        "(when it runs on this machine); load = the machine's load "
        "average before the run (other work on the machine slows every figure but cpu ms/req); "
        "conns = the clients' connections on each worker halfway through the run\n"
    )
    mixed = load["runs"]["mixed"]
    write(f"mixed, per request ({mixed['employers']} employers):\n")
    width = max(len(row["name"]) for row in mixed["rows"])
    for row in mixed["rows"]:
        write(
            f"  {row['name']:<{width}}  {row['requests']:>6} {row['share']:>6.1%}  "
            f"p50 {row['p50_ms']:>6}  p95 {row['p95_ms']:>6}  failed {row['failures']}\n"
        )


def _print_goals(result: dict[str, Any]) -> None:
    write = sys.stdout.write
    width = max(len(name) for name in HEADLINE)
    for name in HEADLINE:
        write(f"{name:<{width}}  {result[name]}\n")
    write("goals:\n")
    for goal in result["goals"].values():
        met = {True: "met", False: "NOT MET", None: "not measured"}[goal["met"]]
        write(f"  {goal['goal']}: {goal['value']} ({met})\n")


if __name__ == "__main__":
    main()
