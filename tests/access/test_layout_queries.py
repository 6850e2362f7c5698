"""The reads written out in SQL for speed (``access.selectors._USABLE_SQL``, ``_LAYOUT_SQL`` and
``_OPEN_MEMBERSHIPS_SQL``) give the same answers as the ORM's statement of the same rules
(``MembershipQuerySet.active``, ``GrantQuerySet.in_force``, the prefetch of ``people``), over
memberships and grants in every state a date or an end can put them in."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.access.models import Grant, Level, Membership, Role, administrators_reachable
from portal.access.selectors import (
    HISTORY_SHOWN,
    eservices_for,
    open_memberships_of,
    people,
    person_access,
)
from portal.access.services import employer_deciding, memberships_in_force
from portal.common import memo
from portal.employers.constants import EmployerState
from portal.employers.models import Employer
from portal.identity.models import Person
from tests.access.world import grant, membership
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def _employer(n: int, state: str = EmployerState.ACTIVE) -> Employer:
    return Employer.objects.create(
        organisation_number=f"56{n:08d}", name=f"Radbolaget {n:02d} AB", state=state
    )


def _world() -> Person:
    """One person with memberships and grants in every state, at several employers."""
    person = PersonFactory()
    today = timezone.localdate()
    now = timezone.now()
    day = timedelta(days=1)
    codes = ("sick_report", "inquiries", "work_aids", "rehab_support")
    # 0: a user with grants in force, revoked, ended yesterday, ending today, starting tomorrow.
    user = membership(_employer(0), person, Role.USER)
    grant(user, codes[0], Level.SUBMIT)
    revoked = grant(user, codes[1], Level.VIEW)
    Grant.objects.filter(pk=revoked.pk).update(ended_at=now)
    grant(user, codes[1], Level.SUBMIT, valid_from=today - 30 * day, valid_until=today - day)
    grant(user, codes[2], Level.VIEW, valid_from=today - 30 * day, valid_until=today)
    grant(user, codes[3], Level.SUBMIT, valid_from=today + day)
    # 1: administrator and user; a grant on the administrator membership gives nothing.
    other = _employer(1)
    grant(membership(other, person, Role.ADMINISTRATOR), codes[0], Level.SUBMIT)
    grant(membership(other, person, Role.USER), codes[2], Level.VIEW)
    # 2: an ended membership with its grant still open; 3: a suspended one.
    ended = membership(_employer(2), person, Role.USER)
    grant(ended, codes[0])
    Membership.objects.filter(pk=ended.pk).update(ended_at=now)
    suspended = membership(_employer(3), person, Role.USER)
    grant(suspended, codes[0])
    Membership.objects.filter(pk=suspended.pk).update(suspended_at=now)
    # 4: a membership that ended by its date; 5: one that starts tomorrow; 6: one ending later.
    for n, valid_from, valid_until in (
        (4, now - 30 * day, now - timedelta(seconds=1)),
        (5, now + day, None),
        (6, now - day, now + day),
    ):
        dated = membership(_employer(n), person, Role.USER)
        grant(dated, codes[n % 4])
        Membership.objects.filter(pk=dated.pk).update(
            valid_from=valid_from, valid_until=valid_until
        )
    # 7: an employer that has left: the membership is listed, no e-service is usable.
    grant(membership(_employer(7, EmployerState.DEREGISTERED), person, Role.USER), codes[0])
    # Someone else's grant at the same employer is not the person's.
    grant(membership(Employer.objects.get(name="Radbolaget 00 AB"), PersonFactory(), Role.USER))
    return person


@pytest.mark.parametrize(
    "eservice", [None, "sick_report", "work_aids"], ids=["none", "sick", "aids"]
)
def test_the_memberships_in_force_are_the_orms_active_ones(eservice: str | None) -> None:
    """The layout's memberships and their employers (every column), read alone or with the
    grants of an e-service (an e-service's page): the ORM's active memberships, by name."""
    from portal.access.services import _read_memberships  # noqa: PLC0415

    person = _world()
    active = list(
        Membership.objects.active()
        .filter(person=person)
        .select_related("employer")
        .order_by("employer__name", "id")
    )
    expected = [
        (m.role, m.employer.pk, m.employer.public_id, m.employer.name, m.employer.state)
        for m in active
    ]
    read = _read_memberships(person.pk, eservice)
    found = [
        (m.role, m.employer.pk, m.employer.public_id, m.employer.name, m.employer.state)
        for m in (memberships_in_force(person) if eservice is None else read.shown)
    ]
    assert found == expected
    assert {
        public_id: {f.attname: getattr(e, f.attname) for f in Employer._meta.concrete_fields}
        for public_id, e in read.employers.items()
    } == {
        m.employer.public_id: {
            f.attname: getattr(m.employer, f.attname) for f in Employer._meta.concrete_fields
        }
        for m in active
    }
    assert {name for _r, _pk, _id, name, _s in found} == {
        "Radbolaget 00 AB",
        "Radbolaget 01 AB",
        "Radbolaget 06 AB",
        "Radbolaget 07 AB",
    }


def _usable_with_own_statement(person: Person, employer: Employer) -> list[Any]:
    """``eservices_for`` in a request that has read the person's memberships about one e-service
    only (an e-service's page), which leaves the other grants to its own statement."""
    with memo.request_scope():
        employer_deciding(employer.public_id, person, "sick_report")
        with CaptureQueriesContext(connection) as asked:
            found = eservices_for(person, employer)
        assert len(asked) == (1 if employer.is_connected else 0)
        return found


def _usable_from_the_memberships(person: Person, employer: Employer) -> list[Any]:
    """``eservices_for`` in a request that has read the person's memberships with all grants
    (the layout of an employer's page): no statement of its own."""
    with memo.request_scope():
        memberships_in_force(person)
        with CaptureQueriesContext(connection) as asked:
            found = eservices_for(person, employer)
        assert len(asked) == 0
        return found


@pytest.mark.parametrize(
    "usable",
    [eservices_for, _usable_with_own_statement, _usable_from_the_memberships],
    ids=["outside a request", "own statement", "from the memberships"],
)
def test_the_usable_eservices_are_the_grants_in_force_on_active_user_memberships(
    usable: Any,
) -> None:
    person = _world()
    today = timezone.localdate()
    for employer in Employer.objects.all():
        expected = (
            sorted(
                Grant.objects.in_force(today)
                .filter(
                    membership__in=Membership.objects.active().filter(
                        person=person, employer=employer, role=Role.USER
                    )
                )
                .values_list("eservice", "level")
            )
            if employer.is_connected
            else []
        )
        found = sorted((e.code, e.level) for e in usable(person, employer))
        assert found == expected, employer.name
    first = Employer.objects.get(name="Radbolaget 00 AB")
    assert sorted((e.code, e.level) for e in usable(person, first)) == [
        ("sick_report", Level.SUBMIT),
        ("work_aids", Level.VIEW),
    ]


def test_the_list_of_peoples_memberships_are_the_orms_prefetch() -> None:
    person = _world()
    someone = Membership.objects.exclude(person=person).get().person
    employers = Employer.objects.filter(memberships__person=person).distinct()
    for employer in employers:
        expected = {
            listed.pk: [
                (
                    m.role,
                    m.suspended_at is not None,
                    [(g.eservice, g.level, g.valid_until) for g in m.grants.all()],
                )
                for m in listed.open_memberships
            ]
            for listed in people(employer)
            if listed.open_memberships
        }
        found = {
            person_id: [(m.role, m.suspended, m.grants) for m in held]
            for person_id, held in open_memberships_of(employer, [person.pk, someone.pk]).items()
        }
        assert found == expected, employer.name
    at_first = open_memberships_of(Employer.objects.get(name="Radbolaget 00 AB"), [person.pk])
    today = timezone.localdate()
    # Revoked grants are left out; ended, future and expired-by-date ones are shown with their
    # last day, by e-service.
    assert [m.grants for m in at_first[person.pk]] == [
        [
            ("inquiries", Level.SUBMIT, today - timedelta(days=1)),
            ("rehab_support", Level.SUBMIT, None),
            ("sick_report", Level.SUBMIT, None),
            ("work_aids", Level.VIEW, today),
        ]
    ]
    assert open_memberships_of(employers[0], []) == {}


def _ids(objects: Iterable[Any]) -> list[int]:
    return [o.pk for o in objects]


def test_a_persons_access_is_what_the_orm_reads() -> None:
    person = _world()
    now = timezone.now()
    employer = Employer.objects.get(name="Radbolaget 00 AB")
    # A long history at one employer: roles ended one after another, each with a grant, and
    # grants revoked on the role in force, at times that interleave.
    for n in range(HISTORY_SHOWN + 2):
        ended = membership(employer, person, Role.ADMINISTRATOR)
        grant(ended, "inquiries")
        Membership.objects.filter(pk=ended.pk).update(ended_at=now - timedelta(hours=2 * n))
    user = Membership.objects.get(employer=employer, person=person, ended_at__isnull=True)
    for n in range(8):
        revoked = grant(user, "retired_service", Level.VIEW)
        Grant.objects.filter(pk=revoked.pk).update(ended_at=now - timedelta(hours=2 * n + 1))
    for at in Employer.objects.all():
        access = person_access(at, person)
        open_roles = list(
            Membership.objects.open().filter(employer=at, person=person).order_by("-pk")
        )
        admins = [m for m in open_roles if m.role == Role.ADMINISTRATOR]
        users = [m for m in open_roles if m.role == Role.USER]
        assert _ids([access.administrator] if access.administrator else []) == _ids(admins)
        assert _ids([access.user] if access.user else []) == _ids(users)
        expected_grants = [g for m in users for g in m.grants.open().order_by("eservice", "-pk")]
        assert _ids(access.grants) == _ids(expected_grants), at.name
        assert [g.valid_until for g in access.grants] == [g.valid_until for g in expected_grants]
        ended = Membership.objects.filter(
            employer=at, person=person, ended_at__isnull=False
        ).order_by("-ended_at", "-pk")
        ended_grants = (
            Grant.objects.filter(membership__employer=at, membership__person=person)
            .filter(Q(ended_at__isnull=False) | Q(membership__ended_at__isnull=False))
            .order_by(Coalesce("ended_at", "membership__ended_at").desc(), "-pk")
        )
        assert _ids(access.ended) == _ids(ended[:HISTORY_SHOWN]), at.name
        assert _ids(access.ended_grants) == _ids(ended_grants[:HISTORY_SHOWN]), at.name
        assert [g.membership.pk for g in access.ended_grants] == [
            g.membership_id for g in ended_grants[:HISTORY_SHOWN]
        ]
        assert access.more_history == (
            ended.count() > HISTORY_SHOWN or ended_grants.count() > HISTORY_SHOWN
        )
    with CaptureQueriesContext(connection) as asked:
        at_first = person_access(employer, person)
    assert len(asked) == 1
    assert at_first.more_history
    assert len(at_first.ended) == len(at_first.ended_grants) == HISTORY_SHOWN
    assert at_first.ended[0].ended_at is not None
    assert at_first.ended[0].ended_at.tzinfo is not None


def test_the_administrators_told_of_a_change_are_the_orms_active_ones() -> None:
    """``administrators_reachable``: the active administrators with an address, by membership,
    without the one who made the change, as the ORM states it."""
    company = _employer(20)
    now = timezone.now()
    day = timedelta(days=1)
    people = [PersonFactory(email=f"admin{n}@example.se") for n in range(7)]
    for n, person in enumerate(people):
        membership(company, person, Role.ADMINISTRATOR, email=f"admin{n}@example.se")
    # An administrator ended, one suspended, one not yet started, one past their end; one with
    # no address at all; a user; an administrator of another employer.
    changes = {
        1: {"ended_at": now},
        2: {"suspended_at": now},
        3: {"valid_from": now + day},
        4: {"valid_from": now - 2 * day, "valid_until": now - day},
    }
    for n, values in changes.items():
        Membership.objects.filter(person=people[n], employer=company).update(**values)
    Membership.objects.filter(person=people[5], employer=company).update(email="")
    Person.objects.filter(pk=people[5].pk).update(email="")
    membership(company, PersonFactory(), Role.USER)
    membership(_employer(21), PersonFactory(), Role.ADMINISTRATOR)
    for leaving_out in (None, people[0], people[6], people[2]):
        orm = (
            Membership.objects.active()
            .filter(employer=company, role=Role.ADMINISTRATOR)
            .select_related("person")
            .order_by("pk")
        )
        if leaving_out is not None:
            orm = orm.exclude(person=leaving_out)
        expected = [m for m in orm if m.contact_email]
        found = administrators_reachable(company, leaving_out=leaving_out)
        assert [(m.pk, m.contact_email, m.person.email) for m in found] == [
            (m.pk, m.contact_email, m.person.email) for m in expected
        ]
        assert all(m.person.pk == m.person_id for m in found)
    assert [m.person for m in administrators_reachable(company)] == [people[0], people[6]]
