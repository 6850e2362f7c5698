"""``make bench-smoke``: the whole benchmark harness (bench/run.py: in-process requests, the
authorisation decision, the audit log and the load bench with gunicorn and locust) runs end to end
at tiny sizes on PostgreSQL, and its result has every figure the issue names, with no failed
request. The figures themselves mean nothing at these sizes; ``make bench`` measures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.db import connection

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
#: The figures of issue 10, under these flat keys.
HEADLINE = (
    "mixed.rps", "mixed.p50_ms", "mixed.p95_ms", "mixed.p99_ms", "mixed.errors", "floor.rps",
    "authz.decisions_per_s", "authz.pycasbin_per_s", "audit.append_per_s", "audit.verify_1m_s",
    "scale.p95_small_ms", "scale.p95_large_ms",
)  # fmt: skip
GOALS = ("no_errors", "p95", "p99", "throughput", "scale")


def _server() -> dict[str, str]:
    """The PostgreSQL server the tests run on (its host, port and user), or a skip saying why it
    cannot be used."""
    settings = connection.settings_dict
    server = {
        "host": settings.get("HOST") or "127.0.0.1",
        "port": str(settings.get("PORT") or 5432),
        "user": settings.get("USER") or "postgres",
        "password": settings.get("PASSWORD") or "",
    }
    try:
        psycopg.connect(
            dbname="postgres",
            host=server["host"],
            port=server["port"],
            user=server["user"],
            password=server["password"] or None,
            connect_timeout=3,
        ).close()
    except psycopg.Error as error:
        pytest.skip(f"PostgreSQL at {server['host']}:{server['port']} is not reachable: {error}")
    return server


def _run_bench(script: str, args: list[str], server: dict[str, str], **settings: str) -> None:
    """Run ``bench/<script>`` with ``settings`` added to this environment (without its own
    BENCH_ and database settings); fail with its output unless it succeeds. ``{server}`` in a
    setting is the PostgreSQL server's address, ``postgres://user[:password]@host:port``."""
    password = f":{server['password']}" if server["password"] else ""
    address = f"postgres://{server['user']}{password}@{server['host']}:{server['port']}"
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("BENCH_") and name not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update({name: value.replace("{server}", address) for name, value in settings.items()})
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"


def test_bench_smoke_writes_every_figure_without_errors(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    _run_bench(
        "run.py",
        ["--smoke"],
        _server(),
        # The benches create (and drop) databases of their own on this server.
        BENCH_POSTGRES_URL=f"{{server}}/bench_smoke_{os.getpid()}",
        BENCH_RESULTS=str(results),
    )

    result = json.loads(results.read_text())
    missing = [key for key in HEADLINE if result.get(key) is None]
    assert not missing, f"figures missing from the result: {missing}"
    assert result["mixed.errors"] == 0
    runs = result["load"]["runs"]
    assert set(runs) == {"mixed", "floor", "scale_small", "scale_large"}
    failed = {name: run["failures_seen"] for name, run in runs.items() if run["failures"]}
    assert not failed, f"failed requests: {failed}"
    assert all(run["requests"] > 0 for run in runs.values())
    # PostgreSQL runs on this machine: what its processes spent is measured for every run.
    assert all(run["cpu"]["database_cpu_ms_per_request"] > 0 for run in runs.values())
    # Where the clients' connections were halfway through each run: on the two workers, at most
    # one each per user.
    for run in runs.values():
        split = run["connections_per_worker"]
        assert len(split) == 2, split
        assert split == sorted(split, reverse=True)
        assert 0 < sum(split) <= result["load"]["users"], split
    # The mixed run had both kinds of user (a user's e-service page, an administrator's list),
    # and the floor only the floor.
    names = {row["name"] for row in runs["mixed"]["rows"]}
    assert {"GET e-service page", "GET people: list"} <= names
    assert "GET floor" not in names
    assert runs["floor"]["rows"][0]["name"] == "GET floor"
    assert set(result["goals"]) == set(GOALS)
    assert result["goals"]["no_errors"]["met"] is True
    assert all(goal["met"] is not None for goal in result["goals"].values())
    assert result["scale.p95_small_ms"] > 0
    assert result["scale.p95_large_ms"] > 0


def test_the_page_bench_measures_every_page_of_the_mixed_workload(tmp_path: Path) -> None:
    results = tmp_path / "pages.json"
    _run_bench(
        "pages.py",
        [str(results)],
        _server(),
        DATABASE_URL="{server}/postgres",
        BENCH_EMPLOYERS="3",
        BENCH_PAGE_ROUNDS="1",
    )
    figures = json.loads(results.read_text())
    assert {
        "floor",
        "e-service page",
        "people: list",
        "activity log",
        "report: form, check, send, receipt (per request)",
        "report: API (POST)",
        "mixed workload (weighted)",
    } <= set(figures)
    assert all(page["cpu_ms"] > 0 and page["queries"] > 0 for page in figures.values())
    # PostgreSQL runs on this machine: its backend's CPU is measured for every page, and the
    # statements it planned anew are counted.
    assert all(page["db_cpu_ms"] > 0 for page in figures.values())
    assert all(page["replans"] >= 0 for page in figures.values())
    # A list of people costs more than the floor, the same stack answering "ok" (the start page,
    # a redirect, can cost about the same), and asks the database more.
    assert figures["people: list"]["cpu_ms"] > figures["floor"]["cpu_ms"]
    assert figures["people: list"]["queries"] > figures["floor"]["queries"]
    # The weighted figure lies between the cheapest and the dearest page.
    cpu = [page["cpu_ms"] for name, page in figures.items() if not name.startswith("mixed")]
    assert min(cpu) < figures["mixed workload (weighted)"]["cpu_ms"] < max(cpu)
