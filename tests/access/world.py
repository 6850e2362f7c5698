"""A small world for access tests: two connected employers and one person of every kind."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.test import Client

from portal.access.models import Grant, Level, Membership, Role
from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.backoffice.models import StaffRole
from portal.employers.constants import EmployerState
from portal.employers.models import Employer
from portal.identity.models import Person
from tests.factories import PersonFactory

#: The kinds of actor every route is tried with (besides the anonymous visitor and staff roles).
EMPLOYER_ACTORS = ("admin", "user_none", "user_view", "user_submit", "other_admin")


@dataclass
class World:
    employer: Employer
    other: Employer
    people: dict[str, Person] = field(default_factory=dict)
    grant: Grant | None = None


def employer(name: str, number: str) -> Employer:
    return Employer.objects.create(
        organisation_number=number, name=name, state=EmployerState.ACTIVE
    )


def membership(employer: Employer, person: Person, role: Role, email: str = "") -> Membership:
    return Membership.objects.create(
        employer=employer,
        person=person,
        role=role,
        email=email or person.email,
        reason="test",
    )


def grant(
    member: Membership,
    eservice: str = "sick_report",
    level: Level = Level.SUBMIT,
    valid_from: date | None = None,
    valid_until: date | None = None,
) -> Grant:
    return Grant.objects.create(
        membership=member,
        eservice=eservice,
        level=level,
        valid_from=valid_from or date(2020, 1, 1),
        valid_until=valid_until,
        reason="test",
    )


def build_world() -> World:
    world = World(
        employer=employer("Matrisbolaget Alfa AB", "5599011235"),
        other=employer("Grannbolaget Beta AB", "5599023453"),
    )
    for kind in EMPLOYER_ACTORS:
        world.people[kind] = PersonFactory(given_name=f"Aktör{kind.replace('_', '')}")
    membership(world.employer, world.people["admin"], Role.ADMINISTRATOR)
    membership(world.employer, world.people["user_none"], Role.USER)
    grant(
        membership(world.employer, world.people["user_view"], Role.USER),
        level=Level.VIEW,
    )
    world.grant = grant(
        membership(world.employer, world.people["user_submit"], Role.USER),
        level=Level.SUBMIT,
    )
    membership(world.other, world.people["other_admin"], Role.ADMINISTRATOR)
    for role in StaffRole.Role:
        person = PersonFactory(given_name=f"Personal{role.value.replace('_', '')}")
        StaffRole.objects.create(person=person, role=role, granted_by=None)
        world.people[f"staff:{role.value}"] = person
    return world


def logged_in(person: Person) -> Client:
    """A test client logged in as ``person``."""
    client = Client()
    client.force_login(person)
    return client


def events(event_type: EventType) -> list[AuditEvent]:
    """The audit events of a type, oldest first."""
    return list(AuditEvent.objects.filter(event_type=event_type).order_by("id"))
