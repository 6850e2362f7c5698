"""``access.can``: at most 2 database queries per decision whatever the number of grants, and the
right answer for the levels, the dates, revocation, ended memberships, roles and employers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from portal.access.constants import Permission
from portal.access.models import Grant, Level, Membership, Role
from portal.access.services import can
from portal.employers.constants import EmployerState
from portal.employers.models import Employer
from portal.identity.models import Person
from tests.access.world import grant as _grant
from tests.access.world import membership as _membership
from tests.factories import PersonFactory

CODES = ("sick_report", "inquiries", "work_aids", "rehab_support")


def _employer(n: int) -> Employer:
    return Employer.objects.create(
        organisation_number=f"55{n:08d}", name=f"Frågebolaget {n} AB", state=EmployerState.ACTIVE
    )


def _person_with_grants(count: int) -> tuple[Person, Employer]:
    """A person who is administrator and user at an employer, with ``count`` grants in all: a
    submit grant for sick_report there, revoked ones there, and the rest at other employers."""
    person = PersonFactory()
    employer = _employer(0)
    _membership(employer, person, Role.ADMINISTRATOR)
    user = _membership(employer, person, Role.USER)
    _grant(user, "sick_report", Level.SUBMIT)
    # Four grants at each of as many other employers as fit, leaving at least 12 for the rest.
    others = max(0, (count - 1 - 12) // len(CODES))
    for n in range(1, others + 1):
        other = _membership(_employer(n), person, Role.USER)
        for code in CODES:
            _grant(other, code, Level.SUBMIT)
    # The rest: revoked grants at this employer (the history is kept, never deleted).
    now = timezone.now()
    for i in range(count - 1 - others * len(CODES)):
        revoked = _grant(user, CODES[1 + i % 3], Level.VIEW)
        Grant.objects.filter(pk=revoked.pk).update(ended_at=now)
    assert Grant.objects.filter(membership__person=person).count() == count
    return person, employer


@pytest.mark.django_db
@pytest.mark.parametrize("grants", [1, 200])
@pytest.mark.parametrize(
    ("action", "eservice", "expected"),
    [
        (Permission.ESERVICE_SUBMIT, "sick_report", True),
        (Permission.ESERVICE_VIEW, "sick_report", True),
        (Permission.ESERVICE_SUBMIT, "inquiries", False),  # revoked (or never granted)
        (Permission.ACCESS_MANAGE, None, True),
        (Permission.ACCESS_VIEW, None, True),
    ],
)
def test_a_decision_costs_at_most_two_queries_whatever_the_grants(
    django_assert_max_num_queries: Any,
    grants: int,
    action: Permission,
    eservice: str | None,
    expected: bool,
) -> None:
    person, employer = _person_with_grants(grants)
    person = Person.objects.get(pk=person.pk)
    employer = Employer.objects.get(pk=employer.pk)
    with django_assert_max_num_queries(2):
        allowed = can(person, action, employer=employer, eservice=eservice)
    assert allowed is expected


@pytest.fixture
def employer(db: Any) -> Employer:
    return _employer(1)


@pytest.fixture
def user(employer: Employer) -> tuple[Person, Membership]:
    person = PersonFactory()
    return person, _membership(employer, person, Role.USER)


def test_view_level_sees_but_does_not_submit(employer: Employer, user: Any) -> None:
    person, membership = user
    _grant(membership, level=Level.VIEW)
    assert can(person, Permission.ESERVICE_VIEW, employer=employer, eservice="sick_report")
    assert not can(person, Permission.ESERVICE_SUBMIT, employer=employer, eservice="sick_report")


def test_submit_level_sees_and_submits_in_that_eservice_only(employer: Employer, user: Any) -> None:
    person, membership = user
    _grant(membership, level=Level.SUBMIT)
    assert can(person, Permission.ESERVICE_VIEW, employer=employer, eservice="sick_report")
    assert can(person, Permission.ESERVICE_SUBMIT, employer=employer, eservice="sick_report")
    assert not can(person, Permission.ESERVICE_VIEW, employer=employer, eservice="work_aids")
    assert not can(person, Permission.ESERVICE_SUBMIT, employer=employer, eservice="no_such")
    # A user administers nothing.
    assert not can(person, Permission.ACCESS_MANAGE, employer=employer)
    assert can(person, Permission.EMPLOYER_VIEW, employer=employer)


@pytest.mark.parametrize(
    ("valid_from", "valid_until", "expected"),
    [
        (-30, -1, False),  # ended yesterday
        (1, None, False),  # starts tomorrow
        (-30, 0, True),  # ends today: the end date is inclusive
        (0, None, True),  # starts today
    ],
)
def test_the_grant_dates_decide(
    employer: Employer,
    user: Any,
    valid_from: int,
    valid_until: int | None,
    expected: bool,
) -> None:
    person, membership = user
    today = timezone.localdate()
    _grant(
        membership,
        valid_from=today + timedelta(days=valid_from),
        valid_until=None if valid_until is None else today + timedelta(days=valid_until),
    )
    assert (
        can(person, Permission.ESERVICE_SUBMIT, employer=employer, eservice="sick_report")
        is expected
    )


def test_a_revoked_grant_is_denied(employer: Employer, user: Any) -> None:
    person, membership = user
    grant = _grant(membership)
    Grant.objects.filter(pk=grant.pk).update(ended_at=timezone.now())
    assert not can(person, Permission.ESERVICE_SUBMIT, employer=employer, eservice="sick_report")
    assert not can(person, Permission.ESERVICE_VIEW, employer=employer, eservice="sick_report")


def test_an_ended_membership_is_denied_with_its_grant_still_open(
    employer: Employer, user: Any
) -> None:
    person, membership = user
    _grant(membership)
    Membership.objects.filter(pk=membership.pk).update(ended_at=timezone.now())
    assert not can(person, Permission.ESERVICE_SUBMIT, employer=employer, eservice="sick_report")
    assert not can(person, Permission.EMPLOYER_VIEW, employer=employer)


def test_an_administrator_without_a_user_membership_uses_no_eservice(employer: Employer) -> None:
    person = PersonFactory()
    administrator = _membership(employer, person, Role.ADMINISTRATOR)
    # Even a grant attached to the administrator membership gives no e-service: that needs the
    # user role.
    _grant(administrator)
    assert can(person, Permission.ACCESS_MANAGE, employer=employer)
    assert not can(person, Permission.ESERVICE_VIEW, employer=employer, eservice="sick_report")
    assert not can(person, Permission.ESERVICE_SUBMIT, employer=employer, eservice="sick_report")


def test_another_employer_is_denied(employer: Employer, user: Any) -> None:
    person, membership = user
    _grant(membership)
    _membership(employer, person, Role.ADMINISTRATOR)
    other = _employer(2)
    assert can(person, Permission.ESERVICE_SUBMIT, employer=employer, eservice="sick_report")
    assert not can(person, Permission.ESERVICE_SUBMIT, employer=other, eservice="sick_report")
    assert not can(person, Permission.ESERVICE_VIEW, employer=other, eservice="sick_report")
    assert can(person, Permission.ACCESS_MANAGE, employer=employer)
    assert not can(person, Permission.ACCESS_MANAGE, employer=other)
    assert not can(person, Permission.EMPLOYER_VIEW, employer=other)


def test_a_decision_about_no_eservice_gives_what_the_decision_statement_gives(
    employer: Employer,
) -> None:
    """Without an e-service the roles come from the person's memberships in force (the statement
    the layout reads); they are the roles the decision's own statement gives, for memberships in
    every state, at this employer and another."""
    from portal.access.services import _read_roles_and_levels, _roles_and_levels  # noqa: PLC0415

    other = _employer(2)
    now, today = timezone.now(), timezone.localdate()
    people = []
    states = {
        "in force": {},
        "ended": {"ended_at": now},
        "suspended": {"suspended_at": now},
        "starts tomorrow": {"valid_from": now + timedelta(days=1)},
        "ended yesterday": {"valid_until": now - timedelta(days=1)},
        "ends in an hour": {"valid_until": now + timedelta(hours=1)},
    }
    for state in states.values():
        for role in Role:
            person = PersonFactory()
            people.append(person)
            held = _membership(employer, person, role)
            _grant(held, "sick_report", Level.SUBMIT, valid_until=today)
            _membership(other, person, Role.USER)
            Membership.objects.filter(pk=held.pk).update(**state)
    both = PersonFactory()
    _membership(employer, both, Role.ADMINISTRATOR)
    _membership(employer, both, Role.USER)
    people += [both, PersonFactory()]
    found = {}
    for person in people:
        for place in (employer, other):
            derived = sorted(_roles_and_levels(person.pk, place.pk, None))
            assert derived == sorted(_read_roles_and_levels(person.pk, place.pk, None))
            found[(person.pk, place.pk)] = derived
    # The states make a difference: not every answer is the same.
    assert {tuple(roles) for roles in found.values()} == {
        (),
        (("user", None),),
        (("administrator", None),),
        (("administrator", None), ("user", None)),
    }


def test_the_employer_read_with_the_decision_is_what_the_three_reads_give(
    employer: Employer,
) -> None:
    """An e-service page reads the person's memberships in force with their employers and grants
    in one statement: the same employer as ``first_by``, the same rows as the decision's own
    statement and the same memberships as the layout's statement, for memberships and grants in
    every state; nothing for an id no employer has."""
    import uuid  # noqa: PLC0415

    from django.db import connection  # noqa: PLC0415
    from django.test.utils import CaptureQueriesContext  # noqa: PLC0415

    from portal.access.services import (  # noqa: PLC0415
        _read_roles_and_levels,
        employer_deciding,
        memberships_in_force,
    )
    from portal.common import memo  # noqa: PLC0415
    from portal.common.rows import first_by  # noqa: PLC0415

    other = _employer(2)
    now, today = timezone.now(), timezone.localdate()
    people = []
    for state in ({}, {"ended_at": now}, {"suspended_at": now}, {"valid_until": now}):
        for level, until in ((Level.SUBMIT, None), (Level.VIEW, today), (Level.SUBMIT, today)):
            person = PersonFactory()
            people.append(person)
            user = _membership(employer, person, Role.USER)
            held = _grant(user, "sick_report", level, valid_until=until)
            if until is not None and level == Level.SUBMIT:
                Grant.objects.filter(pk=held.pk).update(valid_until=today - timedelta(days=1))
            _membership(employer, person, Role.ADMINISTRATOR)
            Membership.objects.filter(pk=user.pk).update(**state)
    people.append(PersonFactory())
    answers = set()
    for person in people:
        for place in (employer, other):
            for code in CODES:
                with memo.request_scope(), CaptureQueriesContext(connection) as asked:
                    found = employer_deciding(place.public_id, person, code)
                    statements = len(asked)
                    assert found is not None
                    layout = memberships_in_force(person)  # kept: no statement more
                    statements_after = len(asked)
                    assert {
                        f.attname: getattr(found, f.attname) for f in Employer._meta.fields
                    } == {
                        f.attname: getattr(
                            first_by(Employer, "public_id", place.public_id), f.attname
                        )
                        for f in Employer._meta.fields
                    }
                    kept = memo.remembered(("access.decision", person.pk, place.pk, code), list)
                expected = sorted(_read_roles_and_levels(person.pk, place.pk, code))
                assert sorted(kept) == expected
                answers.add(tuple(expected))
                in_force = memberships_in_force(person)  # outside a request: read afresh
                assert layout == in_force
                # One statement, and a second for an employer where the person has no
                # membership in force (read by itself).
                there = any(m.employer.pk == place.pk for m in in_force)
                assert statements == statements_after == (1 if there else 2)
    assert len(answers) >= 4
    for missing in (uuid.uuid4(), "not an id", ""):
        assert employer_deciding(missing, people[0], "sick_report") is None
