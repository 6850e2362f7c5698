"""Administrators' e-mail subscriptions to the availability notices (R15): who may subscribe, the
audit of subscribing, and who gets which e-mail when outages and incidents change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from portal.access.models import Membership, Role
from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.common.errors import PermissionDeniedError
from portal.employers.constants import EmployerState
from portal.employers.models import Employer
from portal.messaging.models import OutboxMessage
from portal.notices.models import NoticeSubscription, Outage
from portal.notices.services import (
    InvalidNotice,
    incident_close,
    incident_declare,
    outage_cancel,
    outage_plan,
)
from portal.notices.subscriptions import NoAddress, outage_notify, subscription_set
from tests.access.world import World, build_world, grant, membership
from tests.factories import PersonFactory


@pytest.fixture
def world(db: Any) -> World:
    world = build_world()
    # The other employer uses another e-service than the first one's sick_report.
    other_user = PersonFactory(given_name="Grannanvändare")
    grant(membership(world.other, other_user, Role.USER), eservice="work_aids")
    return world


def _url(world: World) -> str:
    return reverse("notices:subscription", kwargs={"public_id": world.employer.public_id})


def _client(world: World, who: str) -> Client:
    client = Client()
    client.force_login(world.people[who])
    return client


def _subscribe(world: World, who: str = "admin", *, at: str = "employer") -> NoticeSubscription:
    employer = world.employer if at == "employer" else world.other
    assert subscription_set(person=world.people[who], employer=employer, on=True)
    return NoticeSubscription.objects.get(person=world.people[who], employer=employer)


def _plan(world: World, codes: list[str] | None = None, **kwargs: Any) -> Outage:
    starts = timezone.now() + timedelta(days=2)
    values: dict[str, Any] = {
        "eservice_codes": ["sick_report"] if codes is None else codes,
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=2),
        "title_sv": "Uppgradering av e-tjänsten",
        "title_en": "Upgrade of the e-service",
    }
    values.update(kwargs)
    return outage_plan(**values, actor=world.people["staff:operations"])


def _mails(template: str | None = None) -> list[OutboxMessage]:
    messages = OutboxMessage.objects.filter(template__startswith="notices_").order_by("pk")
    if template is not None:
        messages = messages.filter(template=template)
    return list(messages)


# --- who may subscribe ---------------------------------------------------------------------


@pytest.mark.parametrize("who", ["user_none", "user_view", "user_submit", "other_admin"])
def test_only_the_employers_administrators_reach_the_page(world: World, who: str) -> None:
    before = AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).count()
    client = _client(world, who)
    assert client.get(_url(world)).status_code == 403
    assert client.post(_url(world), {"subscribe": "on"}).status_code == 403
    assert AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).count() == before + 2
    assert not NoticeSubscription.objects.exists()


def test_staff_cannot_subscribe_for_an_employer(world: World) -> None:
    client = _client(world, "staff:operations")
    assert client.post(_url(world), {"subscribe": "on"}).status_code == 403
    assert not NoticeSubscription.objects.exists()


def test_the_service_refuses_a_user_too(world: World) -> None:
    with pytest.raises(PermissionDeniedError):
        subscription_set(person=world.people["user_submit"], employer=world.employer, on=True)
    assert not NoticeSubscription.objects.exists()
    assert AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).exists()


def test_the_employer_page_links_the_administrator_to_the_page(world: World) -> None:
    page = reverse("employers:employer", kwargs={"public_id": world.employer.public_id})
    assert _url(world) in _client(world, "admin").get(page).content.decode()
    assert _url(world) not in _client(world, "user_submit").get(page).content.decode()


# --- subscribing and unsubscribing -----------------------------------------------------------


def test_an_administrator_subscribes_and_unsubscribes_each_audited(world: World) -> None:
    client = _client(world, "admin")
    page = client.get(_url(world))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Du prenumererar inte" in body
    assert "Sjukanmälan efter dag 14" in body  # the e-service the employer uses

    response = client.post(_url(world), {"subscribe": "on"})
    assert response.status_code == 302
    subscription = NoticeSubscription.objects.get()
    assert (subscription.person, subscription.employer) == (
        world.people["admin"],
        world.employer,
    )
    event = AuditEvent.objects.get(event_type=EventType.NOTICE_SUBSCRIBED)
    assert event.actor == world.people["admin"]
    assert event.employer_ref == str(world.employer.public_id)
    assert world.people["admin"].email in client.get(_url(world)).content.decode()

    # Subscribing again changes nothing and records nothing.
    assert client.post(_url(world), {"subscribe": "on"}).status_code == 302
    assert NoticeSubscription.objects.count() == 1
    assert AuditEvent.objects.filter(event_type=EventType.NOTICE_SUBSCRIBED).count() == 1

    assert client.post(_url(world), {"subscribe": "off"}).status_code == 302
    assert not NoticeSubscription.objects.exists()
    ended = AuditEvent.objects.get(event_type=EventType.NOTICE_UNSUBSCRIBED)
    assert ended.employer_ref == str(world.employer.public_id)
    assert ended.data["subscription"] == subscription.pk


def test_a_post_without_a_choice_is_refused_with_a_message(world: World) -> None:
    response = _client(world, "admin").post(_url(world), {})
    assert response.status_code == 400
    assert "Välj om du vill få driftmeddelanden." in response.content.decode()
    assert not NoticeSubscription.objects.exists()


def test_an_administrator_without_an_address_cannot_subscribe(world: World) -> None:
    admin = world.people["admin"]
    Membership.objects.filter(person=admin).update(email="")
    admin.email = ""
    admin.save(update_fields=["email"])
    response = _client(world, "admin").post(_url(world), {"subscribe": "on"})
    assert response.status_code == 400
    assert "ingen e-postadress" in response.content.decode()
    assert not NoticeSubscription.objects.exists()
    assert not AuditEvent.objects.filter(event_type=EventType.NOTICE_SUBSCRIBED).exists()
    with pytest.raises(NoAddress):
        subscription_set(person=admin, employer=world.employer, on=True)


def test_the_subscription_keeps_the_language_it_was_made_in(world: World) -> None:
    with translation.override("en"):
        subscription = _subscribe(world)
    assert subscription.language == "en"
    _plan(world)
    (mail,) = _mails()
    assert mail.language == "en"
    assert "Upgrade of the e-service" in mail.subject


# --- who gets which e-mail -----------------------------------------------------------------


def test_planning_mails_the_subscribers_of_employers_that_use_the_eservice(world: World) -> None:
    admin_subscription = _subscribe(world)
    _subscribe(world, "other_admin", at="other")
    outage = _plan(world, codes=["sick_report"])
    (mail,) = _mails("notices_outage_planned")
    assert mail.recipient_person == world.people["admin"]
    assert mail.recipient_email == world.people["admin"].email
    assert mail.language == "sv"
    assert mail.related_object_type == "outage"
    assert mail.related_object_id == str(outage.public_id)
    assert mail.idempotency_key == (
        f"notices:outage_planned:{outage.public_id}:{admin_subscription.pk}"
    )
    assert "Uppgradering av e-tjänsten" in mail.subject
    assert world.employer.name in mail.body_text
    assert timezone.localtime(outage.starts_at).strftime("%Y-%m-%d %H:%M") in mail.body_text
    assert _url(world) in mail.body_text
    for person in world.people.values():
        assert person.personal_number not in mail.subject + mail.body_text


def test_an_outage_of_every_eservice_reaches_every_subscriber(world: World) -> None:
    _subscribe(world)
    _subscribe(world, "other_admin", at="other")
    _plan(world, codes=[])
    recipients = {mail.recipient_person for mail in _mails("notices_outage_planned")}
    assert recipients == {world.people["admin"], world.people["other_admin"]}


def test_an_outage_of_an_eservice_no_one_uses_sends_nothing(world: World) -> None:
    _subscribe(world)
    _subscribe(world, "other_admin", at="other")
    _plan(world, codes=["rehab_support"])
    assert _mails() == []


def test_an_administrator_who_did_not_subscribe_gets_nothing(world: World) -> None:
    _plan(world)
    assert _mails() == []


def test_cancelling_mails_the_subscribers(world: World) -> None:
    _subscribe(world)
    outage = _plan(world)
    outage_cancel(outage=outage, actor=world.people["staff:operations"])
    (mail,) = _mails("notices_outage_cancelled")
    assert mail.recipient_person == world.people["admin"]
    assert "Inställt avbrott" in mail.subject
    assert "inställt" in mail.body_text
    assert len(_mails()) == 2


def test_declaring_and_closing_an_incident_mail_the_subscribers(world: World) -> None:
    _subscribe(world)
    _subscribe(world, "other_admin", at="other")
    incident = incident_declare(
        eservice_codes=["work_aids"],
        title_sv="Långsamma svar",
        closes_eservices=True,
        actor=world.people["staff:operations"],
    )
    (declared,) = _mails("notices_incident_declared")
    assert declared.recipient_person == world.people["other_admin"]
    assert "Driftstörning: Långsamma svar" in declared.subject
    assert "stängda" in declared.body_text
    incident_close(incident=incident, actor=world.people["staff:operations"])
    (closed,) = _mails("notices_incident_closed")
    assert closed.recipient_person == world.people["other_admin"]


def test_an_ex_administrator_gets_nothing(world: World) -> None:
    _subscribe(world)
    Membership.objects.filter(person=world.people["admin"], role=Role.ADMINISTRATOR).update(
        ended_at=timezone.now()
    )
    _plan(world)
    assert _mails() == []
    # The subscription stays, but only sends while the person is administrator.
    assert NoticeSubscription.objects.count() == 1


def test_nothing_is_sent_for_an_employer_that_is_no_longer_connected(world: World) -> None:
    _subscribe(world)
    # Directly, as the state machine's own tests do (its transitions are not the point here).
    Employer.objects.filter(pk=world.employer.pk).update(state=EmployerState.DEREGISTERED)
    _plan(world, codes=[])
    assert _mails() == []


def test_nothing_is_sent_when_planning_fails_validation(world: World) -> None:
    _subscribe(world)
    with pytest.raises(InvalidNotice):
        _plan(world, title_sv="")
    starts = timezone.now() + timedelta(days=2)
    _plan(world, starts_at=starts, ends_at=starts + timedelta(hours=2))
    OutboxMessage.objects.all().delete()
    with pytest.raises(InvalidNotice, match="överlappar"):
        _plan(world, starts_at=starts + timedelta(hours=1), ends_at=starts + timedelta(hours=3))
    assert Outage.objects.count() == 1
    assert _mails() == []


def test_a_second_run_sends_nothing_twice(world: World) -> None:
    _subscribe(world)
    outage = _plan(world)
    from django.db import transaction  # noqa: PLC0415

    with transaction.atomic():
        outage_notify(outage)
    assert len(_mails("notices_outage_planned")) == 1
