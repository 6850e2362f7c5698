"""``common.memo``: an answer is kept for the rest of a request and forgotten at the first change
the request records; the access decision uses it, so a page asks the database once however often
it asks ``can``, and a change in the same request is seen at once."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from portal import audit
from portal.access.constants import Permission
from portal.access.models import Grant, Level, Role
from portal.access.services import can, permissions
from portal.audit.constants import EventType
from portal.common import memo
from tests.access.world import build_world, employer, grant, logged_in, membership
from tests.factories import PersonFactory


def _decisions(queries: CaptureQueriesContext) -> int:
    """The statements a decision reads: its own, or the person's memberships in force with their
    employers (shared with the layout and the employer's read), with their grants when it is
    about an e-service, or the session's, which reads those too (``access.sessions``)."""
    return sum(
        query["sql"].startswith(
            (
                "SELECT m.role, g.level FROM access_membership m",
                "SELECT m.id, m.role, g.eservice, g.level, e.",
                "SELECT 0, NULL",
            )
        )
        for query in queries.captured_queries
    )


def _employer_reads(queries: CaptureQueriesContext) -> int:
    """The statements that read an employer's whole row."""
    return sum("organisation_number" in query["sql"] for query in queries)


def test_outside_a_request_nothing_is_kept() -> None:
    calls: list[int] = []
    for _ in range(2):
        memo.remembered("k", lambda: calls.append(1) or len(calls))
    assert calls == [1, 1]


def test_in_a_request_an_answer_is_kept_until_forgotten_and_gone_after() -> None:
    calls: list[int] = []

    def work() -> int:
        calls.append(1)
        return len(calls)

    with memo.request_scope():
        assert memo.remembered("k", work) == 1
        assert memo.remembered("k", work) == 1
        assert memo.remembered("other", work) == 2
        memo.forget()
        assert memo.remembered("k", work) == 3
    assert memo.remembered("k", work) == 4


@pytest.mark.django_db
def test_a_decision_is_read_once_per_request_and_afresh_after_a_recorded_change() -> None:
    company = employer("Minnesbolaget AB", "5599034561")
    person = PersonFactory()
    user = membership(company, person, Role.USER)
    held = grant(user, "sick_report", Level.SUBMIT)
    with memo.request_scope():
        with CaptureQueriesContext(connection) as asked:
            assert can(person, Permission.ESERVICE_SUBMIT, employer=company, eservice="sick_report")
            assert can(person, Permission.ESERVICE_VIEW, employer=company, eservice="sick_report")
            assert permissions(person, employer=company, eservice="sick_report")
        assert _decisions(asked) == 1
        # The grant is revoked in this request, as a service does: the change and its event.
        with transaction.atomic():
            Grant.objects.filter(pk=held.pk).update(ended_at=held.created_at)
            audit.record(EventType.GRANT_REVOKED, actor=person, object_type="grant")
        with CaptureQueriesContext(connection) as asked:
            assert not can(
                person, Permission.ESERVICE_SUBMIT, employer=company, eservice="sick_report"
            )
        assert _decisions(asked) == 1


@pytest.mark.django_db
def test_a_read_recorded_in_the_request_keeps_the_answers() -> None:
    company = employer("Läsbolaget AB", "5599045679")
    person = PersonFactory()
    membership(company, person, Role.ADMINISTRATOR)
    with memo.request_scope(), CaptureQueriesContext(connection) as asked:
        assert can(person, Permission.ACCESS_MANAGE, employer=company)
        request = RequestFactory().get("/")
        request.user = person
        request.session = {}  # type: ignore[assignment]
        audit.record_read(EventType.EMPLOYER_VIEWED, request=request, employer=company)
        assert can(person, Permission.ACCESS_MANAGE, employer=company)
    assert _decisions(asked) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "path", "reads"),
    [
        ("admin", "/arbetsgivare/{employer}/", 1),
        ("user_submit", "/arbetsgivare/{employer}/", 1),
        ("admin", "/arbetsgivare/{employer}/behorigheter/", 1),
        # The decision about an e-service is read with the memberships and the employer.
        ("user_submit", "/arbetsgivare/{employer}/e-tjanster/sick_report/", 1),
    ],
)
def test_an_employers_page_asks_for_the_decision_once(kind: str, path: str, reads: int) -> None:
    """The decision is read once however often the page asks it, and a decision about no
    e-service shares its one statement with the layout (the person's memberships in force)."""
    world = build_world()
    client = logged_in(world.people[kind])
    with CaptureQueriesContext(connection) as asked:
        answer = client.get(path.format(employer=world.employer.public_id))
    assert answer.status_code == 200
    assert _decisions(asked) == reads
    # The employer is read once, by itself or with the decision.
    assert _employer_reads(asked) == 1
