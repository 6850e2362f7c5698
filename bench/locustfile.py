"""The load bench's users, for locust (``bench/load.py`` runs it headless; see docs/performance.md).

Each locust user is one logged-in person of the seeded world (``bench/seed.py``), with a session
made by the seeder: the personas file (``BENCH_PERSONAS``, JSON) gives each one its session cookie,
a CSRF secret (sent as the CSRF cookie and as the form's token or the ``X-CSRFToken`` header, as a
browser's page would) and its employer. No user shares a persona with another while there are
enough of them. Cookies are sent by hand; locust's cookie jar is switched off.

``EServiceUser`` (weight 7): a user who reports sick leave. The start page (which redirects to
the employer's page), the employer's page, the sick-leave e-service's page with the employer's
reports, the empty form, and a report: through the HTML form (form, check your answers, send,
receipt: four requests) or through the JSON API (one request with an Idempotency-Key). Every
report names an employee of its own, so that none is refused as overlapping.

``AdministratorUser`` (weight 3): an access administrator. The employer's page, the list of
people (now and then searched, or its second page), one person's page, the activity log, and
access changes: the work-aids e-service granted to a person without grants, then revoked again
(form, person's page, revoke, person's page).

``FloorUser`` (named alone on locust's command line; the mixed run names the other two): the floor, ``GET /bench/golv/``, a logged-in Django view
that answers "ok" through the portal's whole middleware (bench/urls.py).

Users wait BENCH_THINK_MS milliseconds between tasks (default 0: as fast as the portal answers).
BENCH_RUN (a small number, different for each run against one database) keeps the employees'
numbers of one run apart from another's. BENCH_TIMINGS names a file where every request's time
and outcome is written when locust stops (for exact percentiles; locust's own round off).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import uuid
from datetime import date, timedelta
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any

from locust import between, constant, events, task
from locust.contrib.fasthttp import FastHttpUser
from stdnum import luhn

SESSION_COOKIE = "__Host-portal_session"
CSRF_COOKIE = "__Host-portal_csrf"
THINK_S = int(os.environ.get("BENCH_THINK_MS", "0")) / 1000
RUN = int(os.environ.get("BENCH_RUN", "0"))
#: Employees' numbers: each run, user and report its own (see _employee_number).
PER_RUN = 2_000_000
PER_USER = 20_000
TOKEN = re.compile(r'name="token" value="([^"]+)"')
REVOKE = re.compile(r'action="([^"]+/aterkalla/)"')
SEARCHES = ("Andersson", "Öberg", "Lars", "Åkesson", "Holm")


def _personas() -> dict[str, list[dict[str, Any]]]:
    path = os.environ.get("BENCH_PERSONAS", "")
    if not path:
        return {"admin": [], "user": []}
    found: dict[str, list[dict[str, Any]]] = {"admin": [], "user": []}
    for persona in json.loads(Path(path).read_text()):
        found[persona["kind"]].append(persona)
    return found


PERSONAS = _personas()
_NEXT = {"admin": itertools.count(), "user": itertools.count()}
_SLOTS = itertools.count()
#: (name, milliseconds, failed) of every request, when BENCH_TIMINGS is set.
TIMINGS: list[tuple[str, float, bool]] = []


@events.request.add_listener
def _timed(
    request_type: str, name: str, response_time: float, exception: Any, **_kwargs: Any
) -> None:
    if os.environ.get("BENCH_TIMINGS"):
        TIMINGS.append((f"{request_type} {name}", response_time, exception is not None))


@events.quitting.add_listener
def _write_timings(**_kwargs: Any) -> None:
    path = os.environ.get("BENCH_TIMINGS")
    if path:
        Path(path).write_text(json.dumps(TIMINGS))


def _employee_number(n: int) -> str:
    """A fictional, Luhn-valid personal identity number, different for every ``n``."""
    born = date(1960, 1, 1) + timedelta(days=n // 900)
    base = f"{born:%y%m%d}{100 + n % 900:03d}"
    return f"{born:%Y}"[:2] + base + luhn.calc_check_digit(base)


class Person(FastHttpUser):
    """A logged-in person with a persona of ``kind``."""

    abstract = True
    kind = "user"
    wait_time = between(THINK_S * 0.5, THINK_S * 1.5) if THINK_S else constant(0)

    def on_start(self) -> None:
        pool = PERSONAS[self.kind]
        if not pool:
            msg = f"no {self.kind} personas: set BENCH_PERSONAS (bench/load.py does)"
            raise RuntimeError(msg)
        self.persona = pool[next(_NEXT[self.kind]) % len(pool)]
        self.client.cookiejar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self.csrf = self.persona["csrf"]
        self.headers = {
            "Cookie": f"{SESSION_COOKIE}={self.persona['session']}; {CSRF_COOKIE}={self.csrf}",
            "User-Agent": "locust (portal bench)",
        }
        self.employer = f"/arbetsgivare/{self.persona['employer']}/"
        self.slot = next(_SLOTS)
        self.reports = itertools.count()
        self.rng = random.Random(self.slot)  # noqa: S311 (a workload, not a secret)

    def page(
        self, path: str, name: str, expect: int = 200, find: re.Pattern[str] | None = None
    ) -> tuple[Any, re.Match[str] | None]:
        """GET ``path`` (no redirect followed); a failure unless the status is ``expect`` and,
        with ``find``, the page has it. The response and what was found."""
        found = None
        with self.client.get(
            path, name=name, headers=self.headers, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != expect:
                response.failure(f"{response.status_code}, not {expect}")
            elif find is not None:
                found = find.search(response.text or "")
                if found is None:
                    response.failure(f"nothing like {find.pattern!r} on the page")
        return response, found

    def send(self, path: str, name: str, data: dict[str, str], expect: int = 302) -> Any:
        """POST a form with the CSRF token (no redirect followed); a failure unless the status
        is ``expect``."""
        with self.client.post(
            path,
            name=name,
            data={"csrfmiddlewaretoken": self.csrf, **data},
            headers=self.headers,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != expect:
                response.failure(f"{response.status_code}, not {expect}")
        return response


class EServiceUser(Person):
    weight = 7
    kind = "user"

    @property
    def eservice(self) -> str:
        return f"{self.employer}e-tjanster/sick_report/"

    @task(3)
    def start_page(self) -> None:
        response, _found = self.page("/start/", "start (redirect)", expect=302)
        if response.status_code == 302:  # noqa: PLR2004
            self.page(self.employer, "employer page")

    @task(3)
    def eservice_page(self) -> None:
        self.page(self.eservice, "e-service page")

    @task(2)
    def form(self) -> None:
        self.page(f"{self.eservice}ny/", "e-service form")

    def _report(self) -> dict[str, str]:
        n = RUN * PER_RUN + self.slot * PER_USER + next(self.reports)
        return {
            "employee_personal_number": _employee_number(n),
            "first_day": (date.today() - timedelta(days=16)).isoformat(),  # noqa: DTZ011 (local)
            "extent": "full",
            "contact_name": "Lisa Lön",
            "contact_phone": "060-12 34 56",
        }

    @task(1)
    def report_by_form(self) -> None:
        sent = self.send(f"{self.eservice}ny/", "report: form (POST)", self._report())
        if sent.status_code != 302:  # noqa: PLR2004
            return
        _check, found = self.page(
            f"{self.eservice}granska/", "report: check your answers", find=TOKEN
        )
        if found is None:
            return
        done = self.send(f"{self.eservice}granska/", "report: send (POST)", {"token": found[1]})
        if done.status_code == 302:  # noqa: PLR2004
            self.page(done.headers["Location"], "report: receipt")

    @task(1)
    def report_by_api(self) -> None:
        address = f"/api/v1/employers/{self.persona['employer']}/eservices/sick_report/submissions"
        with self.client.post(
            address,
            name="report: API (POST)",
            json=self._report(),
            headers={
                **self.headers,
                "X-CSRFToken": self.csrf,
                "Idempotency-Key": f"bench-{uuid.uuid4().hex}",
            },
            catch_response=True,
        ) as response:
            if response.status_code != 201:  # noqa: PLR2004
                response.failure(f"{response.status_code}, not 201")


class AdministratorUser(Person):
    weight = 3
    kind = "admin"

    @property
    def people(self) -> str:
        return f"{self.employer}behorigheter/"

    def _person(self) -> str:
        return f"{self.people}personer/{self.rng.choice(self.persona['targets'])}/"

    @task(2)
    def employer_page(self) -> None:
        self.page(self.employer, "employer page")

    @task(4)
    def people_list(self) -> None:
        draw = self.rng.random()
        if draw < 0.2:  # noqa: PLR2004
            self.page(f"{self.people}?q={self.rng.choice(SEARCHES)}", "people: search")
        elif draw < 0.3:  # noqa: PLR2004
            self.page(f"{self.people}?sida=2", "people: page 2")
        else:
            self.page(self.people, "people: list")

    @task(2)
    def person_page(self) -> None:
        self.page(self._person(), "people: one person")

    @task(1)
    def activity(self) -> None:
        self.page(f"{self.employer}aktivitet/", "activity log")

    @task(2)
    def grant_and_revoke(self) -> None:
        person = self._person()
        granted = self.send(
            f"{person}e-tjanster/",
            "access: grant (POST)",
            {"eservice": "work_aids", "level": "submit", "reason": "Sköter hjälpmedlen"},
        )
        if granted.status_code != 302:  # noqa: PLR2004
            return
        _page, found = self.page(person, "people: one person", find=REVOKE)
        if found is None:
            return
        self.send(found[1], "access: revoke (POST)", {"reason": "Behövs inte längre"})


class FloorUser(Person):
    """The floor: a minimal logged-in view on the same stack (bench/urls.py)."""

    kind = "user"

    @task
    def floor(self) -> None:
        self.page("/bench/golv/", "floor")
