"""Termination by the agency (R17): staff give notice, administrators are told, access ends by
itself on the date, and staff can withdraw it before then."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from portal.access.models import Membership
from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.backoffice.models import StaffRole
from portal.employers.constants import EmployerState
from portal.employers.models import Employer, Termination
from portal.employers.tasks import terminate_employer
from portal.employers.termination import add_months
from portal.messaging.models import OutboxMessage
from tests.employers.test_enrolment import SOLE, TOLVAN, _setup, details, logged_in, sign  # noqa: F401

pytestmark = pytest.mark.django_db

CASE_WORKER = "199006223458"  # Cecilia, staff at the agency in this test


@pytest.fixture
def connected(bankid: Any) -> tuple[Client, Employer]:
    tolvan = logged_in(TOLVAN)
    sign(
        tolvan,
        bankid,
        tolvan.post(f"/anslut/{SOLE}/", details(administrator_email="tolvan@exempel.se")),
        TOLVAN,
    )
    return tolvan, Employer.objects.get(organisation_number=SOLE)


@pytest.fixture
def case_worker() -> Client:
    call_command("staff_grant", "19900622-3458", "case_worker")
    return logged_in(CASE_WORKER)


def events(event_type: EventType) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event_type).order_by("id"))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 28), date(2027, 2, 28)),
        (date(2026, 11, 30), date(2027, 2, 28)),
        (date(2027, 11, 30), date(2028, 2, 29)),
        (date(2026, 5, 31), date(2026, 8, 31)),
        (date(2026, 10, 15), date(2027, 1, 15)),
    ],
)
def test_three_months_notice(day: date, expected: date) -> None:
    assert add_months(day, 3) == expected


def test_a_case_worker_terminates_and_access_ends_on_the_date(
    connected: tuple[Client, Employer], case_worker: Client
) -> None:
    tolvan, employer = connected
    found = case_worker.post(
        "/handlaggning/arbetsgivare/",
        {"organisation_number": "559901-1235", "reason": "Ärende 2026/123"},
    )
    assert found["Location"] == f"/handlaggning/arbetsgivare/{employer.public_id}/"
    assert events(EventType.BACKOFFICE_LOOKUP)[0].data == {
        "reason": "Ärende 2026/123",
        "found": True,
    }
    page = case_worker.get(found["Location"]).content.decode()
    assert "Säg upp anslutningen" in page

    case_worker.post(
        f"/handlaggning/arbetsgivare/{employer.public_id}/sag-upp",
        {"reason": "Arbetsgivaren har upphört."},
    )
    termination = Termination.objects.get()
    assert termination.effective_on == add_months(timezone.localdate(), 3)
    employer.refresh_from_db()
    assert employer.state == EmployerState.TERMINATION_NOTIFIED
    mail = OutboxMessage.objects.get(template="termination_notified")
    assert mail.recipient_email == "tolvan@exempel.se"
    assert termination.effective_on.isoformat() in mail.body_text
    banner = tolvan.get("/").content.decode()
    assert "Anslutningen för Exempelbolaget i Sundsvall AB till e-tjänsterna är uppsagd" in banner
    # Still connected during the notice period.
    assert tolvan.get(f"/arbetsgivare/{employer.public_id}/").status_code == 200

    # The task scheduled for the date does nothing before it...
    assert terminate_employer.call(str(termination.public_id)) is False
    # ...and ends access on it.
    Termination.objects.filter(pk=termination.pk).update(effective_on=timezone.localdate())
    assert terminate_employer.call(str(termination.public_id)) is True
    employer.refresh_from_db()
    assert employer.state == EmployerState.TERMINATED
    assert not Membership.objects.active().filter(employer=employer).exists()
    assert tolvan.get(f"/arbetsgivare/{employer.public_id}/").status_code == 403
    for kind in (EventType.TERMINATION_NOTIFIED, EventType.TERMINATION_TOOK_EFFECT):
        assert events(kind)
    assert events(EventType.MEMBERSHIP_ENDED)[0].data["reason"] == "employer-terminated"


def test_a_termination_can_be_withdrawn_before_the_date(
    connected: tuple[Client, Employer], case_worker: Client
) -> None:
    _tolvan, employer = connected
    case_worker.post(
        f"/handlaggning/arbetsgivare/{employer.public_id}/sag-upp", {"reason": "Fel arbetsgivare."}
    )
    termination = Termination.objects.get()
    response = case_worker.post(
        f"/handlaggning/uppsagningar/{termination.public_id}/aterkalla", follow=True
    )
    assert "Uppsägningen är återkallad" in response.content.decode()
    employer.refresh_from_db()
    assert employer.state == EmployerState.ACTIVE
    Termination.objects.filter(pk=termination.pk).update(
        effective_on=timezone.localdate() - timedelta(days=1)
    )
    assert terminate_employer.call(str(termination.public_id)) is False
    employer.refresh_from_db()
    assert employer.state == EmployerState.ACTIVE
    assert events(EventType.TERMINATION_WITHDRAWN)


def test_without_a_staff_role_the_back_office_is_closed(connected: tuple[Client, Employer]) -> None:
    tolvan, employer = connected
    assert tolvan.get("/handlaggning/arbetsgivare/").status_code == 403
    assert (
        tolvan.post(
            f"/handlaggning/arbetsgivare/{employer.public_id}/sag-upp", {"reason": "x"}
        ).status_code
        == 403
    )
    assert not Termination.objects.exists()
    assert len(events(EventType.ACCESS_DENIED)) == 2


def test_a_revoked_role_takes_effect_at_once(
    connected: tuple[Client, Employer], case_worker: Client
) -> None:
    assert case_worker.get("/handlaggning/arbetsgivare/").status_code == 200
    StaffRole.objects.update(revoked_at=timezone.now())
    assert case_worker.get("/handlaggning/arbetsgivare/").status_code == 403


def test_a_missing_reason_terminates_nothing(
    connected: tuple[Client, Employer], case_worker: Client
) -> None:
    _tolvan, employer = connected
    case_worker.post(f"/handlaggning/arbetsgivare/{employer.public_id}/sag-upp", {"reason": ""})
    assert not Termination.objects.exists()


def test_a_lookup_needs_a_reason_and_a_valid_number(case_worker: Client) -> None:
    response = case_worker.post(
        "/handlaggning/arbetsgivare/", {"organisation_number": "123", "reason": ""}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="error-list portal-error-summary"' in html
    assert not events(EventType.BACKOFFICE_LOOKUP)


def test_a_written_deregistration_request_is_processed_like_one_from_the_portal(
    connected: tuple[Client, Employer], case_worker: Client
) -> None:
    from portal.employers.models import DeregistrationRequest  # noqa: PLC0415
    from portal.employers.tasks import process_deregistration  # noqa: PLC0415

    tolvan, employer = connected
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    case_worker.post(
        f"/handlaggning/arbetsgivare/{employer.public_id}/avregistrering",
        {"received_on": yesterday, "case_number": "2026/456"},
    )
    request = DeregistrationRequest.objects.get()
    assert (request.channel, request.state, request.case_number) == (
        "written",
        "received",
        "2026/456",
    )
    assert request.registered_by is not None
    employer.refresh_from_db()
    assert employer.state == EmployerState.DEREGISTRATION_REQUESTED
    assert process_deregistration.call(str(request.public_id)) is True
    employer.refresh_from_db()
    assert employer.state == EmployerState.DEREGISTERED
    assert (
        OutboxMessage.objects.get(template="deregistration_confirmed").recipient_email
        == "tolvan@exempel.se"
    )
    letter = case_worker.get(
        f"/handlaggning/avregistreringar/{request.public_id}/brev/"
    ).content.decode()
    assert "Begäran kom in skriftligen (ärende 2026/456)" in letter
    assert (
        tolvan.get(f"/handlaggning/avregistreringar/{request.public_id}/brev/").status_code == 403
    )


def test_a_flagged_written_request_waits_for_a_case_worker(
    connected: tuple[Client, Employer], case_worker: Client
) -> None:
    from portal.employers.models import DeregistrationRequest  # noqa: PLC0415
    from portal.employers.tasks import process_deregistration  # noqa: PLC0415

    _tolvan, employer = connected
    case_worker.post(
        f"/handlaggning/arbetsgivare/{employer.public_id}/avregistrering",
        {
            "received_on": timezone.localdate().isoformat(),
            "case_number": "2026/789",
            "hold_for_staff": "on",
        },
    )
    request = DeregistrationRequest.objects.get()
    assert request.state == "held"
    assert process_deregistration.call(str(request.public_id)) is False
    employer.refresh_from_db()
    assert employer.state == EmployerState.DEREGISTRATION_REQUESTED
    case_worker.post(f"/handlaggning/avregistreringar/{request.public_id}/genomfor")
    employer.refresh_from_db()
    assert employer.state == EmployerState.DEREGISTERED
    assert events(EventType.DEREGISTRATION_RELEASED)


@pytest.mark.parametrize(
    "data",
    [
        {"received_on": "2026-13-45", "case_number": "1"},
        {"received_on": "2999-01-01", "case_number": "1"},
        {"received_on": "2026-11-01", "case_number": ""},
    ],
)
def test_a_written_request_with_bad_input_registers_nothing(
    connected: tuple[Client, Employer], case_worker: Client, data: dict[str, str]
) -> None:
    from portal.employers.models import DeregistrationRequest  # noqa: PLC0415

    _tolvan, employer = connected
    response = case_worker.post(
        f"/handlaggning/arbetsgivare/{employer.public_id}/avregistrering", data, follow=True
    )
    assert response.status_code == 200
    assert not DeregistrationRequest.objects.exists()
    employer.refresh_from_db()
    assert employer.state == EmployerState.ACTIVE
