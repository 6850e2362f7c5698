"""Support look-ups (R11): the partner customer centre looks up an employer or a person, each
look-up with a reason and audited, and can send a confirmation again, but cannot change access."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from portal.access.constants import STAFF_PERMISSIONS, Permission
from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.employers.models import Enrolment
from portal.identity.models import EidTransaction, Login, Person
from portal.messaging.models import OutboxMessage
from portal.messaging.services import outbox_enqueue
from portal.terms.models import TermsAcceptance, TermsVersion
from tests.access.world import World, events
from tests.access.world import logged_in as client_for

pytestmark = pytest.mark.django_db


def number_of(person: Person) -> str:
    assert person.personal_number is not None
    return person.personal_number


def assert_no_personal_numbers_in_the_log(*numbers: str) -> None:
    for event in AuditEvent.objects.all():
        written = json.dumps(event.data) + event.object_id
        for number in numbers:
            assert number not in written, f"{event.event_type} holds a personal number"
            assert number[2:] not in written, f"{event.event_type} holds a personal number"


def login(person: Person, n: int) -> Login:
    order = EidTransaction.objects.create(
        purpose=EidTransaction.Purpose.LOGIN,
        provider="bankid",
        transaction_id=f"order-{person.pk}-{n}",
        status=EidTransaction.Status.COMPLETE,
        session_binding="x",
    )
    return Login.objects.create(person=person, transaction=order, issuer="bankid", assurance="loa3")


def terms() -> TermsVersion:
    return TermsVersion.objects.create(
        version="2026-06",
        title_sv="Villkor",
        title_en="Terms",
        text_sv="Text",
        text_en="Text",
        published_at=timezone.now(),
        effective_from=timezone.localdate(),
    )


def confirmation(world: World) -> OutboxMessage:
    """The connection's confirmation, as the enrolment sent it."""
    version = terms()
    TermsAcceptance.objects.create(
        employer=world.employer, terms_version=version, channel=TermsAcceptance.Channel.PAPER
    )
    enrolment = Enrolment.objects.create(
        employer=world.employer,
        channel=Enrolment.Channel.PAPER,
        state=Enrolment.State.COMPLETED,
        terms_version=version,
        administrator_personal_number=number_of(world.people["admin"]),
        administrator_email="admin@example.se",
        expires_at=timezone.now() + timedelta(days=30),
    )
    with transaction.atomic():
        return outbox_enqueue(
            template="enrolment_completed",
            to_email="admin@example.se",
            to_person=world.people["admin"],
            context={
                "employer": world.employer.name,
                "number": world.employer.formatted_number,
                "terms_version": version.version,
                "administrator_is_recipient": True,
                "new_administrator": False,
                "base_url": "https://portal.example",
            },
            related_object_type="enrolment",
            related_object_id=str(enrolment.public_id),
            idempotency_key=f"enrolment-completed:{enrolment.public_id}:admin@example.se",
        )


# --- what support may do ---------------------------------------------------------------------


def test_the_partner_customer_centre_cannot_change_access() -> None:
    granted = STAFF_PERMISSIONS["partner_support"]
    assert not any(str(p).startswith("access:") for p in granted), granted
    # Only looking and sending a confirmation again: no action that changes anything else.
    assert {str(p).rsplit(":", 1)[1] for p in granted} <= {"view", "resend"}, granted
    assert granted == {
        Permission.BACKOFFICE_HOME,
        Permission.BACKOFFICE_EMPLOYER_VIEW,
        Permission.BACKOFFICE_PERSON_VIEW,
        Permission.BACKOFFICE_CONFIRMATION_RESEND,
    }


def test_the_partner_customer_centre_is_refused_what_changes_access(world: World) -> None:
    support = client_for(world.people["staff:partner_support"])
    employer = world.employer.public_id
    assert (
        support.post(f"/handlaggning/arbetsgivare/{employer}/sag-upp", {"reason": "x"}).status_code
        == 403
    )
    assert support.get(f"/behorigheter/{employer}/").status_code in {403, 404}
    assert support.get("/handlaggning/personal/").status_code == 403


# --- looking an employer up ------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_employer_look_up_without_a_reason_is_refused(world: World, reason: str) -> None:
    support = client_for(world.people["staff:partner_support"])
    response = support.post(
        "/handlaggning/arbetsgivare/", {"organisation_number": "559901-1235", "reason": reason}
    )
    assert response.status_code == 400
    assert "Ange skälet till sökningen, till exempel ett ärendenummer." in response.content.decode()
    assert events(EventType.BACKOFFICE_LOOKUP) == []


def test_a_reason_is_written_down_with_personal_numbers_masked(world: World) -> None:
    support = client_for(world.people["staff:partner_support"])
    caller = number_of(world.people["admin"])
    written = f"{caller[2:8]}-{caller[8:]}"
    response = support.post(
        "/handlaggning/arbetsgivare/",
        {"organisation_number": "559901-1235", "reason": f"Samtal från {written}, ärende 2026/7"},
    )
    assert response.status_code == 302
    [lookup] = events(EventType.BACKOFFICE_LOOKUP)
    assert lookup.data == {"reason": f"Samtal från {caller[:8]}-****, ärende 2026/7", "found": True}
    assert_no_personal_numbers_in_the_log(caller)


def test_a_sole_trader_not_found_is_not_written_down_in_full(world: World) -> None:
    support = client_for(world.people["staff:partner_support"])
    response = support.post(
        "/handlaggning/arbetsgivare/",
        {"organisation_number": "19900622-3458", "reason": "Ärende 1"},
    )
    assert response.status_code == 400
    [lookup] = events(EventType.BACKOFFICE_LOOKUP)
    assert lookup.object_id == "19900622-****"
    assert lookup.data["found"] is False


def test_the_employer_page_shows_what_support_needs(world: World) -> None:
    confirmation(world)
    support = client_for(world.people["staff:partner_support"])
    page = support.get(
        f"/handlaggning/arbetsgivare/{world.employer.public_id}/?skal=Ärende 1"
    ).content.decode()
    admin = world.people["admin"]
    assert "Aktiv" in page or "Ansluten" in page
    assert "Godkänd version av villkoren" in page
    assert "2026-06" in page
    assert "Behörighetsadministratörer" in page
    assert admin.full_name in page
    assert admin.masked_identifier in page
    assert number_of(admin) not in page
    # A user who is not an administrator is not listed as one.
    assert world.people["user_submit"].full_name not in page
    assert "Senaste händelser" in page
    assert "Myndigheten visade arbetsgivarens uppgifter" in page
    assert "Skicka igen" in page
    [viewed] = events(EventType.BACKOFFICE_EMPLOYER_VIEWED)
    assert viewed.employer_ref == str(world.employer.public_id)


def test_the_recent_events_are_the_last_twenty(world: World) -> None:
    support = client_for(world.people["staff:partner_support"])
    for _ in range(25):
        support.get(f"/handlaggning/arbetsgivare/{world.employer.public_id}/?skal=Ärende 1")
    page = support.get(
        f"/handlaggning/arbetsgivare/{world.employer.public_id}/?skal=Ärende 1"
    ).content.decode()
    table = page.split("Senaste händelser", 1)[1]
    assert table.count("<time ") == 20


def test_an_auditor_sees_the_employer_but_cannot_resend(world: World) -> None:
    confirmation(world)
    auditor = client_for(world.people["staff:auditor"])
    page = auditor.get(
        f"/handlaggning/arbetsgivare/{world.employer.public_id}/?skal=Ärende 1"
    ).content.decode()
    assert "Behörighetsadministratörer" in page
    assert "Skicka igen" not in page


# --- looking a person up ---------------------------------------------------------------------


def test_a_person_look_up_without_a_reason_is_refused(world: World) -> None:
    support = client_for(world.people["staff:partner_support"])
    response = support.post(
        "/handlaggning/personer/", {"personal_number": number_of(world.people["user_submit"])}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Ange skälet till sökningen, till exempel ett ärendenummer." in page
    assert world.people["user_submit"].full_name not in page
    assert events(EventType.BACKOFFICE_PERSON_VIEWED) == []


def test_a_person_look_up_needs_a_valid_number(world: World) -> None:
    support = client_for(world.people["staff:partner_support"])
    response = support.post("/handlaggning/personer/", {"personal_number": "1234", "reason": "x"})
    assert response.status_code == 400
    assert "Personnumret är inte giltigt." in response.content.decode()
    assert events(EventType.BACKOFFICE_PERSON_VIEWED) == []


@pytest.mark.parametrize("role", ["partner_support", "case_worker", "auditor"])
def test_a_person_look_up_shows_memberships_grants_and_logins(world: World, role: str) -> None:
    person = world.people["user_submit"]
    login(person, 1)
    login(person, 2)
    staff = world.people[f"staff:{role}"]
    number = number_of(person)
    response = client_for(staff).post(
        "/handlaggning/personer/",
        {"personal_number": f"{number[2:8]}-{number[8:]}", "reason": "Ärende 2026/9"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert person.full_name in page
    assert person.masked_identifier in page
    assert number not in page
    assert world.employer.name in page
    assert "Användare" in page
    assert "Sjukanmälan" in page or "sick_report" in page
    assert page.count("bankid") >= 2
    [viewed] = events(EventType.BACKOFFICE_PERSON_VIEWED)
    assert viewed.actor == staff
    assert viewed.actor_kind == "staff"
    assert viewed.object_type == "person"
    assert viewed.object_id == str(person.public_id)
    assert viewed.data == {"reason": "Ärende 2026/9", "found": True}
    assert_no_personal_numbers_in_the_log(number)


def test_a_person_not_found_is_said_so_and_recorded(world: World) -> None:
    support = client_for(world.people["staff:partner_support"])
    response = support.post(
        "/handlaggning/personer/", {"personal_number": "19900622-3458", "reason": "Samtal"}
    )
    assert response.status_code == 400
    assert "Ingen person med det personnumret finns i portalen." in response.content.decode()
    [viewed] = events(EventType.BACKOFFICE_PERSON_VIEWED)
    assert viewed.data == {"reason": "Samtal", "found": False}
    assert_no_personal_numbers_in_the_log("199006223458")


@pytest.mark.parametrize(
    "actor",
    ["admin", "user_submit", "staff:terms_editor", "staff:operations", "staff:staff_administrator"],
)
def test_others_cannot_look_people_up(world: World, actor: str) -> None:
    client = client_for(world.people[actor])
    before = len(events(EventType.ACCESS_DENIED))
    response = client.post(
        "/handlaggning/personer/",
        {"personal_number": number_of(world.people["user_view"]), "reason": "x"},
    )
    assert response.status_code == 403
    assert world.people["user_view"].full_name not in response.content.decode()
    assert len(events(EventType.ACCESS_DENIED)) == before + 1


# --- sending a confirmation again ------------------------------------------------------------


def test_support_sends_a_confirmation_again_with_the_same_content(world: World) -> None:
    original = confirmation(world)
    staff = world.people["staff:partner_support"]
    response = client_for(staff).post(
        f"/handlaggning/bekraftelser/{original.public_id}/skicka-igen"
    )
    assert response["Location"] == f"/handlaggning/arbetsgivare/{world.employer.public_id}/"
    copy = OutboxMessage.objects.exclude(pk=original.pk).get()
    assert (copy.recipient_email, copy.recipient_person, copy.template) == (
        original.recipient_email,
        original.recipient_person,
        original.template,
    )
    assert (copy.subject, copy.body_text, copy.body_html) == (
        original.subject,
        original.body_text,
        original.body_html,
    )
    assert copy.idempotency_key is None
    [resent] = events(EventType.CONFIRMATION_RESENT)
    assert resent.actor == staff
    assert resent.employer_ref == str(world.employer.public_id)
    assert resent.data == {"template": "enrolment_completed", "copy": str(copy.public_id)}
    assert_no_personal_numbers_in_the_log(number_of(world.people["admin"]))


def test_only_confirmations_can_be_sent_again(world: World) -> None:
    with transaction.atomic():
        other = outbox_enqueue(
            template="termination_notified",
            to_email="admin@example.se",
            context={"employer": "x", "number": "x", "effective_on": "x", "reason": "x"},
            related_object_type="employer",
            related_object_id=str(world.employer.public_id),
        )
    support = client_for(world.people["staff:partner_support"])
    response = support.post(f"/handlaggning/bekraftelser/{other.public_id}/skicka-igen")
    assert response.status_code == 404
    assert OutboxMessage.objects.count() == 1
    assert events(EventType.CONFIRMATION_RESENT) == []


@pytest.mark.parametrize("actor", ["staff:auditor", "staff:terms_editor", "admin"])
def test_others_cannot_send_confirmations_again(world: World, actor: str) -> None:
    original = confirmation(world)
    response = client_for(world.people[actor]).post(
        f"/handlaggning/bekraftelser/{original.public_id}/skicka-igen"
    )
    assert response.status_code == 403
    assert OutboxMessage.objects.count() == 1


def test_an_employer_is_shown_only_with_a_reason(world: World) -> None:
    support = client_for(world.people["staff:partner_support"])
    page = f"/handlaggning/arbetsgivare/{world.employer.public_id}/"
    asked = support.get(page)
    assert asked.status_code == 200
    assert "Skäl för att visa arbetsgivaren" in asked.content.decode()
    assert world.employer.name not in asked.content.decode()
    assert support.get(page + "?skal=").status_code == 400
    shown = support.get(page + "?skal=Samtal 19121212-1212 om behörighet")
    assert world.employer.name in shown.content.decode()
    event = AuditEvent.objects.filter(event_type=EventType.BACKOFFICE_EMPLOYER_VIEWED).get()
    assert event.data["reason"] == "Samtal 19121212-**** om behörighet"
    # The reason holds for the rest of the session (pages that actions return to).
    assert world.employer.name in support.get(page).content.decode()
