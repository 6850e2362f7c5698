"""De-registration at the employer's request (R17), and the authorisation it rests on."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from portal.access.constants import Permission
from portal.access.models import Membership
from portal.access.services import can
from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.employers.constants import EmployerState
from portal.employers.models import DeregistrationRequest, Employer
from portal.employers.tasks import process_deregistration
from portal.messaging.models import OutboxMessage
from tests.employers.test_enrolment import SOLE, TOLVAN, _setup, details, logged_in, sign  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def connected(bankid: Any) -> tuple[Client, Employer]:
    """Exempelbolaget i Sundsvall AB, connected by Tolvan, who is its administrator."""
    tolvan = logged_in(TOLVAN)
    sign(
        tolvan,
        bankid,
        tolvan.post(f"/anslut/{SOLE}/", details(administrator_email="tolvan@exempel.se")),
        TOLVAN,
    )
    employer = Employer.objects.get(organisation_number=SOLE)
    assert employer.state == EmployerState.ACTIVE
    return tolvan, employer


def events(event_type: EventType) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event_type).order_by("id"))


def test_an_administrator_deregisters_the_employer(
    connected: tuple[Client, Employer], bankid: Any
) -> None:
    tolvan, employer = connected
    page = tolvan.get(f"/arbetsgivare/{employer.public_id}/").content.decode()
    assert "Begär avregistrering" in page
    assert "2026-06" in page  # the accepted terms version
    explain = tolvan.get(f"/arbetsgivare/{employer.public_id}/avregistrera/").content.decode()
    assert "alla behörigheter hos den, även din" in explain

    done = sign(
        tolvan, bankid, tolvan.post(f"/arbetsgivare/{employer.public_id}/avregistrera/"), TOLVAN
    )
    assert done["Location"] == f"/arbetsgivare/{employer.public_id}/"
    employer.refresh_from_db()
    assert employer.state == EmployerState.DEREGISTRATION_REQUESTED
    request = DeregistrationRequest.objects.get()
    assert request.signature is not None
    assert "Avregistrera Exempelbolaget" in request.signature.visible_text
    assert "behandlas nu" in tolvan.get(f"/arbetsgivare/{employer.public_id}/").content.decode()

    # The background task (enqueued after commit) de-registers within minutes.
    assert process_deregistration.call(str(request.public_id)) is True
    employer.refresh_from_db()
    assert employer.state == EmployerState.DEREGISTERED
    assert not Membership.objects.active().filter(employer=employer).exists()
    assert Membership.objects.get(employer=employer).end_reason == "employer-deregistered"
    mail = OutboxMessage.objects.get(template="deregistration_confirmed")
    assert mail.recipient_email == "tolvan@exempel.se"
    assert "avregistrerat" in mail.subject
    assert f"/avregistreringar/{request.public_id}/" in mail.body_text
    letter = tolvan.get(f"/avregistreringar/{request.public_id}/").content.decode()
    assert "Bekräftelse av avregistrering" in letter
    assert "avregistrerades från e-tjänster för arbetsgivare" in letter
    for kind in (
        EventType.DEREGISTRATION_REQUESTED,
        EventType.MEMBERSHIP_ENDED,
        EventType.DEREGISTRATION_PROCESSED,
    ):
        assert events(kind), kind


def test_the_employer_is_gone_from_every_session_at_the_next_request(
    connected: tuple[Client, Employer], bankid: Any
) -> None:
    tolvan, employer = connected
    assert tolvan.get(f"/arbetsgivare/{employer.public_id}/").status_code == 200
    sign(tolvan, bankid, tolvan.post(f"/arbetsgivare/{employer.public_id}/avregistrera/"), TOLVAN)
    process_deregistration.call(str(DeregistrationRequest.objects.get().public_id))
    response = tolvan.get(f"/arbetsgivare/{employer.public_id}/")
    assert response.status_code == 403
    assert events(EventType.ACCESS_DENIED)[-1].data == {"action": "employers:employer:view"}
    assert (
        "Exempelbolaget"
        not in tolvan.get("/arbetsgivare/")
        .content.decode()
        .split("<main")[1]
        .split("Anslut ditt")[0]
    )


def test_processing_twice_does_nothing_the_second_time(
    connected: tuple[Client, Employer], bankid: Any
) -> None:
    tolvan, employer = connected
    sign(tolvan, bankid, tolvan.post(f"/arbetsgivare/{employer.public_id}/avregistrera/"), TOLVAN)
    public_id = str(DeregistrationRequest.objects.get().public_id)
    assert process_deregistration.call(public_id) is True
    assert process_deregistration.call(public_id) is False
    assert OutboxMessage.objects.filter(template="deregistration_confirmed").count() == 1


def test_a_second_request_while_one_is_open_is_refused(
    connected: tuple[Client, Employer], bankid: Any
) -> None:
    tolvan, employer = connected
    sign(tolvan, bankid, tolvan.post(f"/arbetsgivare/{employer.public_id}/avregistrera/"), TOLVAN)
    sign(tolvan, bankid, tolvan.post(f"/arbetsgivare/{employer.public_id}/avregistrera/"), TOLVAN)
    assert DeregistrationRequest.objects.count() == 1
    assert events(EventType.DEREGISTRATION_REFUSED)[-1].data == {"reason": "already-requested"}


def test_someone_without_the_role_cannot_deregister(connected: tuple[Client, Employer]) -> None:
    _tolvan, employer = connected
    stranger = logged_in("198001011231")
    assert stranger.get(f"/arbetsgivare/{employer.public_id}/avregistrera/").status_code == 403
    assert stranger.post(f"/arbetsgivare/{employer.public_id}/avregistrera/").status_code == 403
    assert stranger.get(f"/arbetsgivare/{employer.public_id}/").status_code == 403
    assert len(events(EventType.ACCESS_DENIED)) == 3
    assert not DeregistrationRequest.objects.exists()


def test_the_letter_is_only_for_the_person_who_asked(
    connected: tuple[Client, Employer], bankid: Any
) -> None:
    tolvan, employer = connected
    sign(tolvan, bankid, tolvan.post(f"/arbetsgivare/{employer.public_id}/avregistrera/"), TOLVAN)
    request = DeregistrationRequest.objects.get()
    assert (
        logged_in("198001011231").get(f"/avregistreringar/{request.public_id}/").status_code == 404
    )


def test_a_deregistered_employer_can_be_connected_again(
    connected: tuple[Client, Employer], bankid: Any
) -> None:
    tolvan, employer = connected
    sign(tolvan, bankid, tolvan.post(f"/arbetsgivare/{employer.public_id}/avregistrera/"), TOLVAN)
    process_deregistration.call(str(DeregistrationRequest.objects.get().public_id))
    sign(tolvan, bankid, tolvan.post(f"/anslut/{SOLE}/", details()), TOLVAN)
    employer.refresh_from_db()
    assert employer.state == EmployerState.ACTIVE
    assert Membership.objects.active().filter(employer=employer).count() == 1


def test_can_decides_from_the_database_on_every_call(connected: tuple[Client, Employer]) -> None:
    _tolvan, employer = connected
    membership = Membership.objects.get(employer=employer)
    person = membership.person
    assert can(person, Permission.EMPLOYER_DEREGISTER, employer=employer)
    assert not can(None, Permission.EMPLOYER_VIEW, employer=employer)
    assert not can(person, Permission.EMPLOYER_VIEW, employer=None)
    Membership.objects.filter(pk=membership.pk).update(ended_at=membership.created_at)
    assert not can(person, Permission.EMPLOYER_VIEW, employer=employer)
