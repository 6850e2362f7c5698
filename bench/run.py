"""``make bench``: request latency of the public pages and the API, served in-process.

Each address is requested WARMUP times, then ROUNDS times measured; p50, p95 and requests per second
(single thread) are printed as a table and written to bench/results.json. Later benchmarks (login,
submissions, the audit log at scale, a load test against a server process) add rows here.
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
    from django.core.management import call_command  # noqa: PLC0415
    from django.test import Client  # noqa: PLC0415

    call_command("migrate", verbosity=0)
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
    result = {
        "benchmark": "in-process request latency",
        "python": platform.python_version(),
        "database": os.environ["DATABASE_URL"].split(":", 1)[0],
        "machine": f"{os.cpu_count()} cores, {platform.machine()}",
        "rows": rows,
    }
    out = Path(__file__).resolve().parent / "results.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    width = max(len(row["address"]) for row in rows)
    sys.stdout.write(f"{'address':<{width}}  {'p50 ms':>8}  {'p95 ms':>8}  {'req/s':>8}\n")
    for row in rows:
        sys.stdout.write(
            f"{row['address']:<{width}}  {row['p50_ms']:>8}  {row['p95_ms']:>8}  "
            f"{row['requests_per_second']:>8}\n"
        )
    sys.stdout.write(f"written to {out}\n")


if __name__ == "__main__":
    main()
