"""``portal load_demo_data``: the fictional people and the demo terms that ``make run`` needs so a
newcomer can log in and connect a fictional company at once, and one connected fictional employer
(Demobageriet HB) where Tolvan Tolvansson is access administrator, so the access administration
and the e-services can be tried without connecting first (with two open inquiries from the
agency). Safe to run again: nothing is created twice."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from portal import audit
from portal.audit.constants import EventType
from portal.identity.demo import DEMO_PEOPLE
from portal.identity.models import Person
from portal.terms.demo import DEMO_TERMS
from portal.terms.models import TermsVersion


class Command(BaseCommand):
    help = "Load the fictional demo data (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            people = sum(
                Person.objects.get_or_create(
                    personal_number=demo.personal_number,
                    defaults={
                        "given_name": demo.given_name,
                        "surname": demo.surname,
                        "email": demo.email,
                        "password": "!",  # unusable: nobody has a password
                    },
                )[1]
                for demo in DEMO_PEOPLE
            )
            terms = sum(
                TermsVersion.objects.get_or_create(
                    version=values["version"], defaults={**values, "published_at": timezone.now()}
                )[1]
                for values in DEMO_TERMS
            )
            employers = _demo_employer()
            if people or terms or employers:
                audit.record(
                    EventType.SYSTEM_DEMO_DATA_LOADED,
                    actor=None,
                    data={"people": people, "terms_versions": terms, "employers": employers},
                )
        self.stdout.write(
            f"Demo data: {people} new people, {terms} new terms versions, "
            f"{employers} new connected employers."
        )


#: The connected demo employer (in the fictional register) and its people.
DEMO_EMPLOYER = ("9699012341", "Demobageriet HB", "handelsbolag")
DEMO_ADMINISTRATOR = "191212121212"  # Tolvan, who is also a user
DEMO_USERS = {
    "191212121212": [("sick_report", "submit"), ("inquiries", "submit")],
    "198503152343": [  # Bertil
        ("sick_report", "submit"),
        ("inquiries", "view"),
        ("work_aids", "submit"),
    ],
    "199006223458": [("work_aids", "view")],  # Cecilia, until 30 days from now
}


def _demo_employer() -> int:
    """Connect Demobageriet HB (once) the way an enrolment would, with its access."""
    from datetime import timedelta  # noqa: PLC0415

    from portal.access import administration  # noqa: PLC0415
    from portal.access.administration import GrantSpec  # noqa: PLC0415
    from portal.access.models import Membership, Role  # noqa: PLC0415
    from portal.access.reviews import review_schedule  # noqa: PLC0415
    from portal.employers.constants import EmployerAction  # noqa: PLC0415
    from portal.employers.models import Employer  # noqa: PLC0415
    from portal.employers.state import transition  # noqa: PLC0415
    from portal.terms.models import TermsAcceptance  # noqa: PLC0415
    from portal.terms.selectors import current_version  # noqa: PLC0415

    number, name, legal_form = DEMO_EMPLOYER
    if Employer.objects.filter(organisation_number=number).exists():
        return 0
    terms = current_version()
    administrator = Person.objects.get(personal_number=DEMO_ADMINISTRATOR)
    employer = Employer.objects.create(organisation_number=number, name=name, legal_form=legal_form)
    transition(employer=employer, action=EmployerAction.START_ENROLMENT, actor=administrator)
    transition(employer=employer, action=EmployerAction.ACTIVATE, actor=administrator)
    employer.refresh_from_db()
    if terms is not None:
        TermsAcceptance.objects.create(
            employer=employer,
            terms_version=terms,
            channel=TermsAcceptance.Channel.ESERVICE,
            accepted_by=administrator,
        )
    membership = Membership.objects.create(
        employer=employer,
        person=administrator,
        role=Role.ADMINISTRATOR,
        email=administrator.email,
        reason="Demo: första behörighetsadministratör",
        created_by=administrator,
        last_reviewed_at=timezone.now(),
    )
    audit.record(
        EventType.MEMBERSHIP_CREATED,
        actor=administrator,
        object_type="employer",
        object_id=str(employer.public_id),
        data={"membership": membership.pk, "role": Role.ADMINISTRATOR, "person": administrator.pk},
    )
    until = timezone.localdate() + timedelta(days=30)
    for personal_number, grants in DEMO_USERS.items():
        person = Person.objects.get(personal_number=personal_number)
        specs = [
            GrantSpec(code, level, valid_until=until if code == "work_aids" else None)
            for code, level in grants
        ]
        if person == administrator:
            administration.role_add(
                employer=employer, person=person, role=Role.USER, reason="Demo", actor=administrator
            )
            for spec in specs:
                administration.grant_set(
                    employer=employer, person=person, spec=spec, reason="Demo", actor=administrator
                )
        else:
            administration.person_add(
                employer=employer,
                actor=administrator,
                personal_number=personal_number,
                email=person.email,
                administrator=False,
                user=True,
                grants=specs,
                reason="Demo",
            )
    review_schedule(employer=employer, actor=None)
    _demo_inquiries(employer)
    return 1


def _demo_inquiries(employer: Any) -> None:
    """Two open inquiries from the agency to Demobageriet, from a demo case system (the
    inquiries e-service's inbox)."""
    from datetime import timedelta  # noqa: PLC0415

    from portal.eservices.inquiries.services import inquiry_create  # noqa: PLC0415
    from portal.eservices.intake import intake_client_create  # noqa: PLC0415
    from portal.eservices.models import IntakeClient  # noqa: PLC0415

    name = "Demo: myndighetens handläggningssystem"
    client = IntakeClient.objects.filter(name=name).first() or intake_client_create(name=name)[0]
    today = timezone.localdate()
    inquiry_create(
        employer=employer,
        kind="income",
        employee_personal_number="198503152343",  # Bertil
        due_date=today + timedelta(days=10),
        question="Vilken lön och sysselsättningsgrad har Bertil i dag?",
        client=client,
    )
    inquiry_create(
        employer=employer,
        kind="absence",
        employee_personal_number="199006223458",  # Cecilia
        period_from=today - timedelta(days=60),
        period_to=today - timedelta(days=31),
        due_date=today + timedelta(days=2),
        client=client,
    )
