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
- each page is asked BENCH_PAGE_ROUNDS times (default 7) for 12 requests (4 for the three requests
  of a grant and its revocation) after 3 unmeasured ones, taking turns with the other pages; the
  least CPU per request of the rounds is reported (what the page costs when nothing else does).

The result (milliseconds of CPU per request, by page) is printed and written to OUT.json.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
EMPLOYERS = int(os.environ.get("BENCH_EMPLOYERS", "200"))
ROUNDS = int(os.environ.get("BENCH_PAGE_ROUNDS", "7"))
REVOKE = re.compile(r'action="([^"]+/aterkalla/)"')


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
    for page, ms in result.items():
        sys.stdout.write(f"{ms:7.2f} ms  {page}\n")
    if out is not None:
        out.write_text(json.dumps(result, indent=2) + "\n")


def _measure() -> dict[str, float]:
    import seed  # noqa: PLC0415 (bench/seed.py, importable once Django is set up)
    from django.test import Client  # noqa: PLC0415

    seed.grow(EMPLOYERS)
    personas = seed.personas(1, seed=1)
    admin = next(p for p in personas if p.kind == "admin")
    user = next(p for p in personas if p.kind == "user")

    def client(persona: Any) -> Client:
        made = Client()
        made.cookies["__Host-portal_session"] = persona.session
        made.cookies["__Host-portal_csrf"] = persona.csrf
        return made

    as_admin, as_user = client(admin), client(user)
    at_admin = f"/arbetsgivare/{admin.employer}/"
    at_user = f"/arbetsgivare/{user.employer}/"
    person = f"{at_admin}behorigheter/personer/{admin.targets[0]}/"

    def get(made: Client, path: str, status: int = 200) -> Callable[[], None]:
        def ask() -> None:
            answer = made.get(path)
            if answer.status_code != status:
                msg = f"{path}: {answer.status_code}, not {status}"
                raise RuntimeError(msg)

        return ask

    def grant_and_revoke() -> None:
        token = {"csrfmiddlewaretoken": admin.csrf}
        granted = as_admin.post(
            f"{person}e-tjanster/",
            {**token, "eservice": "work_aids", "level": "submit", "reason": "Sköter hjälpmedlen"},
        )
        found = REVOKE.search(as_admin.get(person).content.decode())
        if granted.status_code != 302 or found is None:  # noqa: PLR2004
            msg = f"the grant was not made ({granted.status_code})"
            raise RuntimeError(msg)
        revoked = as_admin.post(found[1], {**token, "reason": "Behövs inte längre"})
        if revoked.status_code != 302:  # noqa: PLR2004
            msg = f"the grant was not revoked ({revoked.status_code})"
            raise RuntimeError(msg)

    pages: dict[str, Callable[[], None]] = {
        "floor": get(as_user, "/bench/golv/"),
        "start (redirect)": get(as_user, "/start/", 302),
        "employer page (user)": get(as_user, at_user),
        "employer page (administrator)": get(as_admin, at_admin),
        "e-service page": get(as_user, f"{at_user}e-tjanster/sick_report/"),
        "e-service form": get(as_user, f"{at_user}e-tjanster/sick_report/ny/"),
        "people: list": get(as_admin, f"{at_admin}behorigheter/"),
        "people: search": get(as_admin, f"{at_admin}behorigheter/?q=Andersson"),
        "people: one person": get(as_admin, person),
        "activity log": get(as_admin, f"{at_admin}aktivitet/"),
        "grant, person page, revoke (per request)": grant_and_revoke,
    }
    best = dict.fromkeys(pages, float("inf"))
    for ask in pages.values():
        for _ in range(3):
            ask()
    for _ in range(ROUNDS):
        for name, ask in pages.items():
            times, requests = (4, 3) if name.startswith("grant") else (12, 1)
            started = time.thread_time()
            for _ in range(times):
                ask()
            spent = (time.thread_time() - started) / (times * requests) * 1000
            best[name] = min(best[name], spent)
    return {name: round(ms, 2) for name, ms in best.items()}


if __name__ == "__main__":
    main()
