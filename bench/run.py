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

The database: a temporary SQLite file unless DATABASE_URL is set; with DATABASE_URL (e.g.
``postgres://postgres@127.0.0.1:5432/portal``) a throwaway database beside it (``test_<name>`` on
PostgreSQL), dropped afterwards, so that the bench never writes into a database in use. Later
benchmarks (login, submissions, a load test against a server process) add sections here.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

WARMUP = 20
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "300"))
ADDRESSES = ["/", "/driftstatus/", "/hjalp/", "/api/v1/status", "/healthz", "/finns-inte/"]


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
    result = {
        "python": platform.python_version(),
        "database": f"{connection.vendor} {_server_version(connection)}".strip(),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}",
        "requests": requests,
        "access": decisions,
        "audit": audit_log,
    }
    out = Path(__file__).resolve().parent / "results.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    write = sys.stdout.write
    write(f"{result['database']}, Python {result['python']}, {result['machine']}\n\n")
    _print_requests(requests["rows"])
    write("\n")
    _print_access(decisions)
    write("\n")
    _print_audit(audit_log)
    write(f"\nwritten to {out}\n")


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


def _audit(url: str) -> dict[str, Any]:
    """Run bench/audit.py in a process of its own on ``url`` (its Django settings are its own),
    or say why not."""
    import subprocess  # noqa: PLC0415

    import dj_database_url  # noqa: PLC0415
    import psycopg  # noqa: PLC0415

    params = dj_database_url.parse(url)
    where = f"{params.get('HOST') or 'localhost'}:{params.get('PORT') or 5432}"
    try:
        psycopg.connect(
            dbname=params["NAME"],
            user=params.get("USER") or None,
            password=params.get("PASSWORD") or None,
            host=params.get("HOST") or None,
            port=params.get("PORT") or None,
            connect_timeout=3,
        ).close()
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return {"skipped": f"no PostgreSQL at {where} ({reason})"}
    out = Path(tempfile.mkdtemp(prefix="portal-bench-audit-")) / "audit.json"
    sys.stdout.write(f"\naudit log bench on PostgreSQL at {where} (a few minutes)...\n")
    sys.stdout.flush()
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run(  # noqa: S603 (this interpreter and the bench's own script)
        [sys.executable, str(Path(__file__).resolve().parent / "audit.py"), str(out)],
        env=env,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.read_text())
    return result


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


if __name__ == "__main__":
    main()
