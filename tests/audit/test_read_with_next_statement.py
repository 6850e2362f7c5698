"""A recorded read goes with the page's next written-out read on PostgreSQL
(``rows.insert_with_next_read``): one statement where there were two, and never lost, never tied to
a transaction begun after it, never written for a read that failed.

These run on a connection of their own outside the test's transaction, as a page does; what they
commit is removed afterwards (the audit log's triggers are switched off for that only)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.http import HttpRequest, HttpResponse
from django.test.utils import CaptureQueriesContext

from portal import audit
from portal.audit.constants import ActorKind, EventType
from portal.audit.models import AuditEvent
from portal.common import rows
from portal.common.middleware import RequestIdMiddleware
from portal.identity.models import Person
from tests.factories import PersonFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite writes a recorded read at once"
    ),
]

ADDRESS = "192.0.2.44"


class ChangeFailedError(Exception):
    pass


@pytest.fixture
def person() -> Iterator[Person]:
    """A person committed on a connection of the test's own, which the portal's code uses while
    the test runs (``connections["default"]``), outside the test's transaction."""
    inside = connections["default"]
    alone = connections.create_connection("default")
    connections["default"] = alone
    made = PersonFactory()
    try:
        yield made
    finally:
        with alone.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
            cursor.execute("DELETE FROM audit_auditevent WHERE ip_address = %s", [ADDRESS])
            cursor.execute("DELETE FROM identity_person WHERE id = %s", [made.pk])
        alone.close()
        connections["default"] = inside


def _request(person: Any, rf: Any) -> HttpRequest:
    request: HttpRequest = rf.get("/", REMOTE_ADDR=ADDRESS)
    request.user, request.session = person, {}  # type: ignore[assignment]
    request.request_id = "req-deferred-1"  # type: ignore[attr-defined]
    return request


def _recorded() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(ip_address=ADDRESS))


def _read_person(person: Any) -> Person | None:
    return rows.first_by(Person, "public_id", person.public_id)


def test_the_next_read_carries_the_event(person: Any, rf: Any) -> None:
    with CaptureQueriesContext(connection) as asked:
        event = audit.record_read(
            EventType.EMPLOYER_VIEWED, request=_request(person, rf), data={"shown": 3}
        )
        assert asked.captured_queries == []
        found = _read_person(person)
    assert found == person
    assert len(asked) == 1
    assert asked[0]["sql"].startswith('WITH _deferred AS (INSERT INTO "audit_auditevent"')
    (stored,) = _recorded()
    assert event.pk is None
    assert stored.event_type == EventType.EMPLOYER_VIEWED
    assert stored.actor == person
    assert stored.actor_kind == ActorKind.PERSON
    assert stored.data == {"shown": 3}
    assert stored.request_id == "req-deferred-1"
    # Written once: the next statement writes nothing more.
    assert _read_person(person) == person
    assert len(_recorded()) == 1


@pytest.mark.parametrize(
    "sql",
    [
        (
            "WITH wanted AS (SELECT %s AS id) SELECT p.id FROM identity_person p JOIN wanted w"
            " ON w.id = p.id"
        ),
        (
            "with recursive wanted(id) AS (SELECT %s) SELECT p.id FROM identity_person p"
            " JOIN wanted w ON w.id = p.id"
        ),
    ],
)
def test_a_read_with_a_with_clause_of_its_own_carries_the_event(
    person: Any, rf: Any, sql: str
) -> None:
    audit.record_read(EventType.EMPLOYER_VIEWED, request=_request(person, rf))
    with CaptureQueriesContext(connection) as asked:
        found = rows.read(Person, sql, [person.pk], rows.columns(Person, "id"))
    assert found == [[person.pk]]
    assert len(asked) == 1
    assert "_deferred AS (INSERT INTO" in asked[0]["sql"]
    assert len(_recorded()) == 1


def test_any_other_statement_writes_the_event_first(person: Any, rf: Any) -> None:
    with CaptureQueriesContext(connection) as asked:
        event = audit.record_read(EventType.EMPLOYER_VIEWED, request=_request(person, rf))
        assert Person.objects.filter(pk=person.pk).exists()
    assert [query["sql"].split()[0] for query in asked.captured_queries] == ["INSERT", "SELECT"]
    assert [stored.pk for stored in _recorded()] == [event.pk]


@pytest.mark.parametrize("first", ["orm", "written-out read"])
def test_a_transaction_begun_after_the_read_does_not_take_the_event_with_it(
    person: Any, rf: Any, first: str
) -> None:
    def change_that_fails() -> None:
        with transaction.atomic():
            if first == "written-out read":
                assert _read_person(person) == person
            Person.objects.filter(pk=person.pk).update(given_name="Ändrad")
            raise ChangeFailedError

    audit.record_read(EventType.EMPLOYER_VIEWED, request=_request(person, rf))
    with pytest.raises(ChangeFailedError):
        change_that_fails()
    assert len(_recorded()) == 1
    person.refresh_from_db()
    assert person.given_name != "Ändrad"


def test_a_read_that_fails_records_nothing(person: Any, rf: Any) -> None:
    audit.record_read(EventType.EMPLOYER_VIEWED, request=_request(person, rf))
    with pytest.raises(DatabaseError):
        rows.read(Person, "SELECT no_such_column FROM identity_person", [], [])
    assert _read_person(person) == person
    assert _recorded() == []


def test_the_end_of_a_request_writes_an_event_no_statement_carried(person: Any, rf: Any) -> None:
    def page(request: HttpRequest) -> HttpResponse:
        audit.record_read(EventType.EMPLOYER_VIEWED, request=request)
        return HttpResponse("ok")

    request = _request(person, rf)
    response = RequestIdMiddleware(page)(request)
    assert response.status_code == 200
    (stored,) = _recorded()
    assert stored.request_id == request.request_id  # type: ignore[attr-defined]


def test_a_second_read_recorded_before_any_statement_is_written_at_once(
    person: Any, rf: Any
) -> None:
    request = _request(person, rf)
    with CaptureQueriesContext(connection) as asked:
        audit.record_read(EventType.EMPLOYER_VIEWED, request=request)
        audit.record_read(EventType.ACCESS_PERSON_VIEWED, request=request)
        assert _read_person(person) == person
    # The first by itself (the second's INSERT is another statement), the second by itself.
    assert [query["sql"].split()[0] for query in asked.captured_queries] == [
        "INSERT",
        "INSERT",
        "SELECT",
    ]
    assert sorted(str(stored.event_type) for stored in _recorded()) == sorted(
        [EventType.EMPLOYER_VIEWED, EventType.ACCESS_PERSON_VIEWED]
    )
