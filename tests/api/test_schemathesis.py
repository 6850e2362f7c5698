"""Property-based tests of the whole JSON API against its own OpenAPI document (schemathesis).

The document is fetched from the application as served (``/api/v1/openapi.json``) and every
operation in it is called in-process, through the WSGI application, with requests generated from
the document: valid ones and ones that break it. Each operation runs twice, anonymously and as an
access administrator of a connected employer (with the session's CSRF token, so that changes are
not all refused), and every answer must be no server error, have a documented status code and
content type (problem details are ``application/problem+json``), and match its documented schema.

The data the operations act on is seeded with fixed ids, and the generated path parameters,
queries and bodies are sometimes replaced with those ids and with valid values, so that the
operations reach real objects and succeed, not only answer 404 or 400. Every call runs in a
savepoint that is rolled back, so that each generated request meets the same data: Hypothesis
can then replay and shrink a failure.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal import audit
from portal.access.models import Grant, Level, Membership, Role
from portal.audit import tree
from portal.audit.constants import EventType
from portal.config.wsgi import application
from portal.employers.constants import EmployerState
from portal.employers.models import Employer
from portal.eservices.registry import all_eservices
from portal.identity.models import Person
from tests.factories import PersonFactory

# Fixed ids of the seeded objects, so that the generated requests can name them.
EMPLOYER_ID = uuid.UUID("00000000-0000-4000-8000-0000000000e1")
OTHER_EMPLOYER_ID = uuid.UUID("00000000-0000-4000-8000-0000000000e2")
ADMIN_ID = uuid.UUID("00000000-0000-4000-8000-0000000000a1")
SECOND_ADMIN_ID = uuid.UUID("00000000-0000-4000-8000-0000000000a2")
USER_ID = uuid.UUID("00000000-0000-4000-8000-0000000000b1")
GRANT_ID = uuid.UUID("00000000-0000-4000-8000-0000000000c1")
# Sizes of the seeded signed tree heads (the audit proofs' sizes and indexes).
HEAD_SIZES = [2, 3, 5]
# A CSRF secret for the cookie; Django also accepts the unmasked secret as the header's token.
CSRF_SECRET = "schemathesisCsrfSecret0123456789"
# Fictional numbers, in both usual forms.
VALID_PERSONAL_NUMBERS = ["19121212-1212", "199011223311"]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]

#: A fixed seed, so that CI generates the same requests on every run (with ``derandomize``).
CONFIG = schemathesis.Config.from_dict({"seed": 20_261_128, "generation": {"deterministic": True}})
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, config=CONFIG)


# --- steering the generated requests towards the seeded data ---------------------------------


def _or(value: Any, *alternatives: Any) -> st.SearchStrategy[Any]:
    """The generated value, or one of the alternatives."""
    return st.sampled_from([value, *alternatives])


_CODES = [eservice.code for eservice in all_eservices()]
_SIZES = [0, 1, *HEAD_SIZES]
#: Values that a generated parameter or body field of this name is sometimes replaced with.
STEERING: dict[str, list[Any]] = {
    "employer_id": [str(EMPLOYER_ID), str(EMPLOYER_ID), str(OTHER_EMPLOYER_ID)],
    "person_id": [str(ADMIN_ID), str(SECOND_ADMIN_ID), str(USER_ID)],
    "grant_id": [str(GRANT_ID)],
    "index": _SIZES,
    "size": _SIZES,
    "first": _SIZES,
    "second": _SIZES,
    "code": _CODES,
    "eservice": _CODES,
    "personal_number": VALID_PERSONAL_NUMBERS,
    "reason": ["Anställd som lönehandläggare"],
}


def _steered(name: str, value: Any) -> st.SearchStrategy[Any]:
    """The generated value of a parameter or body field, or sometimes a seeded or valid one."""
    if name == "grants" and isinstance(value, list):
        return st.tuples(*(_steered_all(item) for item in value)).map(list)
    return _or(value, *STEERING.get(name, []))


def _steered_all(values: Any) -> st.SearchStrategy[Any]:
    if not isinstance(values, dict):
        return st.just(values)
    return st.fixed_dictionaries({name: _steered(name, value) for name, value in values.items()})


@schema.hook
def flatmap_path_parameters(
    context: schemathesis.HookContext, path_parameters: Any
) -> st.SearchStrategy[Any]:
    return _steered_all(path_parameters)


@schema.hook
def flatmap_query(context: schemathesis.HookContext, query: Any) -> st.SearchStrategy[Any]:
    return _steered_all(query)


@schema.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    return _steered_all(body)


# --- the seeded data and the two callers -------------------------------------------------------


@pytest.fixture
def seeded(db: Any) -> Person:
    """A connected employer with two access administrators and a user with a grant, another
    employer, and an audit log with signed tree heads."""
    employer = Employer.objects.create(
        public_id=EMPLOYER_ID,
        organisation_number="5599011235",
        name="Exempelbolaget AB",
        state=EmployerState.ACTIVE,
    )
    other = Employer.objects.create(
        public_id=OTHER_EMPLOYER_ID,
        organisation_number="5560360793",
        name="Andra bolaget AB",
        state=EmployerState.ACTIVE,
    )
    admin = PersonFactory(public_id=ADMIN_ID)
    second = PersonFactory(public_id=SECOND_ADMIN_ID)
    user = PersonFactory(public_id=USER_ID)
    for person, email in ((admin, "admin@exempel.se"), (second, "andra@exempel.se")):
        Membership.objects.create(
            employer=employer, person=person, role=Role.ADMINISTRATOR, email=email, reason="Test"
        )
    Membership.objects.create(employer=other, person=second, role=Role.ADMINISTRATOR, reason="Test")
    membership = Membership.objects.create(
        employer=employer, person=user, role=Role.USER, email="user@exempel.se", reason="Test"
    )
    Grant.objects.create(
        public_id=GRANT_ID,
        membership=membership,
        eservice="sick_report",
        level=Level.SUBMIT,
        reason="Test",
    )
    recorded = 0
    for size in HEAD_SIZES:
        with transaction.atomic():
            for n in range(recorded, size):
                audit.record(EventType.SYSTEM_DEMO_DATA_LOADED, actor=None, data={"n": n})
        assert tree.seal() == size - recorded
        recorded = size
    return admin


@pytest.fixture
def admin_cookies(seeded: Person) -> dict[str, str]:
    """The cookies of the administrator's logged-in session, and a CSRF cookie."""
    client = Client()
    client.force_login(seeded)
    session = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    return {
        django_settings.SESSION_COOKIE_NAME: session,
        django_settings.CSRF_COOKIE_NAME: CSRF_SECRET,
    }


@contextmanager
def _rolled_back() -> Iterator[None]:
    """Run one call in a savepoint that is rolled back, the way Django's test client calls the
    application (without closing the test's database connection at the start of a request)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with transaction.atomic():
            yield
            transaction.set_rollback(True)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


HYPOTHESIS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    # The seeded data is shared by the examples of a test on purpose: each call is rolled back.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@schema.parametrize()
@HYPOTHESIS
def test_anonymously(case: schemathesis.Case, seeded: Person) -> None:
    with _rolled_back():
        case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@HYPOTHESIS
def test_as_access_administrator(case: schemathesis.Case, admin_cookies: dict[str, str]) -> None:
    with _rolled_back():
        case.call_and_validate(
            checks=CHECKS, cookies=admin_cookies, headers={"X-CSRFToken": CSRF_SECRET}
        )


# --- concrete requests with a known answer: generated ones seldom get as far as a success ----

ACCESS = "/api/v1/employers/{employer_id}/access"
PERSON = ACCESS + "/{person_id}"
REASON = {"reason": "Anställd som lönehandläggare"}
AT = {"employer_id": EMPLOYER_ID}


@dataclass(frozen=True)
class Known:
    """A concrete request and the status it must get."""

    method: str
    path: str
    status: int
    path_parameters: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] | None = None
    body: Any = None

    def case(self) -> schemathesis.Case:
        operation = schema[self.path][self.method]
        extra = {} if self.body is None else {"body": self.body}
        path_parameters = {name: str(value) for name, value in self.path_parameters.items()}
        return operation.Case(path_parameters=path_parameters, query=self.query, **extra)

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status}"


AS_ADMINISTRATOR = [
    Known("GET", "/api/v1/status", 200),
    Known("GET", "/api/v1/audit/tree-head", 200),
    Known("GET", "/api/v1/audit/proofs/inclusion", 200, query={"index": 1, "size": 3}),
    Known("GET", "/api/v1/audit/proofs/inclusion", 400, query={"index": 3, "size": 3}),
    Known("GET", "/api/v1/audit/proofs/consistency", 200, query={"first": 2, "second": 5}),
    Known("GET", ACCESS, 200, AT, query={"role": "user", "sort": "added", "limit": 1}),
    Known("GET", ACCESS, 403, {"employer_id": OTHER_EMPLOYER_ID}),
    Known("GET", PERSON, 200, {**AT, "person_id": USER_ID}),
    Known("GET", PERSON, 404, {**AT, "person_id": uuid.UUID(int=1)}),
    Known(
        "POST",
        ACCESS,
        201,
        AT,
        body={
            "personal_number": VALID_PERSONAL_NUMBERS[0],
            "email": "ny@exempel.se",
            "user": True,
            "grants": [{"eservice": "sick_report", "level": "view"}],
            **REASON,
        },
    ),
    Known(
        "POST",
        PERSON + "/grants",
        201,
        {**AT, "person_id": USER_ID},
        body={"eservice": "inquiries", "level": "submit", **REASON},
    ),
    Known(
        "DELETE",
        PERSON + "/grants/{grant_id}",
        204,
        {**AT, "person_id": USER_ID, "grant_id": GRANT_ID},
        body=REASON,
    ),
    Known(
        "POST",
        PERSON + "/roles",
        201,
        {**AT, "person_id": USER_ID},
        body={"role": "administrator", **REASON},
    ),
    Known(
        "POST",
        PERSON + "/roles",
        409,
        {**AT, "person_id": USER_ID},
        body={"role": "user", **REASON},
    ),
    Known(
        "DELETE",
        PERSON + "/roles/{role}",
        204,
        {**AT, "person_id": SECOND_ADMIN_ID, "role": "administrator"},
        body=REASON,
    ),
    Known("DELETE", PERSON, 204, {**AT, "person_id": USER_ID}, body=REASON),
]


@pytest.mark.parametrize("known", AS_ADMINISTRATOR, ids=str)
def test_known_requests_as_access_administrator(
    known: Known, admin_cookies: dict[str, str]
) -> None:
    with _rolled_back():
        response = known.case().call_and_validate(
            checks=CHECKS, cookies=admin_cookies, headers={"X-CSRFToken": CSRF_SECRET}
        )
    assert response.status_code == known.status, response.text


@pytest.mark.parametrize(
    "known",
    [
        Known("GET", ACCESS, 401, AT),
        Known(
            "POST",
            PERSON + "/grants",
            403,
            {**AT, "person_id": USER_ID},
            body={"eservice": "inquiries", "level": "view", **REASON},
        ),
    ],
    ids=str,
)
def test_known_requests_anonymously(known: Known, seeded: Person) -> None:
    with _rolled_back():
        response = known.case().call_and_validate(checks=CHECKS)
    assert response.status_code == known.status, response.text


def test_a_change_without_the_csrf_token_is_refused(admin_cookies: dict[str, str]) -> None:
    known = Known(
        "POST",
        PERSON + "/roles",
        403,
        {**AT, "person_id": USER_ID},
        body={"role": "user", **REASON},
    )
    with _rolled_back():
        response = known.case().call_and_validate(checks=CHECKS, cookies=admin_cookies)
    assert response.status_code == known.status, response.text
