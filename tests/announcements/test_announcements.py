"""Announcements and instructions (R5): the rules for their content, who may publish them, who
sees them where and when, in which language, and the history that is kept."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from xml.etree import ElementTree

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from portal.access.models import Role
from portal.announcements import selectors
from portal.announcements.constants import TEXT_MAX_LENGTH, TITLE_MAX_LENGTH, Audience
from portal.announcements.models import Announcement
from portal.announcements.services import (
    AnnouncementContent,
    AnnouncementInvalid,
    announcement_publish,
    announcement_revise,
    announcement_withdraw,
)
from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.common.errors import ConflictError
from portal.identity.models import Person
from tests.access.world import World, grant, membership

EDITOR = "staff:terms_editor"


def _editor(world: World) -> Person:
    return world.people[EDITOR]


def _client(world: World, who: str) -> Client:
    client = Client()
    client.force_login(world.people[who])
    return client


def _publish(world: World, **fields: Any) -> Announcement:
    content: dict[str, Any] = {
        "title_sv": "Nytt i e-tjänsterna",
        "text_sv": "Från och med måndag kan ni bifoga filer.",
        **fields,
    }
    return announcement_publish(content=AnnouncementContent(**content), actor=_editor(world))


def _form(**overrides: Any) -> dict[str, Any]:
    return {
        "kind": "announcement",
        "severity": "info",
        "title_sv": "Planerat underhåll av inloggningen",
        "text_sv": "Inloggningen kan vara långsam på söndag kväll.",
        "title_en": "",
        "text_en": "",
        "audience": "everyone",
        "starts_at": "",
        "ends_at": "",
        **overrides,
    }


# --- the rules for the content ----------------------------------------------------------------


def _errors(world: World, **fields: Any) -> dict[str, list[str]]:
    before = (Announcement.objects.count(), AuditEvent.objects.count())
    with pytest.raises(AnnouncementInvalid) as raised:
        _publish(world, **fields)
    assert (Announcement.objects.count(), AuditEvent.objects.count()) == before, "nothing stored"
    return raised.value.errors


def test_an_announcement_without_a_swedish_text_is_refused(world: World) -> None:
    errors = _errors(world, title_sv="  ", text_sv="", title_en="News", text_en="Text")
    assert "Skriv en rubrik på svenska" in errors["title_sv"][0]
    assert "Skriv texten på svenska" in errors["text_sv"][0]


def test_the_end_must_come_after_the_start(world: World) -> None:
    start = timezone.now() + timedelta(days=2)
    errors = _errors(world, starts_at=start, ends_at=start - timedelta(hours=1))
    assert errors == {"ends_at": ["Slutet måste ligga efter starten."]}
    errors = _errors(world, starts_at=start, ends_at=start)
    assert errors == {"ends_at": ["Slutet måste ligga efter starten."]}


def test_an_end_already_passed_is_refused(world: World) -> None:
    errors = _errors(
        world,
        starts_at=timezone.now() - timedelta(days=3),
        ends_at=timezone.now() - timedelta(days=1),
    )
    assert "redan passerat" in errors["ends_at"][0]


def test_unknown_eservice_codes_are_refused_by_name(world: World) -> None:
    errors = _errors(
        world, audience=Audience.ESERVICES, eservices=("sick_report", "no_such", "another")
    )
    assert errors == {"eservices": ["Det finns ingen e-tjänst med koden another, no_such."]}


def test_an_eservice_audience_needs_an_eservice(world: World) -> None:
    errors = _errors(world, audience=Audience.ESERVICES, eservices=())
    assert "Välj minst en e-tjänst" in errors["eservices"][0]


def test_texts_have_length_limits(world: World) -> None:
    errors = _errors(
        world, title_sv="R" * (TITLE_MAX_LENGTH + 1), text_sv="T" * (TEXT_MAX_LENGTH + 1)
    )
    assert errors["title_sv"] == [
        f"Rubriken får vara högst {TITLE_MAX_LENGTH} tecken lång, nu är den {TITLE_MAX_LENGTH + 1}."
    ]
    assert errors["text_sv"] == [
        f"Texten får vara högst {TEXT_MAX_LENGTH} tecken lång, nu är den {TEXT_MAX_LENGTH + 1}."
    ]
    # At the limit is fine.
    assert _publish(world, title_sv="R" * TITLE_MAX_LENGTH).pk


def test_english_is_both_title_and_text_or_neither(world: World) -> None:
    assert "engelska" in _errors(world, title_en="News")["text_en"][0]
    assert "engelska" in _errors(world, text_en="Some text")["title_en"][0]


def test_the_content_is_cleaned(world: World) -> None:
    announcement = _publish(
        world,
        title_sv="  Rubrik ",
        text_sv="Första stycket.\r\n\r\nAndra stycket.\r\n",
        audience=Audience.EVERYONE,
        eservices=("sick_report",),
    )
    assert announcement.title_sv == "Rubrik"
    assert announcement.paragraphs == ["Första stycket.", "Andra stycket."]
    # An announcement for everyone names no e-services.
    assert announcement.eservices == []


# --- the staff's screens and who may use them --------------------------------------------------


@pytest.mark.parametrize(
    "who", ["admin", "user_submit", "staff:case_worker", "staff:operations", "staff:auditor"]
)
def test_only_terms_editors_may_publish(world: World, who: str) -> None:
    client = _client(world, who)
    assert client.get(reverse("backoffice:announcements")).status_code == 403
    response = client.post(reverse("backoffice:announcement-new"), _form())
    assert response.status_code == 403
    assert not Announcement.objects.exists()
    assert AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).exists()


def test_the_anonymous_visitor_is_sent_to_log_in(world: World) -> None:
    response = Client().get(reverse("backoffice:announcements"))
    assert response.status_code == 302
    assert response["Location"].startswith("/logga-in/")


def test_a_terms_editor_publishes_and_it_is_audited(world: World) -> None:
    client = _client(world, EDITOR)
    assert client.get(reverse("backoffice:announcement-new")).status_code == 200
    response = client.post(
        reverse("backoffice:announcement-new"),
        _form(audience="eservices", eservices=["sick_report"], ends_at="2099-01-31 16:00"),
    )
    assert response.status_code == 302
    announcement = Announcement.objects.get()
    assert response["Location"] == reverse(
        "backoffice:announcement", kwargs={"public_id": announcement.public_id}
    )
    assert announcement.eservices == ["sick_report"]
    assert timezone.localtime(announcement.ends_at).strftime("%Y-%m-%d %H:%M") == (
        "2099-01-31 16:00"
    )
    event = AuditEvent.objects.get(event_type=EventType.ANNOUNCEMENT_PUBLISHED)
    assert event.actor_id == _editor(world).pk
    assert event.object_id == str(announcement.series)
    assert event.data["eservices"] == ["sick_report"]
    listing = client.get(reverse("backoffice:announcements"))
    assert "Planerat underhåll av inloggningen" in listing.content.decode()


def test_the_form_shows_the_services_errors_and_stores_nothing(world: World) -> None:
    client = _client(world, EDITOR)
    response = client.post(
        reverse("backoffice:announcement-new"),
        _form(title_sv="", text_sv="", starts_at="2099-02-01", ends_at="2099-01-01 10:00"),
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Det finns fel i formuläret" in body
    assert "Skriv en rubrik på svenska" in body
    assert "Slutet måste ligga efter starten." in body
    assert 'href="#id_title_sv"' in body
    assert not Announcement.objects.exists()


def test_a_badly_written_time_gets_a_clear_message(world: World) -> None:
    response = _client(world, EDITOR).post(
        reverse("backoffice:announcement-new"), _form(starts_at="nästa måndag")
    )
    assert response.status_code == 400
    assert "ÅÅÅÅ-MM-DD TT:MM" in response.content.decode()


def test_unknown_codes_posted_to_the_form_are_refused(world: World) -> None:
    response = _client(world, EDITOR).post(
        reverse("backoffice:announcement-new"),
        _form(audience="eservices", eservices=["no_such"]),
    )
    assert response.status_code == 400
    assert "Det finns ingen e-tjänst med koden no_such." in response.content.decode()
    assert 'href="#id_eservices_0"' in response.content.decode()


# --- history ----------------------------------------------------------------------------------


def test_revising_keeps_the_history(world: World) -> None:
    first = _publish(world, title_sv="Version ett")
    client = _client(world, EDITOR)
    form = client.get(
        reverse("backoffice:announcement-revise", kwargs={"public_id": first.public_id})
    )
    assert form.status_code == 200
    assert "Version ett" in form.content.decode()
    response = client.post(
        reverse("backoffice:announcement-revise", kwargs={"public_id": first.public_id}),
        _form(title_sv="Version två"),
    )
    assert response.status_code == 302
    second = Announcement.objects.get(replaces=first)
    assert (second.series, second.version) == (first.series, 2)
    first.refresh_from_db()
    assert first.title_sv == "Version ett", "the earlier version is kept as it was"
    assert [a.title_sv for a in selectors.shown_to_everyone()] == ["Version två"]
    assert [a.version for a in selectors.history(first)] == [2, 1]
    event = AuditEvent.objects.get(event_type=EventType.ANNOUNCEMENT_REVISED)
    assert event.data["replaces"] == str(first.public_id)
    detail = client.get(reverse("backoffice:announcement", kwargs={"public_id": first.public_id}))
    body = detail.content.decode()
    assert "Version ett" in body
    assert "Version två" in body
    # The replaced version cannot be revised again: the standing one is the one to change.
    again = client.post(
        reverse("backoffice:announcement-revise", kwargs={"public_id": first.public_id}),
        _form(title_sv="Version tre"),
    )
    assert again.status_code == 404
    with pytest.raises(ConflictError):
        announcement_revise(
            announcement=first,
            content=AnnouncementContent(title_sv="Tre", text_sv="Text"),
            actor=_editor(world),
        )
    assert Announcement.objects.count() == 2


def test_withdrawing_asks_first_and_keeps_the_announcement(world: World) -> None:
    announcement = _publish(world)
    client = _client(world, EDITOR)
    url = reverse("backoffice:announcement-withdraw", kwargs={"public_id": announcement.public_id})
    confirmation = client.get(url)
    assert confirmation.status_code == 200
    assert "Vill du återkalla" in confirmation.content.decode()
    assert selectors.shown_to_everyone() == [announcement]
    assert client.post(url).status_code == 302
    announcement.refresh_from_db()
    assert announcement.withdrawn_at is not None
    assert announcement.withdrawn_by == _editor(world)
    assert selectors.shown_to_everyone() == []
    assert AuditEvent.objects.filter(event_type=EventType.ANNOUNCEMENT_WITHDRAWN).count() == 1
    # Twice is refused (and recorded once).
    with pytest.raises(ConflictError):
        announcement_withdraw(announcement=announcement, actor=_editor(world))
    with pytest.raises(ConflictError):
        announcement_revise(
            announcement=announcement,
            content=AnnouncementContent(title_sv="Ny", text_sv="Text"),
            actor=_editor(world),
        )
    assert AuditEvent.objects.filter(event_type=EventType.ANNOUNCEMENT_WITHDRAWN).count() == 1
    lists = selectors.staff_lists()
    assert lists.withdrawn == [announcement]
    assert lists.current == []


# --- who sees what, where and when ------------------------------------------------------------


def _employer_page(world: World, who: str) -> str:
    response = _client(world, who).get(
        reverse("employers:employer", kwargs={"public_id": world.employer.public_id})
    )
    assert response.status_code == 200
    return response.content.decode()


def test_the_audience_rule(world: World) -> None:
    _publish(world, title_sv="Till alla")
    _publish(
        world,
        title_sv="Till sjukanmälarna",
        audience=Audience.ESERVICES,
        eservices=("sick_report",),
    )
    _publish(
        world,
        title_sv="Till hjälpmedelsanvändarna",
        audience=Audience.ESERVICES,
        eservices=("work_aids",),
    )
    with_grant = _employer_page(world, "user_submit")
    assert "Till alla" in with_grant
    assert "Till sjukanmälarna" in with_grant
    assert "Till hjälpmedelsanvändarna" not in with_grant
    for who in ("user_none", "admin"):
        without = _employer_page(world, who)
        assert "Till alla" in without
        assert "Till sjukanmälarna" not in without
    home = Client().get(reverse("home")).content.decode()
    assert "Till alla" in home
    assert "Till sjukanmälarna" not in home
    overview = _client(world, "user_view").get(reverse("employers:overview")).content.decode()
    assert "Till alla" in overview
    assert "Till sjukanmälarna" in overview
    overview = _client(world, "other_admin").get(reverse("employers:overview")).content.decode()
    assert "Till alla" in overview
    assert "Till sjukanmälarna" not in overview


def test_a_grant_counts_only_at_its_own_employer(world: World) -> None:
    person = world.people["user_none"]  # no grant at the first employer
    grant(membership(world.other, person, Role.USER))  # a sick_report grant at the other
    _publish(
        world,
        title_sv="Till sjukanmälarna",
        audience=Audience.ESERVICES,
        eservices=("sick_report",),
    )
    assert selectors.shown_at_employer(person, world.employer) == []
    assert [a.title_sv for a in selectors.shown_at_employer(person, world.other)] == [
        "Till sjukanmälarna"
    ]
    assert "Till sjukanmälarna" not in _employer_page(world, "user_none")
    # The overview is about all the person's employers.
    assert len(selectors.shown_to_person(person, [world.employer, world.other])) == 1
    assert selectors.shown_to_person(person, [world.employer]) == []


def test_only_between_start_and_end_and_not_withdrawn(world: World) -> None:
    now = timezone.now()
    _publish(world, title_sv="Kommande", starts_at=now + timedelta(hours=1))
    ending = _publish(
        world,
        title_sv="Slutar snart",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(hours=1),
    )
    withdrawn = _publish(world, title_sv="Återkallat")
    announcement_withdraw(announcement=withdrawn, actor=_editor(world))
    assert [a.title_sv for a in selectors.shown_to_everyone(now)] == ["Slutar snart"]
    assert selectors.shown_to_everyone(now + timedelta(hours=2))[0].title_sv == "Kommande"
    assert ending not in selectors.shown_to_everyone(now + timedelta(hours=2))
    lists = selectors.staff_lists(now)
    assert [a.title_sv for a in lists.upcoming] == ["Kommande"]
    assert [a.title_sv for a in lists.current] == ["Slutar snart"]
    assert [a.title_sv for a in lists.withdrawn] == ["Återkallat"]
    page = _employer_page(world, "user_submit")
    assert "Slutar snart" in page
    assert "Kommande" not in page
    assert "Återkallat" not in page


def test_warnings_come_first(world: World) -> None:
    _publish(world, title_sv="Vanlig")
    _publish(
        world, title_sv="Viktig", severity="warning", starts_at=timezone.now() - timedelta(days=9)
    )
    assert [a.title_sv for a in selectors.shown_to_everyone()] == ["Viktig", "Vanlig"]


# --- language ---------------------------------------------------------------------------------


def test_english_readers_get_english_or_swedish_with_a_note(world: World) -> None:
    both = _publish(
        world, title_sv="Nyhet", text_sv="Svensk text.", title_en="News", text_en="English text."
    )
    swedish = _publish(world, title_sv="Bara svenska", text_sv="Endast svensk text.")
    with translation.override("en"):
        assert (both.title, both.text, both.language) == ("News", "English text.", "en")
        assert not both.in_swedish_only
        assert (swedish.title, swedish.language) == ("Bara svenska", "sv")
        assert swedish.in_swedish_only
    with translation.override("sv"):
        assert (both.title, both.language) == ("Nyhet", "sv")
        assert not swedish.in_swedish_only

    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = client.get(reverse("home")).content.decode()
    assert "News" in body
    assert "English text." in body
    assert "Svensk text." not in body
    assert '<h3 class="message-box__heading" lang="sv">Bara svenska</h3>' in body
    assert "This announcement is only available in Swedish." in body
    swedish_page = Client().get(reverse("home")).content.decode()
    assert "Nyhet" in swedish_page
    assert "News" not in swedish_page


# --- the public archive and feed --------------------------------------------------------------


def test_the_archive_lists_current_and_past_but_not_withdrawn_or_upcoming(world: World) -> None:
    now = timezone.now()
    _publish(world, title_sv="Aktuellt")
    past = _publish(
        world,
        title_sv="Förr",
        starts_at=now - timedelta(days=5),
        ends_at=now + timedelta(seconds=1),
    )
    Announcement.objects.filter(pk=past.pk).update(ends_at=now - timedelta(days=1))
    _publish(world, title_sv="Sedan", starts_at=now + timedelta(days=1))
    announcement_withdraw(announcement=_publish(world, title_sv="Indraget"), actor=_editor(world))
    _publish(
        world, title_sv="För sjukanmälarna", audience=Audience.ESERVICES, eservices=("sick_report",)
    )
    response = Client().get(reverse("announcements:archive"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Aktuellt" in body
    assert "Förr" in body
    assert "För sjukanmälarna" in body
    assert "Sedan" not in body
    assert "Indraget" not in body
    assert Client().post(reverse("announcements:archive")).status_code == 405


def test_the_atom_feed(world: World) -> None:
    _publish(world, title_sv="I flödet", text_sv="Text i flödet.")
    _publish(
        world, title_sv="Bara för några", audience=Audience.ESERVICES, eservices=("sick_report",)
    )
    response = Client().get(reverse("announcements:feed"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ElementTree.fromstring(response.content)  # noqa: S314 (the portal's own feed)
    ns = {"atom": "http://www.w3.org/2005/Atom"}
    titles = [
        entry.findtext("atom:title", namespaces=ns) for entry in root.findall("atom:entry", ns)
    ]
    assert titles == ["I flödet"]
