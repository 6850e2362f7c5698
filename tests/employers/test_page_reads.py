"""The employer's page's written-out read (``employers.selectors.page_facts``, one statement)
gives what the ORM's statement of the same rules gives: administrators in force by surname,
acceptances newest first with who and how, and the open request to leave."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from stdnum import luhn

from portal.access.models import Membership, Role, administrators_reachable
from portal.access.templatetags.people_tags import display_name
from portal.employers import selectors
from portal.employers.models import DeregistrationRequest, Employer
from portal.identity.models import Person
from portal.terms.models import TermsAcceptance, TermsVersion
from tests.access.world import build_world, membership
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def _orm_administrators(employer: Employer) -> list[str]:
    """The ORM's statement of the administrators the page shows."""
    return [
        display_name(m.person)
        for m in Membership.objects.active()
        .filter(employer=employer, role=Role.ADMINISTRATOR)
        .select_related("person")
        .order_by("person__surname", "id")
    ]


def _terms_version(version: str) -> TermsVersion:
    return TermsVersion.objects.create(
        version=version,
        title_sv=f"Villkor {version}",
        title_en=f"Terms {version}",
        text_sv="Text",
        text_en="Text",
        effective_from=date(2026, 1, 1),
        published_at=timezone.now(),
    )


def test_the_administrators_are_the_orms_active_ones_by_surname() -> None:
    world = build_world()
    employer = world.employer
    now = timezone.now()
    for surname, change in (
        ("Öberg", {}),
        ("Andersson", {}),
        ("Berg", {"ended_at": now}),
        ("Carlsson", {"suspended_at": now}),
        ("Dahl", {"valid_from": now + timedelta(days=1)}),
        ("Ek", {"valid_until": now - timedelta(seconds=1)}),
        ("Fors", {"valid_until": now + timedelta(days=1)}),
    ):
        made = membership(employer, PersonFactory(surname=surname), Role.ADMINISTRATOR)
        Membership.objects.filter(pk=made.pk).update(**change)
    # A user is not an administrator; someone not yet logged in shows masked.
    membership(employer, PersonFactory(surname="Grip"), Role.USER)
    membership(employer, PersonFactory(given_name="", surname=""), Role.ADMINISTRATOR)
    found = selectors.page_facts(employer).administrators
    assert found == _orm_administrators(employer)
    surnames = [name.rsplit(" ", 1)[-1] for name in found]
    assert {"Andersson", "Fors", "Öberg"} <= set(surnames)
    assert not {"Berg", "Carlsson", "Dahl", "Ek", "Grip"} & set(surnames)
    assert any(name.endswith("-****") for name in found)
    assert selectors.page_facts(world.other).administrators == [
        display_name(world.people["other_admin"])
    ]


def test_the_acceptances_are_the_orms_newest_first() -> None:
    world = build_world()
    employer = world.employer
    first, second = (_terms_version(version) for version in ("2026-1", "2026-2"))
    TermsAcceptance.objects.create(
        employer=employer,
        terms_version=first,
        channel=TermsAcceptance.Channel.PAPER,
        accepted_at=timezone.now() - timedelta(days=30),
    )
    TermsAcceptance.objects.create(
        employer=employer,
        terms_version=second,
        channel=TermsAcceptance.Channel.ACKNOWLEDGEMENT,
        accepted_by=world.people["admin"],
    )
    TermsAcceptance.objects.create(
        employer=world.other, terms_version=second, channel=TermsAcceptance.Channel.PAPER
    )
    expected = [
        (
            a.terms_version.version,
            a.accepted_at,
            a.get_channel_display(),
            a.accepted_by.full_name if a.accepted_by else "",
        )
        for a in employer.terms_acceptances.select_related("terms_version", "accepted_by")
    ]
    found = [
        (a.version, a.accepted_at, a.channel_label, a.accepted_by)
        for a in selectors.page_facts(employer).acceptances
    ]
    assert found == expected
    assert [version for version, *_rest in found] == ["2026-2", "2026-1"]
    assert found[1][3] == ""
    assert found[0][1].tzinfo is not None


def test_the_open_request_to_leave_is_the_received_or_held_one() -> None:
    world = build_world()
    employer = world.employer
    assert selectors.page_facts(employer).open_deregistration is None
    DeregistrationRequest.objects.create(
        employer=employer, channel="eservice", state="processed", received_on=date(2026, 1, 5)
    )
    assert selectors.page_facts(employer).open_deregistration is None
    held = DeregistrationRequest.objects.create(
        employer=employer, channel="eservice", state="held", received_on=date(2026, 3, 5)
    )
    assert selectors.page_facts(employer).open_deregistration == date(2026, 3, 5)
    assert selectors.page_facts(world.other).open_deregistration is None
    DeregistrationRequest.objects.filter(pk=held.pk).update(state="received")
    assert selectors.page_facts(employer).open_deregistration == date(2026, 3, 5)


def test_the_facts_are_one_statement_and_each_part_keeps_its_own_order() -> None:
    from django.db import connection  # noqa: PLC0415
    from django.test.utils import CaptureQueriesContext  # noqa: PLC0415

    world = build_world()
    employer = world.employer
    for surname in ("Öberg", "Andersson", "Lind"):
        membership(employer, PersonFactory(surname=surname), Role.ADMINISTRATOR)
    version = _terms_version("2026-1")
    for days in (3, 1, 2):
        TermsAcceptance.objects.create(
            employer=employer,
            terms_version=version,
            channel=TermsAcceptance.Channel.PAPER,
            accepted_at=timezone.now() - timedelta(days=days),
        )
    DeregistrationRequest.objects.create(
        employer=employer, channel="eservice", state="received", received_on=date(2026, 2, 1)
    )
    with CaptureQueriesContext(connection) as asked:
        facts = selectors.page_facts(employer)
    assert len(asked) == 1
    assert facts.administrators == _orm_administrators(employer)
    assert [a.accepted_at for a in facts.acceptances] == sorted(
        (a.accepted_at for a in facts.acceptances), reverse=True
    )
    assert len(facts.acceptances) == 3
    assert facts.open_deregistration == date(2026, 2, 1)
    # Nothing of any part: an employer of no one.
    empty = Employer.objects.create(organisation_number="5599067891", name="Tomma AB")
    assert selectors.page_facts(empty) == selectors.PageFacts([], [], None)


def _number(n: int) -> str:
    """A fictional, valid personal identity number, different for each ``n`` below 365 000."""
    born = date(1940, 1, 1) + timedelta(days=n // 1000)
    base = f"{born:%y%m%d}{n % 1000:03d}"
    return f"{born:%Y}"[:2] + base + luhn.calc_check_digit(base)


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("read", "begins"),
    [
        (selectors.page_facts, "SELECT 'a', ROW_NUMBER()"),
        (administrators_reachable, 'SELECT m."id", m."employer_id"'),
    ],
    ids=["the employer's page", "the administrators to tell"],
)
def test_postgresql_plans_a_read_of_administrators_once(read: Any, begins: str) -> None:
    """A prepared statement that reads administrators settles on one plan: with the role a
    parameter, PostgreSQL priced its plan for any role above one for the administrators (few among
    an employer's many users) and planned the statement anew on every run. (``make bench-pages``
    counts such statements for every page of the mixed workload: its ``replans`` column.)"""
    from django.db import connection  # noqa: PLC0415

    # Employers as the portal has them: many people, two administrators and many users each.
    people = Person.objects.bulk_create(
        Person(personal_number=_number(n), given_name="Test", surname=f"Testsson {n}")
        for n in range(4000)
    )
    employers = Employer.objects.bulk_create(
        Employer(organisation_number=f"55990{n:04d}0", name=f"Bolag {n} AB") for n in range(20)
    )
    Membership.objects.bulk_create(
        Membership(
            employer=employers[n // 200],
            person=person,
            role=Role.ADMINISTRATOR if n % 200 < 2 else Role.USER,
            reason="test",
        )
        for n, person in enumerate(people)
    )
    employer = employers[7]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE access_membership")
        cursor.execute("ANALYZE identity_person")
    assert connection.connection.prepare_threshold is not None
    # Prepared after the threshold's runs, then five plans for the values, then three more runs.
    for _ in range(connection.connection.prepare_threshold + 5 + 3):
        read(employer)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE %s",
            [begins + "%%"],
        )
        [(generic, custom)] = cursor.fetchall()
    # The generic plan, once PostgreSQL had weighed it, for every later run.
    assert (custom, generic) == (5, 3)
