"""``make bench``: the portal's benchmarks, printed as tables and written to bench/results.json.

1. Request latency of the public pages and the API, served in-process: each address is requested
   WARMUP times, then BENCH_ROUNDS times (default 300) measured; p50, p95 and requests per second
   (single thread).
2. The authorisation decision, ``access.can`` against pycasbin's RBAC ``enforce`` on the same facts,
   with the database queries per decision (``bench/access.py`` describes it and its sizes).

The database: a temporary SQLite file unless DATABASE_URL is set; with DATABASE_URL (e.g.
``postgres://postgres@127.0.0.1:5432/portal``) a throwaway database beside it (``test_<name>`` on
PostgreSQL), dropped afterwards, so that the bench never writes into a database in use. Later
benchmarks (login, submissions, the audit log at scale, a load test against a server process) add
sections here.
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
    result = {
        "python": platform.python_version(),
        "database": f"{connection.vendor} {_server_version(connection)}".strip(),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}",
        "requests": requests,
        "access": decisions,
    }
    out = Path(__file__).resolve().parent / "results.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    write = sys.stdout.write
    write(f"{result['database']}, Python {result['python']}, {result['machine']}\n\n")
    _print_requests(requests["rows"])
    write("\n")
    _print_access(decisions)
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


if __name__ == "__main__":
    main()
