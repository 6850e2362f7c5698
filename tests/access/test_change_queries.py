"""The written-out statements of a grant and its revocation give what the ORM expressions they
stand for give (``access.administration``), on SQLite and on PostgreSQL, over memberships and
grants in every state."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import models, transaction
from django.utils import timezone

from portal.access import administration
from portal.access.models import Grant, Level, Membership, Role
from portal.employers.models import Employer
from tests.access.world import World, build_world, grant, membership
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

CODES = ("sick_report", "work_aids", "inquiries")


def _columns(instance: models.Model | None) -> dict[str, Any] | None:
    if instance is None:
        return None
    return {
        field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields
    }


def _world() -> World:
    """The test world, and a person whose roles and grants have ended, been replaced and been
    revoked at both employers."""
    world = build_world()
    person = PersonFactory(given_name="Växlande")
    world.people["changing"] = person
    now = timezone.now()
    for place in (world.employer, world.other):
        ended = membership(place, person, Role.USER)
        grant(ended, "sick_report")
        Membership.objects.filter(pk=ended.pk).update(ended_at=now, end_reason="slutat")
        held = membership(place, person, Role.USER)
        revoked = grant(held, "sick_report", Level.VIEW)
        Grant.objects.filter(pk=revoked.pk).update(ended_at=now, end_reason="bytt")
        grant(held, "sick_report", Level.SUBMIT, valid_until=date(2031, 1, 31))
        grant(held, "work_aids", Level.VIEW)
    return world


def test_the_locked_employer_is_the_orms() -> None:
    _world()
    for employer in Employer.objects.all():
        with transaction.atomic():
            expected = Employer.objects.select_for_update().get(pk=employer.pk)
            assert _columns(administration._lock(employer)) == _columns(expected)


def test_the_open_user_membership_is_the_orms() -> None:
    world = _world()
    found = []
    for employer in (world.employer, world.other):
        for person in world.people.values():
            expected = (
                Membership.objects.open().filter(employer=employer, person=person, role=Role.USER)
            ).first()
            written = administration._open_user_membership(employer, person)
            assert _columns(written) == _columns(expected)
            found.append(written is not None)
    assert any(found)
    assert not all(found)


def test_the_open_grants_are_the_orms() -> None:
    _world()
    seen = 0
    for held in Membership.objects.all():
        for code in CODES:
            expected = list(Grant.objects.open().filter(membership=held, eservice=code))
            written = administration._open_grants(held, code)
            assert sorted(map(str, map(_columns, written))) == sorted(
                map(str, map(_columns, expected))
            )
            seen += len(written)
    assert seen > 0


def test_the_locked_grant_with_its_membership_employer_and_person_is_the_orms() -> None:
    _world()
    for held in Grant.objects.all():
        with transaction.atomic():
            expected = (
                Grant.objects.select_for_update()
                .select_related("membership__employer", "membership__person")
                .get(pk=held.pk)
            )
            written = administration._locked_grant(held.pk)
        assert _columns(written) == _columns(expected)
        assert _columns(written.membership) == _columns(expected.membership)
        assert _columns(written.membership.employer) == _columns(expected.membership.employer)
        assert _columns(written.membership.person) == _columns(expected.membership.person)
    with pytest.raises(Grant.DoesNotExist):
        administration._locked_grant(10**9)


def test_a_grant_is_written_and_ended_as_the_orm_writes_and_ends_it() -> None:
    world = _world()
    actor = world.people["admin"]
    held = Membership.objects.get(employer=world.employer, person=world.people["user_none"])
    spec = administration.GrantSpec("inquiries", "view", date(2026, 12, 1), date(2027, 1, 31))
    with transaction.atomic():
        written = administration._grant_create(
            membership=held, spec=spec, reason="Svarar på frågor", actor=actor, request=None
        )
    different = {"id", "public_id", "created_at"}

    def stored(pk: int) -> dict[str, Any]:
        row = _columns(Grant.objects.get(pk=pk))
        assert row is not None
        return {name: value for name, value in row.items() if name not in different}

    assert _columns(written) == _columns(Grant.objects.get(pk=written.pk))
    before = stored(written.pk)
    with transaction.atomic():
        administration._grant_end(grant=written, reason="Behövs inte", actor=actor, request=None)
    # The ORM's twin, written once the first is ended (one open grant per e-service).
    twin = Grant.objects.create(
        membership=held,
        eservice="inquiries",
        level="view",
        valid_from=date(2026, 12, 1),
        valid_until=date(2027, 1, 31),
        reason="Svarar på frågor",
        created_by=actor,
    )
    assert stored(twin.pk) == before
    twin.ended_at, twin.ended_by, twin.end_reason = written.ended_at, actor, "Behövs inte"
    twin.save(update_fields=["ended_at", "ended_by", "end_reason"])
    assert stored(written.pk) == stored(twin.pk)
    assert Grant.objects.get(pk=written.pk).ended_by_id == actor.pk


def test_the_grant_an_administrator_revokes_is_the_orms() -> None:
    import uuid  # noqa: PLC0415

    from portal.access.selectors import grant_of  # noqa: PLC0415

    world = _world()
    asked = [*Grant.objects.values_list("public_id", flat=True), uuid.uuid4()]
    found = 0
    for employer in (world.employer, world.other):
        for person in world.people.values():
            for public_id in asked:
                expected = (
                    Grant.objects.filter(
                        public_id=public_id,
                        membership__employer=employer,
                        membership__person=person,
                    )
                    .select_related("membership__employer", "membership__person")
                    .first()
                )
                for form in (public_id, str(public_id)):
                    written = grant_of(employer, person, form)
                    assert _columns(written) == _columns(expected)
                    if written is not None and expected is not None:
                        found += 1
                        assert _columns(written.membership) == _columns(expected.membership)
                        assert _columns(written.membership.employer) == _columns(employer)
                        assert _columns(written.membership.person) == _columns(person)
    assert found == 2 * Grant.objects.count()
    assert grant_of(world.employer, world.people["user_submit"], "not a uuid") is None
    assert grant_of(world.employer, world.people["user_submit"], "") is None


def test_the_person_at_an_employer_is_the_orms() -> None:
    """A person's page finds the person with one statement: the person with the public id who has
    or has had a membership at the employer, as the ORM's expression gives; nobody for someone
    only of another employer, an unknown id, or no id at all."""
    import uuid  # noqa: PLC0415

    from portal.access.selectors import person_of  # noqa: PLC0415
    from portal.identity.models import Person  # noqa: PLC0415

    world = _world()
    elsewhere = PersonFactory(given_name="Annanstans")
    membership(world.other, elsewhere, Role.USER)
    left = PersonFactory(given_name="Slutat")
    gone = membership(world.employer, left, Role.USER)
    Membership.objects.filter(pk=gone.pk).update(ended_at=timezone.now(), end_reason="slutat")
    nobody = PersonFactory(given_name="Ingen")
    people = [*world.people.values(), elsewhere, left, nobody]
    found_any = found_none = 0
    for place in (world.employer, world.other):
        for person in people:
            expected = Person.objects.filter(
                public_id=person.public_id, memberships__employer=place
            ).first()
            for asked in (person.public_id, str(person.public_id)):
                assert _columns(person_of(place, asked)) == _columns(expected)
            found_any += expected is not None
            found_none += expected is None
        for missing in (uuid.uuid4(), "inte-ett-id", ""):
            assert person_of(place, missing) is None
    assert found_any >= 6
    assert found_none >= 3
