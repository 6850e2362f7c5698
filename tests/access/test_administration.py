"""Access administrators' pages and services: add, change, revoke, remove all, and the rules."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.access import administration
from portal.access.administration import GrantSpec, LastAdministrator
from portal.access.constants import Permission
from portal.access.models import Grant, Level, Membership, Role
from portal.access.services import can
from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.identity.models import Person
from portal.messaging.models import OutboxMessage
from tests.access.world import World, grant, membership
from tests.factories import PersonFactory

NEW_PERSON = "198503152343"


def _as(person: Person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def _url(name: str, world: World, **kwargs: Any) -> str:
    return reverse(name, kwargs={"public_id": world.employer.public_id, **kwargs})


def _events(event_type: EventType) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event_type).order_by("pk"))


def test_an_administrator_adds_a_user_with_grants(world: World) -> None:
    second_admin = PersonFactory(email="andra@example.se")
    membership(world.employer, second_admin, Role.ADMINISTRATOR, email="andra@example.se")
    response = _as(world.people["admin"]).post(
        _url("access:person-new", world),
        {
            "personal_number": "19850315-2343",
            "email": "bertil@example.se",
            "user": "on",
            "eservice_sick_report": "submit",
            "eservice_inquiries": "view",
            "eservice_work_aids": "",
            "valid_until": (timezone.localdate() + timedelta(days=90)).isoformat(),
            "reason": "Ny på löneavdelningen",
        },
    )
    person = Person.objects.get(personal_number=NEW_PERSON)
    assert response.status_code == 302
    assert response["Location"] == _url("access:person", world, person_id=person.public_id)
    assert person.full_name == ""  # confirmed from the e-ID at the first login
    user = Membership.objects.get(person=person, employer=world.employer)
    assert user.role == Role.USER
    assert user.email == "bertil@example.se"
    assert sorted(Grant.objects.filter(membership=user).values_list("eservice", "level")) == [
        ("inquiries", "view"),
        ("sick_report", "submit"),
    ]
    created = _events(EventType.GRANT_CREATED)
    assert len(created) == 2
    assert created[0].data["reason"] == "Ny på löneavdelningen"
    assert NEW_PERSON not in str([e.data for e in AuditEvent.objects.all()])
    # The other administrators are told; the one who made the change is not.
    mails = OutboxMessage.objects.filter(template="access_changed")
    assert [m.recipient_email for m in mails] == ["andra@example.se"]
    assert "se och lämna uppgifter i Sjukanmälan efter dag 14" in mails[0].body_text
    assert can(person, Permission.ESERVICE_SUBMIT, employer=world.employer, eservice="sick_report")
    assert not can(
        person, Permission.ESERVICE_SUBMIT, employer=world.employer, eservice="inquiries"
    )
    assert can(person, Permission.ESERVICE_VIEW, employer=world.employer, eservice="inquiries")
    page = _as(world.people["admin"]).get(response["Location"]).content.decode()
    assert "Namnet visas när personen har loggat in med e-legitimation första gången." in page
    assert "Se och lämna uppgifter i Sjukanmälan efter dag 14" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"personal_number": "19850315-2344"}, "Personnumret är inte giltigt."),
        ({"personal_number": ""}, "Skriv personens personnummer."),
        ({"email": "inte-en-adress"}, "Skriv en e-postadress som namn@exempel.se."),
        ({"user": ""}, "Välj minst en roll: behörighetsadministratör eller användare."),
        (
            {"user": "", "administrator": "on"},
            "Behörighet till e-tjänster kräver rollen användare.",
        ),
        (
            {"valid_from": "2030-02-01", "valid_until": "2030-01-01"},
            "Slutdatumet kan inte vara före startdatumet.",
        ),
        ({"valid_until": "2001-01-01"}, "Slutdatumet har redan passerat."),
        ({"valid_until": "31/12/2030"}, "Ange datumet som ÅÅÅÅ-MM-DD"),
        ({"eservice_sick_report": "everything"}, "Välj ett giltigt alternativ"),
        ({"reason": "   "}, "Skriv varför ändringen görs."),
    ],
)
def test_bad_input_to_add_a_person_is_explained_and_nothing_is_saved(
    world: World, data: dict[str, str], message: str
) -> None:
    form = {
        "personal_number": "19850315-2343",
        "email": "bertil@example.se",
        "user": "on",
        "eservice_sick_report": "view",
        "reason": "Ny",
        **data,
    }
    before = Membership.objects.count(), Grant.objects.count(), AuditEvent.objects.count()
    response = _as(world.people["admin"]).post(_url("access:person-new", world), form)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "Det finns fel i formuläret" in response.content.decode()
    assert (Membership.objects.count(), Grant.objects.count(), AuditEvent.objects.count()) == before


def test_adding_someone_who_is_already_there_points_to_their_page(world: World) -> None:
    existing = world.people["user_none"]
    response = _as(world.people["admin"]).post(
        _url("access:person-new", world),
        {
            "personal_number": existing.personal_number,
            "email": "x@example.se",
            "user": "on",
            "reason": "Igen",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Personen har redan behörighet hos arbetsgivaren" in page
    assert _url("access:person", world, person_id=existing.public_id) in page


def test_unknown_eservice_codes_and_dates_are_refused_by_the_service_too(world: World) -> None:
    admin = world.people["admin"]
    person = world.people["user_none"]
    with pytest.raises(administration.InvalidAccess, match="finns inte"):
        administration.grant_set(
            employer=world.employer, person=person, spec=GrantSpec("payroll", "view"),
            reason="x", actor=admin,
        )  # fmt: skip
    with pytest.raises(administration.InvalidAccess, match="före startdatumet"):
        administration.grant_set(
            employer=world.employer,
            person=person,
            spec=GrantSpec("sick_report", "view", date(2031, 1, 2), date(2031, 1, 1)),
            reason="x",
            actor=admin,
        )
    with pytest.raises(administration.InvalidAccess, match="rollen användare"):
        administration.grant_set(
            employer=world.employer, person=admin, spec=GrantSpec("sick_report", "view"),
            reason="x", actor=admin,
        )  # fmt: skip
    assert not Grant.objects.filter(membership__person=person).exists()


def test_a_grant_form_with_an_unknown_eservice_is_a_clear_error(world: World) -> None:
    person = world.people["user_none"]
    response = _as(world.people["admin"]).post(
        _url("access:person-grant", world, person_id=person.public_id),
        {"eservice": "payroll", "level": "view", "reason": "x"},
    )
    assert response.status_code == 400
    assert "Välj en av e-tjänsterna i listan." in response.content.decode()


def test_changing_a_grant_replaces_it_and_keeps_the_history(world: World) -> None:
    person = world.people["user_view"]
    response = _as(world.people["admin"]).post(
        _url("access:person-grant", world, person_id=person.public_id),
        {"eservice": "sick_report", "level": "submit", "reason": "Ska lämna anmälningar"},
    )
    assert response.status_code == 302
    grants = Grant.objects.filter(membership__person=person).order_by("pk")
    assert [(g.level, g.ended_at is None) for g in grants] == [("view", False), ("submit", True)]
    assert _events(EventType.GRANT_REVOKED)[-1].data["replaced"] is True
    assert can(person, Permission.ESERVICE_SUBMIT, employer=world.employer, eservice="sick_report")


def test_changing_a_grant_reads_the_employer_and_the_membership_once(world: World) -> None:
    """The service locks the employer and reads the membership; the events of the old grant and
    the new one name them without reading either again."""
    person = world.people["user_view"]
    with CaptureQueriesContext(connection) as asked:
        administration.grant_set(
            employer=world.employer,
            person=person,
            spec=GrantSpec("sick_report", "submit"),
            reason="Ska lämna anmälningar",
            actor=world.people["admin"],
        )
    reads = [q["sql"] for q in asked.captured_queries if q["sql"].startswith("SELECT")]
    assert sum(bool(re.search(r'FROM "?employers_employer\b', sql)) for sql in reads) == 1
    # The person's membership (the other read of memberships is of the administrators to tell).
    person_reads = [sql for sql in reads if re.search(r'FROM "?access_membership\b', sql)]
    assert sum(f"person_id = {person.pk} " in sql for sql in person_reads) == 1
    assert [e.data["replaced"] for e in _events(EventType.GRANT_REVOKED)] == [True]
    assert _events(EventType.GRANT_CREATED)[-1].object_id == str(world.employer.public_id)


def test_a_revocation_takes_effect_on_the_very_next_request(world: World) -> None:
    user = world.people["user_submit"]
    session = _as(user)  # already logged in, mid-session
    page = reverse(
        "eservices:eservice", kwargs={"public_id": world.employer.public_id, "code": "sick_report"}
    )
    assert session.get(page).status_code == 200
    assert world.grant is not None
    response = _as(world.people["admin"]).post(
        _url(
            "access:grant-revoke", world, person_id=user.public_id, grant_id=world.grant.public_id
        ),
        {"reason": "Slutar på avdelningen"},
    )
    assert response.status_code == 302
    assert session.get(page).status_code == 403
    assert _events(EventType.GRANT_REVOKED)[-1].data["reason"] == "Slutar på avdelningen"


def test_remove_all_access_now(world: World) -> None:
    user = world.people["user_submit"]
    session = _as(user)
    assert (
        session.get(reverse("employers:employer", args=[world.employer.public_id])).status_code
        == 200
    )
    url = _url("access:person-remove-all", world, person_id=user.public_id)
    admin = _as(world.people["admin"])
    assert "Se och lämna uppgifter i Sjukanmälan" in admin.get(url).content.decode()
    refused = admin.post(url, {"reason": "Slutar"})
    assert refused.status_code == 400
    assert "Bekräfta att all behörighet ska tas bort." in refused.content.decode()
    done = admin.post(url, {"reason": "Slutar sin anställning", "confirm": "on"})
    assert done.status_code == 302
    assert not Membership.objects.open().filter(person=user).exists()
    assert not Grant.objects.open().filter(membership__person=user).exists()
    assert (
        session.get(reverse("employers:employer", args=[world.employer.public_id])).status_code
        == 403
    )
    assert _events(EventType.ACCESS_REMOVED_ALL)[-1].data["reason"] == "Slutar sin anställning"
    # The person's page still tells what they could do, and that they can do nothing now.
    history = admin.get(_url("access:person", world, person_id=user.public_id)).content.decode()
    assert "Ingenting. Personen har ingen behörighet längre." in history
    assert "Tidigare behörigheter" in history


def test_the_last_administrator_cannot_be_removed_or_demoted(world: World) -> None:
    admin = world.people["admin"]
    client = _as(admin)
    ended = client.post(
        _url("access:person-role", world, person_id=admin.public_id),
        {"role": "administrator", "action": "end", "reason": "Vill sluta"},
    )
    assert ended.status_code == 409
    assert "måste alltid ha minst en behörighetsadministratör" in ended.content.decode()
    removed = client.post(
        _url("access:person-remove-all", world, person_id=admin.public_id),
        {"reason": "Slutar", "confirm": "on"},
    )
    assert removed.status_code == 400
    assert "måste alltid ha minst en behörighetsadministratör" in removed.content.decode()
    assert Membership.objects.active().filter(person=admin, role=Role.ADMINISTRATOR).exists()
    assert len(_events(EventType.MEMBERSHIP_REFUSED)) == 2
    # With a second administrator, the first may go.
    membership(world.employer, world.people["user_none"], Role.ADMINISTRATOR)
    administration.membership_end(
        membership=Membership.objects.get(person=admin, role=Role.ADMINISTRATOR),
        reason="Ny roll",
        actor=admin,
    )
    with pytest.raises(LastAdministrator):
        administration.access_remove_all(
            employer=world.employer, person=world.people["user_none"], reason="x", actor=admin
        )


def test_a_person_can_be_both_administrator_and_user(world: World) -> None:
    admin = world.people["admin"]
    assert not can(admin, Permission.ESERVICE_VIEW, employer=world.employer, eservice="sick_report")
    client = _as(admin)
    response = client.post(
        _url("access:person-role", world, person_id=admin.public_id),
        {"role": "user", "action": "add", "reason": "Lämnar sjukanmälningar också"},
    )
    assert response.status_code == 302
    client.post(
        _url("access:person-grant", world, person_id=admin.public_id),
        {"eservice": "sick_report", "level": "view", "reason": "Läser"},
    )
    assert can(admin, Permission.ESERVICE_VIEW, employer=world.employer, eservice="sick_report")
    bad = client.post(
        _url("access:person-role", world, person_id=admin.public_id),
        {"role": "owner", "action": "add", "reason": "x"},
    )
    assert bad.status_code == 400
    assert "Välj vilken roll" in bad.content.decode()


def test_grants_expire_by_themselves_and_the_daily_task_records_it_once(world: World) -> None:
    person = world.people["user_view"]
    member = Membership.objects.get(person=person, employer=world.employer)
    Grant.objects.filter(membership=member).update(valid_until=timezone.localdate())
    assert can(person, Permission.ESERVICE_VIEW, employer=world.employer, eservice="sick_report")
    tomorrow = timezone.localdate() + timedelta(days=1)
    # The decision itself checks the dates: no task is needed for the expiry to take effect.
    Grant.objects.filter(membership=member).update(
        valid_until=timezone.localdate() - timedelta(days=1)
    )
    assert not can(
        person, Permission.ESERVICE_VIEW, employer=world.employer, eservice="sick_report"
    )
    assert administration.grants_record_expiry(today=tomorrow) == 1
    assert administration.grants_record_expiry(today=tomorrow) == 0
    expired = _events(EventType.GRANT_EXPIRED)
    assert len(expired) == 1
    assert expired[0].actor_kind == "system"
    mail = OutboxMessage.objects.get(template="access_grant_expired")
    assert mail.recipient_email == person.email
    assert "har upphört" in mail.subject


def test_a_grant_that_starts_later_is_not_in_force_yet(world: World) -> None:
    person = world.people["user_none"]
    member = Membership.objects.get(person=person, employer=world.employer)
    grant(member, level=Level.SUBMIT, valid_from=timezone.localdate() + timedelta(days=3))
    assert not can(
        person, Permission.ESERVICE_VIEW, employer=world.employer, eservice="sick_report"
    )
    page = _as(world.people["admin"]).get(_url("access:person", world, person_id=person.public_id))
    assert "från och med" in page.content.decode()


def test_the_list_filters_searches_sorts_and_pages(world: World) -> None:
    client = _as(world.people["admin"])
    people = _url("access:people", world)
    everyone = client.get(people).content.decode()
    assert "5 personer" not in everyone
    assert "4 personer" in everyone  # admin and three users; the other employer's admin is not here
    assert world.people["other_admin"].given_name not in everyone
    only_admins = client.get(people, {"role": "administrator"}).content.decode()
    assert "1 person" in only_admins
    with_sick = client.get(people, {"eservice": "sick_report"}).content.decode()
    assert "2 personer" in with_sick
    no_grants = client.get(people, {"status": "no-grants"}).content.decode()
    assert world.people["user_none"].given_name in no_grants
    assert "1 person" in no_grants
    found = client.get(people, {"q": world.people["user_view"].given_name}).content.decode()
    assert "1 person" in found
    by_number = client.get(people, {"q": world.people["user_view"].personal_number[2:8]})
    assert by_number.status_code == 200
    nonsense = client.get(people, {"role": "king", "sort": "shoe size", "sida": "x"})
    assert nonsense.status_code == 200
    for _ in range(60):
        membership(world.employer, PersonFactory(), Role.USER)
    first = client.get(people).content.decode()
    assert "Sida 1 av 2" in first
    assert "Sida 2 av 2" in client.get(people, {"sida": "2"}).content.decode()
    assert client.get(people, {"sort": "added"}).status_code == 200
    assert client.get(people, {"sort": "reviewed"}).status_code == 200


def test_the_list_costs_the_same_queries_for_5_or_50_people(
    world: World, django_assert_max_num_queries: Any
) -> None:
    client = _as(world.people["admin"])
    people = _url("access:people", world)
    client.get(people)

    def count() -> int:
        from django.db import connection  # noqa: PLC0415
        from django.test.utils import CaptureQueriesContext  # noqa: PLC0415

        with CaptureQueriesContext(connection) as queries:
            assert client.get(people).status_code == 200
        return len(queries)

    few = count()
    for _ in range(46):
        member = membership(world.employer, PersonFactory(), Role.USER)
        grant(member, "sick_report")
        grant(member, "inquiries", Level.VIEW)
    assert count() == few
    with django_assert_max_num_queries(20):
        client.get(people)


def test_after_login_a_person_lands_on_their_only_employer(world: World) -> None:
    client = _as(world.people["user_view"])
    start = client.get(reverse("employers:start"))
    assert start["Location"] == reverse("employers:employer", args=[world.employer.public_id])
    page = client.get(start["Location"]).content.decode()
    assert "Företräder" in page
    assert "Sjukanmälan efter dag 14" in page
    assert "Du kan se uppgifter." in page


def test_a_person_with_several_employers_chooses_and_can_switch(world: World) -> None:
    person = world.people["user_view"]
    membership(world.other, person, Role.USER)
    client = _as(person)
    start = client.get(reverse("employers:start"))
    assert start["Location"] == reverse("employers:overview")
    overview = client.get(start["Location"]).content.decode()
    assert world.employer.name in overview
    assert world.other.name in overview
    client.get(reverse("employers:employer", args=[world.other.public_id]))
    header = client.get(reverse("employers:overview")).content.decode()
    assert "Byt arbetsgivare" in header
    Membership.objects.filter(person=person, employer=world.other).update(ended_at=timezone.now())
    # A revoked employer disappears from the header at once.
    assert "Byt arbetsgivare" not in client.get(reverse("employers:overview")).content.decode()


def test_an_administrator_without_the_user_role_cannot_use_the_eservices(world: World) -> None:
    client = _as(world.people["admin"])
    page = client.get(reverse("employers:employer", args=[world.employer.public_id]))
    assert "Hantera behörigheter" in page.content.decode()
    assert "Du har ingen behörighet till någon e-tjänst" in page.content.decode()
    eservice = reverse(
        "eservices:eservice", kwargs={"public_id": world.employer.public_id, "code": "sick_report"}
    )
    assert client.get(eservice).status_code == 403
    unknown = reverse(
        "eservices:eservice", kwargs={"public_id": world.employer.public_id, "code": "payroll"}
    )
    assert client.get(unknown).status_code == 404


def test_changing_the_email_is_audited(world: World) -> None:
    person = world.people["user_none"]
    client = _as(world.people["admin"])
    url = _url("access:person-email", world, person_id=person.public_id)
    assert client.post(url, {"email": "fel"}).status_code == 400
    assert client.post(url, {"email": "ny@example.se"}).status_code == 302
    assert Membership.objects.get(person=person, employer=world.employer).email == "ny@example.se"
    assert _events(EventType.MEMBERSHIP_CHANGED)[-1].data["field"] == "email"


def test_naming_another_employers_person_or_grant_is_an_audited_404(world: World) -> None:
    client = _as(world.people["admin"])
    stranger = world.people["other_admin"]
    assert client.get(_url("access:person", world, person_id=stranger.public_id)).status_code == 404
    assert world.grant is not None
    revoke = _url(
        "access:grant-revoke",
        world,
        person_id=world.people["user_view"].public_id,
        grant_id=world.grant.public_id,  # someone else's grant
    )
    assert client.post(revoke, {"reason": "x"}).status_code == 404
    denied = _events(EventType.ACCESS_DENIED)
    assert [e.data["reason"] for e in denied] == ["not-at-employer", "not-at-employer"]
    assert denied[0].data["person"] == str(stranger.public_id)
    assert Grant.objects.get(pk=world.grant.pk).ended_at is None


def test_a_persons_page_lists_the_latest_history_and_points_to_the_activity_log(
    world: World,
) -> None:
    user = world.people["user_submit"]
    member = Membership.objects.get(employer=world.employer, person=user, role=Role.USER)
    now = timezone.now()
    for n in range(12):
        revoked = grant(member, "work_aids", Level.VIEW)
        Grant.objects.filter(pk=revoked.pk).update(
            ended_at=now - timedelta(days=12 - n), end_reason=f"Återkallad {n:02d}"
        )
    page = _as(world.people["admin"]).get(_url("access:person", world, person_id=user.public_id))
    body = page.content.decode()
    # The ten most recent, not the two oldest; the rest is in the activity log, by name.
    assert [f"Återkallad {n:02d}" in body for n in range(12)] == [False] * 2 + [True] * 10
    assert page.context["access"].more_history
    activity = reverse("audit:activity", kwargs={"public_id": world.employer.public_id})
    assert f'href="{activity}?person=' in body
    assert "aktivitetsloggen" in body
    # With nothing older to show, there is no such note.
    Grant.objects.filter(
        membership=member, end_reason__in=["Återkallad 00", "Återkallad 01"]
    ).delete()
    again = _as(world.people["admin"]).get(_url("access:person", world, person_id=user.public_id))
    assert not again.context["access"].more_history
    assert "aktivitetsloggen" not in again.content.decode()
