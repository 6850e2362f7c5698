"""The CPU each page of the mixed workload costs, in-process: ``python bench/pages.py [OUT.json]``.

The load bench (bench/load.py) measures the portal as a whole, with the server, PostgreSQL and the
load generator sharing the machine; its figures move by 10-20 % from one run to the next on a
shared virtual machine. This measures one page at a time in one thread, with the CPU clock of that
thread (``time.thread_time``), so that a change to one page shows as a change of that page:

- DATABASE_URL names a PostgreSQL server (the database named need not exist); a database of the
  bench's own is created there (``bench_pages_<pid>``), seeded with BENCH_EMPLOYERS employers
  (default 200) by bench/seed.py, and dropped afterwards;
- one access administrator and one user of the seeded world, logged in as the load bench logs
  them in, ask for each page of the mixed workload through Django's test client (the whole
  middleware, the templates, the database on loopback), and the floor (bench/urls.py);
- each page is asked BENCH_PAGE_ROUNDS times (default 7) for 12 requests (4 times for the
  journeys of several requests: a grant and its revocation, a report through the form) after 3
  unmeasured ones, taking turns with the other pages; the
  least CPU per request of the rounds is reported (what the page costs when nothing else does).
- when the PostgreSQL server runs on this machine, the CPU its backend (the one serving the
  bench's connection) spent on the page is measured too, from ``/proc/<pid>/schedstat``, and
  reported the same way (``db_cpu_ms``; null when the server is elsewhere);
- in the last round, the statements PostgreSQL planned anew although the connection had
  prepared them (``pg_prepared_statements``: a custom plan counted after the prepared
  statement's first five runs, when PostgreSQL settles on its generic plan or keeps planning for
  each run's values) are counted per request (``replans``; a statement still planned on every
  run is printed with its beginning, as a page can lose a tenth of a millisecond of the
  database's CPU to each).

The result (milliseconds of CPU, the number of SQL queries and of replans per request, by page,
and each weighted by each page's share of the load bench's mixed workload, ``MIX``) is printed
and written to OUT.json.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
EMPLOYERS = int(os.environ.get("BENCH_EMPLOYERS", "200"))
ROUNDS = int(os.environ.get("BENCH_PAGE_ROUNDS", "7"))
REVOKE = re.compile(r'action="([^"]+/aterkalla/)"')
TOKEN = re.compile(r'name="token" value="([^"]+)"')
#: Each page's share of the mixed workload's requests, from bench/locustfile.py's weights: 35 of
#: the 50 users are EServiceUsers, whose ten tasks make 16 requests (start page and employer's
#: page 3 each, e-service page 3, form 2, a report through the form 4, through the API 1), and 15
#: are AdministratorUsers, whose eleven tasks make 15 (employer's page 2, the list of people 4 of
#: which a fifth searches and a tenth is page 2, one person 2, the activity log 1, a grant and its
#: revocation 6). Every user is assumed to send requests at the same rate (each waits mostly in
#: the same queue).
_USER, _ADMIN = 35 / 50 / 16, 15 / 50 / 15
MIX = {
    "start (redirect)": 3 * _USER,
    "employer page (user)": 3 * _USER,
    "e-service page": 3 * _USER,
    "e-service form": 2 * _USER,
    "report: form, check, send, receipt (per request)": 4 * _USER,
    "report: API (POST)": 1 * _USER,
    "employer page (administrator)": 2 * _ADMIN,
    "people: list": 4 * 0.7 * _ADMIN,
    "people: search": 4 * 0.2 * _ADMIN,
    "people: page 2": 4 * 0.1 * _ADMIN,
    "people: one person": 2 * _ADMIN,
    "activity log": 1 * _ADMIN,
    "grant, person page, revoke (per request)": 6 * _ADMIN,
}


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    sys.path[:0] = [str(ROOT), str(BENCH_DIR)]
    from load import _database  # noqa: PLC0415 (bench/load.py: the throwaway database)

    with _database(os.environ.get("DATABASE_URL", "")) as url:
        os.environ.update(
            {
                "DATABASE_URL": url,
                "DJANGO_SETTINGS_MODULE": "bench.settings",
                "PORTAL_VAR_DIR": tempfile.mkdtemp(prefix="portal-bench-pages-"),
            }
        )
        os.environ.setdefault("LOG_LEVEL", "warning")
        import django  # noqa: PLC0415

        django.setup()
        from django.core.management import call_command  # noqa: PLC0415
        from django.db import connections  # noqa: PLC0415

        call_command("migrate", verbosity=0, interactive=False)
        try:
            result = _measure()
        finally:
            connections.close_all()
    sys.stdout.write("    CPU   DB CPU  queries  replans  page (per request)\n")
    for page, found in result.items():
        db = "      -" if found["db_cpu_ms"] is None else f"{found['db_cpu_ms']:7.2f}"
        sys.stdout.write(
            f"{found['cpu_ms']:7.2f} ms {db} ms {found['queries']:5.1f}"
            f"  {found['replans']:7.1f}  {page}\n"
        )
    if out is not None:
        out.write_text(json.dumps(result, indent=2) + "\n")


#: How many requests each journey of several makes.
JOURNEYS = {
    "grant, person page, revoke (per request)": 3,
    "report: form, check, send, receipt (per request)": 4,
}


def _measure() -> dict[str, dict[str, float]]:
    import seed  # noqa: PLC0415 (bench/seed.py, importable once Django is set up)
    from django.db import connection  # noqa: PLC0415
    from django.test.utils import CaptureQueriesContext  # noqa: PLC0415

    seed.grow(EMPLOYERS)
    pages = Pages(seed.personas(1, seed=1)).pages()
    best = dict.fromkeys(pages, float("inf"))
    best_db = dict.fromkeys(pages, float("inf"))
    replans: dict[str, float] = {}
    replanned: set[str] = set()
    queries: dict[str, float] = {}
    for name, ask in pages.items():
        for _ in range(2):
            ask()
        with CaptureQueriesContext(connection) as asked:
            ask()
        queries[name] = len(asked) / JOURNEYS.get(name, 1)
    backend = _Backend(connection)
    for last in [False] * (ROUNDS - 1) + [True]:
        for name, ask in pages.items():
            requests = JOURNEYS.get(name, 1)
            times = 4 if requests > 1 else 12
            plans = backend.custom_plans() if last else {}
            db_started = backend.cpu_ns()
            started = time.thread_time()
            for _ in range(times):
                ask()
            spent = (time.thread_time() - started) / (times * requests) * 1000
            best[name] = min(best[name], spent)
            db_ended = backend.cpu_ns()
            if db_started is not None and db_ended is not None:
                best_db[name] = min(
                    best_db[name], (db_ended - db_started) / (times * requests) / 1e6
                )
            if last:
                grown = {
                    statement: count - plans.get(statement, 0)
                    for statement, count in backend.custom_plans().items()
                    if count > plans.get(statement, 0)
                }
                replans[name] = sum(grown.values()) / (times * requests)
                replanned.update(grown)
    result: dict[str, dict[str, float | None]] = {
        name: {
            "cpu_ms": round(ms, 2),
            "db_cpu_ms": round(best_db[name], 3) if best_db[name] != float("inf") else None,
            "queries": round(queries[name], 1),
            "replans": round(replans[name], 2),
        }
        for name, ms in best.items()
    }
    weighted: dict[str, float | None] = {}
    for figure in ("cpu_ms", "db_cpu_ms", "queries", "replans"):
        values = [(share, result[name][figure]) for name, share in MIX.items()]
        weighted[figure] = (
            None
            if any(value is None for _, value in values)
            else round(sum(share * float(value or 0) for share, value in values), 3)
        )
    result["mixed workload (weighted)"] = weighted
    for statement in sorted(replanned):
        sys.stdout.write(f"planned on every run: {statement[:150]}\n")
    return result


class _Backend:
    """The PostgreSQL backend serving ``connection``: its CPU so far, when the server runs on this
    machine, and its prepared statements' custom plans so far (empty on SQLite)."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.stat: Path | None = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                found = Path(f"/proc/{cursor.fetchone()[0]}/schedstat")
            # The server's own process when it runs here (another machine's pid may exist here
            # as some other process: only a postgres process counts).
            comm = found.with_name("comm")
            if found.exists() and comm.exists() and comm.read_text().startswith("postgres"):
                self.stat = found

    def cpu_ns(self) -> int | None:
        if self.stat is None:
            return None
        return int(self.stat.read_text().split()[0])

    def custom_plans(self) -> dict[str, int]:
        """Custom plans made beyond the five PostgreSQL makes before it weighs the generic one,
        by statement."""
        if self.connection.vendor != "postgresql":
            return {}
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT statement, custom_plans - 5 FROM pg_prepared_statements"
                " WHERE custom_plans > 5 AND statement NOT LIKE '%%pg_prepared_statements%%'"
            )
            return dict(cursor.fetchall())


class Pages:
    """The pages and journeys of the mixed workload, asked as one access administrator and one
    user of the seeded world."""

    def __init__(self, personas: list[Any]) -> None:
        self.admin = next(p for p in personas if p.kind == "admin")
        self.user = next(p for p in personas if p.kind == "user")
        self.as_admin, self.as_user = self._client(self.admin), self._client(self.user)
        self.at_admin = f"/arbetsgivare/{self.admin.employer}/"
        self.at_user = f"/arbetsgivare/{self.user.employer}/"
        self.person = f"{self.at_admin}behorigheter/personer/{self.admin.targets[0]}/"
        self.eservice = f"{self.at_user}e-tjanster/sick_report/"
        self.reports = itertools.count()

    def pages(self) -> dict[str, Callable[[], None]]:
        get, as_admin, as_user = self._get, self.as_admin, self.as_user
        at_admin, at_user = self.at_admin, self.at_user
        return {
            "floor": get(as_user, "/bench/golv/"),
            "floor in the layout": get(as_user, "/bench/sida/"),
            "start (redirect)": get(as_user, "/start/", 302),
            "employer page (user)": get(as_user, at_user),
            "employer page (administrator)": get(as_admin, at_admin),
            "e-service page": get(as_user, self.eservice),
            "e-service form": get(as_user, f"{self.eservice}ny/"),
            "people: list": get(as_admin, f"{at_admin}behorigheter/"),
            "people: search": get(as_admin, f"{at_admin}behorigheter/?q=Andersson"),
            "people: page 2": get(as_admin, f"{at_admin}behorigheter/?sida=2"),
            "people: one person": get(as_admin, self.person),
            "activity log": get(as_admin, f"{at_admin}aktivitet/"),
            "grant, person page, revoke (per request)": self.grant_and_revoke,
            "report: form, check, send, receipt (per request)": self.report_by_form,
            "report: API (POST)": self.report_by_api,
        }

    @staticmethod
    def _client(persona: Any) -> Any:
        from django.test import Client  # noqa: PLC0415

        made = Client()
        made.cookies["__Host-portal_session"] = persona.session
        made.cookies["__Host-portal_csrf"] = persona.csrf
        return made

    @staticmethod
    def _get(made: Any, path: str, status: int = 200) -> Callable[[], None]:
        def ask() -> None:
            answer = made.get(path)
            _expect(answer, status, path)

        return ask

    def grant_and_revoke(self) -> None:
        token = {"csrfmiddlewaretoken": self.admin.csrf}
        granted = self.as_admin.post(
            f"{self.person}e-tjanster/",
            {**token, "eservice": "work_aids", "level": "submit", "reason": "Sköter hjälpmedlen"},
        )
        _expect(granted, 302, "the grant")
        found = REVOKE.search(self.as_admin.get(self.person).content.decode())
        if found is None:
            msg = "the person's page shows no grant to revoke"
            raise RuntimeError(msg)
        revoked = self.as_admin.post(found[1], {**token, "reason": "Behövs inte längre"})
        _expect(revoked, 302, "the revocation")

    def _report(self) -> dict[str, str]:
        return {
            "employee_personal_number": _employee_number(next(self.reports)),
            "first_day": (date.today() - timedelta(days=16)).isoformat(),  # noqa: DTZ011 (local)
            "extent": "full",
            "contact_name": "Lisa Lön",
            "contact_phone": "060-12 34 56",
        }

    def report_by_form(self) -> None:
        token = {"csrfmiddlewaretoken": self.user.csrf}
        sent = self.as_user.post(f"{self.eservice}ny/", {**token, **self._report()})
        _expect(sent, 302, "the report's form")
        found = TOKEN.search(self.as_user.get(f"{self.eservice}granska/").content.decode())
        if found is None:
            msg = "the check page has no token to send the report with"
            raise RuntimeError(msg)
        done = self.as_user.post(f"{self.eservice}granska/", {**token, "token": found[1]})
        _expect(done, 302, "sending the report")
        _expect(self.as_user.get(done["Location"]), 200, "the receipt")

    def report_by_api(self) -> None:
        answer = self.as_user.post(
            f"/api/v1/employers/{self.user.employer}/eservices/sick_report/submissions",
            json.dumps(self._report()),
            content_type="application/json",
            headers={
                "X-CSRFToken": self.user.csrf,
                "Idempotency-Key": f"bench-{uuid.uuid4().hex}",
            },
        )
        _expect(answer, 201, "the API's report")


def _expect(answer: Any, status: int, what: str) -> None:
    if answer.status_code != status:
        msg = f"{what}: {answer.status_code}, not {status}"
        raise RuntimeError(msg)


def _employee_number(n: int) -> str:
    """A fictional, Luhn-valid personal identity number, different for every ``n`` (the load
    bench's numbers start in 1960, these in 1950: the two never meet)."""
    from stdnum import luhn  # noqa: PLC0415

    born = date(1950, 1, 1) + timedelta(days=n // 900)
    base = f"{born:%y%m%d}{100 + n % 900:03d}"
    return f"{born:%Y}"[:2] + base + luhn.calc_check_digit(base)


if __name__ == "__main__":
    main()
