"""``first_by`` gives what the ORM gives, on SQLite and on PostgreSQL: every column, each value
converted (UUIDs, dates, times, JSON), and nothing for a value no row has or the field cannot
hold."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from django.db import models
from django.utils import timezone

from portal import audit
from portal.access.models import Grant, Level, Role
from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.common import rows
from portal.common.rows import first_by
from portal.employers.models import Employer
from portal.identity.models import Person, Session
from portal.identity.sessions import SessionStore
from tests.access.world import build_world, grant, membership

pytestmark = pytest.mark.django_db


def _columns(instance: models.Model) -> dict[str, Any]:
    return {
        field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields
    }


def _same_as_the_orm(model: type[models.Model], field_name: str, value: Any) -> models.Model:
    expected = model._default_manager.filter(**{field_name: value}).first()
    found = first_by(model, field_name, value)
    assert expected is not None
    assert found is not None
    assert type(found) is model
    assert _columns(found) == _columns(expected)
    # Loaded from the database: saving it again updates the row instead of adding one.
    assert found._state.adding is False
    assert found._state.db == expected._state.db
    return found


def test_an_employer_a_person_and_a_grant_come_back_as_the_orm_gives_them() -> None:
    world = build_world()
    Employer.objects.filter(pk=world.employer.pk).update(legal_form="aktiebolag")
    member = membership(world.other, world.people["user_view"], Role.USER)
    dated = grant(
        member, level=Level.VIEW, valid_from=date(2026, 1, 31), valid_until=date(2027, 2, 28)
    )
    Grant.objects.filter(pk=dated.pk).update(ended_at=timezone.now(), end_reason="slutat")

    employer = _same_as_the_orm(Employer, "public_id", world.employer.public_id)
    assert isinstance(employer.public_id, uuid.UUID)
    assert employer.created_at.tzinfo is not None
    _same_as_the_orm(Employer, "public_id", str(world.other.public_id))
    _same_as_the_orm(Person, "public_id", world.people["admin"].public_id)
    found = _same_as_the_orm(Grant, "public_id", dated.public_id)
    assert isinstance(found, Grant)
    assert (found.valid_from, found.valid_until) == (date(2026, 1, 31), date(2027, 2, 28))
    # Related rows are reached as from any instance.
    assert found.membership.employer == world.other


def test_json_and_sessions_come_back_as_the_orm_gives_them() -> None:
    event = audit.record(
        EventType.SYSTEM_DEMO_DATA_LOADED, actor=None, data={"people": 3, "ord": "åäö"}
    )
    found = _same_as_the_orm(AuditEvent, "id", event.pk)
    assert isinstance(found, AuditEvent)
    assert found.data == {"people": 3, "ord": "åäö"}
    session = SessionStore()
    session["acting_for"] = "x"
    session.save()
    _same_as_the_orm(Session, "session_key", session.session_key)


def test_instances_give_leading_plain_columns_as_the_database_gives_them() -> None:
    world = build_world()
    sql = (
        f"SELECT 7, 'år', {rows.column_list(Employer, 'e')}, {rows.column_list(Person, 'p')}"  # noqa: S608
        " FROM employers_employer e LEFT JOIN identity_person p ON 1 = 0 WHERE e.id = %s"
    )
    found = rows.instances(sql, [world.employer.pk], Employer, Person, plain=2)
    assert len(found) == 1
    seven, text, employer, nobody = found[0]
    assert (seven, text) == (7, "år")
    # The models' columns are converted as without them.
    assert employer == world.employer
    assert employer.created_at == Employer.objects.get(pk=world.employer.pk).created_at
    assert isinstance(employer.public_id, uuid.UUID)
    # A model's columns all NULL (a join that found nothing): an instance without a key.
    assert nobody.pk is None


@pytest.mark.parametrize(
    "value",
    [uuid.UUID("00000000-0000-4000-8000-000000000000"), "not a uuid", "", None, 17],
    ids=["no such row", "not a uuid", "empty", "none", "a number"],
)
def test_nothing_for_a_value_no_row_has_or_the_field_cannot_hold(value: object) -> None:
    build_world()
    assert first_by(Employer, "public_id", value) is None


def _event(n: int, actor: Person | None) -> AuditEvent:
    return AuditEvent(
        event_type=EventType.GRANT_CREATED,
        actor_kind="person" if actor else "system",
        actor=actor,
        object_type="employer",
        object_id=f"obj-{n}",
        data={"grant": n, "reason": "Vikarie för Åsa Öberg", "valid_until": None, "list": [1, "å"]},
        request_id=f"{n:032x}",
        ip_address="2001:db8::1" if n % 2 else "192.0.2.7",
        employer_ref=str(uuid.uuid4()),
        login_id=4200 + n,
        outcome="success",
        user_agent_hash="ab" * 32,
    )


def test_insert_writes_the_row_save_writes() -> None:
    """``insert`` (the audit log's write) and ``save()`` store the same row and leave the
    instance in the same state."""
    actor = build_world().people["admin"]
    for n, who in enumerate((actor, None)):
        saved, inserted = _event(2 * n, who), _event(2 * n + 1, who)
        inserted.occurred_at = saved.occurred_at
        saved.save()
        assert rows.insert(inserted) is inserted
        assert inserted.pk is not None
        assert inserted.pk == saved.pk + 1
        assert inserted._state.adding is False
        assert inserted._state.db == saved._state.db
        stored = {
            event.pk: _columns(event) for event in AuditEvent.objects.filter(pk__gte=saved.pk)
        }
        expected = stored[saved.pk] | {
            "id": inserted.pk,
            "object_id": inserted.object_id,
            "data": inserted.data,
            "request_id": inserted.request_id,
            "ip_address": inserted.ip_address,
            "employer_ref": inserted.employer_ref,
            "login_id": inserted.login_id,
        }
        assert stored[inserted.pk] == expected
        assert _columns(inserted) == expected


def test_upsert_writes_a_new_row_then_updates_it_as_update_or_create_does() -> None:
    from django.db import connection  # noqa: PLC0415
    from django.test.utils import CaptureQueriesContext  # noqa: PLC0415

    from portal.eservices.models import Draft  # noqa: PLC0415

    world = build_world()
    person, company = world.people["user_submit"], world.employer
    unique, update = ("person", "employer", "eservice", "key"), ("data", "corrects", "updated_at")

    def draft(key: str, data: dict[str, Any]) -> Draft:
        return Draft(person=person, employer=company, eservice="sick_report", key=key, data=data)

    with CaptureQueriesContext(connection) as asked:
        first = rows.upsert(draft("", {"raw": {"n": "å"}}), unique=unique, update=update)
    assert len(asked) == 1
    assert first.pk is not None
    assert first._state.adding is False
    stored = Draft.objects.get(pk=first.pk)
    assert _columns(first) == _columns(stored)
    assert stored.data == {"raw": {"n": "å"}}
    # The same person, employer, e-service and key: the row is updated, its key and token kept.
    second = rows.upsert(draft("", {"raw": {"n": 2}}), unique=unique, update=update)
    assert (second.pk, second.token) == (first.pk, first.token)
    assert second.data == {"raw": {"n": 2}}
    assert second.updated_at >= first.updated_at
    assert _columns(second) == _columns(Draft.objects.get(pk=first.pk))
    # Another key is another draft, side by side; update_or_create agrees with what is stored.
    other = rows.upsert(draft("SR-1", {"x": 1}), unique=unique, update=update)
    assert other.pk != first.pk
    found, created = Draft.objects.update_or_create(
        person=person, employer=company, eservice="sick_report", key="SR-1", defaults={}
    )
    assert not created
    assert (found.pk, found.token, found.data) == (other.pk, other.token, {"x": 1})
    assert Draft.objects.count() == 2


@pytest.mark.parametrize("value", [Role.ADMINISTRATOR, "received", "sick_report"])
def test_a_constant_of_the_code_is_written_as_a_literal(value: str) -> None:
    assert rows.constant(value) == f"'{value}'"


@pytest.mark.parametrize("value", ["", "O'Brien", "a b", "x'; DROP TABLE t; --", "Admin", "1a"])
def test_anything_else_is_refused_as_a_constant(value: str) -> None:
    with pytest.raises(ValueError, match="not a constant of the code"):
        rows.constant(value)
