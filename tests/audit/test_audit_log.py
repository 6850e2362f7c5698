from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import DatabaseError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from portal import audit
from portal.audit.constants import ActorKind, EventType
from portal.audit.models import AuditEvent, AuditLogIsAppendOnly
from portal.audit.services import AuditOutsideTransaction
from portal.common import rows

pytestmark = pytest.mark.django_db


def test_event_types_are_scope_resource_action_and_unique() -> None:
    values = [member.value for member in EventType]
    assert len(values) == len(set(values))
    for value in values:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*:[a-z]+(-[a-z]+)*:[a-z]+(-[a-z]+)*", value), value


def test_record_writes_who_what_and_where(person: Any, rf: Any) -> None:
    request = rf.get("/", REMOTE_ADDR="192.0.2.10")
    request.request_id = "req-12345678"
    with transaction.atomic():
        event = audit.record(
            EventType.LOGIN_SUCCEEDED,
            actor=person,
            request=request,
            object_type="person",
            object_id=person.pk,
            data={"issuer": "bankid"},
        )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.event_type == "identity:login:succeed"
    assert stored.actor_kind == ActorKind.PERSON
    assert stored.actor == person
    assert stored.ip_address == "192.0.2.10"
    assert stored.request_id == "req-12345678"
    assert stored.object_id == str(person.pk)
    assert stored.data == {"issuer": "bankid"}


def test_an_event_without_a_person_is_the_systems() -> None:
    with transaction.atomic():
        event = audit.record(EventType.SYSTEM_DEMO_DATA_LOADED, actor=None)
    assert event.actor_kind == ActorKind.SYSTEM


def test_an_unknown_event_type_is_refused() -> None:
    with pytest.raises(ValueError, match="not a valid EventType"), transaction.atomic():
        audit.record("identity:login:made-up", actor=None)  # type: ignore[arg-type]


def test_record_refuses_to_run_outside_a_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    # The test itself runs in a transaction; pretend it does not, as a caller without atomic would.
    monkeypatch.setattr(connections["default"], "in_atomic_block", False)
    with pytest.raises(AuditOutsideTransaction):
        audit.record(EventType.SYSTEM_DEMO_DATA_LOADED, actor=None)


def test_a_read_is_recorded_by_one_statement_of_its_own(
    person: Any, rf: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``record_read`` outside a transaction: the INSERT alone, which autocommit makes a
    transaction by itself (no BEGIN, COMMIT or savepoint around it); inside a transaction that
    is rolled back, it goes too. A change's event still needs the change's transaction."""
    request = rf.get("/", REMOTE_ADDR="192.0.2.11")
    request.user, request.session = person, {}

    class PageFailedError(Exception):
        pass

    recorded: list[AuditEvent] = []

    def page_that_fails() -> None:
        with transaction.atomic():
            recorded.append(audit.record_read(EventType.EMPLOYER_VIEWED, request=request))
            raise PageFailedError

    with pytest.raises(PageFailedError):
        page_that_fails()
    assert not AuditEvent.objects.filter(pk=recorded[0].pk).exists()
    # The test runs in a transaction; pretend it does not, as a page outside one does.
    monkeypatch.setattr(connections["default"], "in_atomic_block", False)
    with CaptureQueriesContext(connection) as asked:
        event = audit.record_read(EventType.EMPLOYER_VIEWED, request=request)
        # On PostgreSQL it waits for the page's next statement (test_read_with_next_statement.py);
        # the end of the request writes it if none comes.
        rows.write_deferred()
    assert [q["sql"].split()[0] for q in asked.captured_queries] == ["INSERT"]
    assert AuditEvent.objects.get(pk=event.pk).ip_address == "192.0.2.11"
    with pytest.raises(AuditOutsideTransaction):
        audit.record(EventType.SYSTEM_DEMO_DATA_LOADED, actor=None)


def test_the_event_and_the_change_are_rolled_back_together(person: Any) -> None:
    class ChangeFailedError(Exception):
        pass

    def change_that_fails() -> None:
        with transaction.atomic():
            audit.record(EventType.SESSION_ENDED, actor=person, data={"reason": "logout"})
            raise ChangeFailedError

    with pytest.raises(ChangeFailedError):
        change_that_fails()
    assert not AuditEvent.objects.filter(event_type=EventType.SESSION_ENDED).exists()


@pytest.fixture
def event() -> AuditEvent:
    with transaction.atomic():
        return audit.record(EventType.SYSTEM_DEMO_DATA_LOADED, actor=None, data={"n": 1})


def test_code_cannot_update_or_delete_an_event(event: AuditEvent) -> None:
    event.data = {"n": 2}
    with pytest.raises(AuditLogIsAppendOnly):
        event.save()
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(data={"n": 3})
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.bulk_update([event], ["data"])
    assert AuditEvent.objects.get(pk=event.pk).data == {"n": 1}


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET data = '{}' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ],
)
def test_the_database_rejects_raw_updates_and_deletes(event: AuditEvent, statement: str) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).data == {"n": 1}


@pytest.mark.postgres
def test_postgresql_rejects_truncate(event: AuditEvent) -> None:
    with connection.cursor() as cursor:
        # Foreign keys are checked at commit; settle them now, as a real TRUNCATE would see.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE audit_auditevent CASCADE")
    assert AuditEvent.objects.filter(pk=event.pk).exists()
