"""Paper enrolment: entered by one case worker, approved by another (four eyes)."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from portal.access.models import Membership, Role
from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.employers.constants import EmployerState
from portal.employers.models import Employer, Enrolment
from portal.messaging.models import OutboxMessage
from portal.terms.models import TermsAcceptance
from tests.employers.test_enrolment import _setup, logged_in  # noqa: F401

pytestmark = pytest.mark.django_db

FORM = {
    "organisation_number": "559902-3453",
    "signatories": "19800101-1231, 19850315-2343",
    "administrator_personal_number": "19900622-3458",
    "administrator_email": "cecilia@exempel.se",
    "received_on": "2026-11-20",
    "case_number": "2026/1001",
    "scan_reference": "arkiv://blanketter/2026/1001.pdf",
}


@pytest.fixture
def case_workers() -> tuple[Client, Client]:
    call_command("staff_grant", "19121212-1212", "case_worker")
    call_command("staff_grant", "19700163-2392", "case_worker")
    return logged_in("191212121212"), _dragan()


def _dragan() -> Client:
    from portal.identity.models import Person  # noqa: PLC0415

    person = Person.objects.get(personal_number="197001632392")
    client = Client()
    client.force_login(person)
    return client


def test_one_enters_the_form_another_approves_it(case_workers: tuple[Client, Client]) -> None:
    first, second = case_workers
    response = first.post("/handlaggning/blanketter/", FORM)
    enrolment = Enrolment.objects.get()
    assert response["Location"] == f"/handlaggning/blanketter/{enrolment.public_id}/"
    assert (enrolment.channel, enrolment.state) == ("paper", "awaiting_approval")
    employer = Employer.objects.get()
    assert employer.state == EmployerState.PENDING

    # The one who entered it cannot approve it.
    page = first.get(f"/handlaggning/blanketter/{enrolment.public_id}/").content.decode()
    assert "En annan handläggare granskar" in page
    assert first.post(f"/handlaggning/blanketter/{enrolment.public_id}/").status_code == 403
    enrolment.refresh_from_db()
    assert enrolment.state == Enrolment.State.AWAITING_APPROVAL

    second.post(f"/handlaggning/blanketter/{enrolment.public_id}/")
    enrolment.refresh_from_db()
    employer.refresh_from_db()
    assert enrolment.state == Enrolment.State.COMPLETED
    assert enrolment.approved_by is not None
    assert employer.state == EmployerState.ACTIVE
    membership = Membership.objects.get(employer=employer)
    assert (membership.person.personal_number, membership.role) == (
        "199006223458",
        Role.ADMINISTRATOR,
    )
    acceptance = TermsAcceptance.objects.get(employer=employer)
    assert acceptance.channel == TermsAcceptance.Channel.PAPER
    assert (
        OutboxMessage.objects.get(template="enrolment_completed").recipient_email
        == "cecilia@exempel.se"
    )
    completed = AuditEvent.objects.get(event_type=EventType.ENROLMENT_COMPLETED)
    assert completed.actor is not None
    assert completed.actor.personal_number == "197001632392"


def test_signatures_that_do_not_satisfy_the_register_are_refused(
    case_workers: tuple[Client, Client],
) -> None:
    first, _second = case_workers
    response = first.post("/handlaggning/blanketter/", {**FORM, "signatories": "19800101-1231"})
    assert response.status_code == 400
    assert "räcker inte för att teckna firman" in response.content.decode()
    assert not Enrolment.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("organisation_number", "123", "organisationsnummer"),
        ("signatories", "19800101-1231, nonsense", "är inte ett giltigt personnummer"),
        ("administrator_personal_number", "19121212-1213", "Personnumret är inte giltigt"),
        ("received_on", "2999-01-01", "kan inte ligga i framtiden"),
        ("administrator_email", "x", "e-post"),
    ],
)
def test_bad_input_gets_a_field_error(
    case_workers: tuple[Client, Client], field: str, value: str, message: str
) -> None:
    first, _second = case_workers
    response = first.post("/handlaggning/blanketter/", {**FORM, field: value})
    assert response.status_code == 400
    assert message.lower() in response.content.decode().lower()
    assert not Enrolment.objects.exists()


def test_a_double_submit_creates_one_enrolment(case_workers: tuple[Client, Client]) -> None:
    first, _second = case_workers
    first.post("/handlaggning/blanketter/", FORM)
    again = first.post("/handlaggning/blanketter/", FORM)
    assert again.status_code == 400
    assert "pågår redan" in again.content.decode()
    assert Enrolment.objects.count() == 1


def test_without_the_role_the_forms_are_closed() -> None:
    assert logged_in("198001011231").get("/handlaggning/blanketter/").status_code == 403
