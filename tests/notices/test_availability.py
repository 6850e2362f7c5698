"""Availability (R15): planned outages and incidents, their validation, who may manage them, the
status page, the API, the feeds, the banner and the closed e-services."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.common.errors import ConflictError
from portal.eservices.models import Draft
from portal.notices.models import Incident, Outage
from portal.notices.services import (
    InvalidNotice,
    incident_close,
    incident_declare,
    outage_cancel,
    outage_plan,
)
from tests.access.world import World

ATOM = "{http://www.w3.org/2005/Atom}"


def _ops(world: World) -> Any:
    return world.people["staff:operations"]


def _client(world: World, who: str) -> Client:
    client = Client()
    client.force_login(world.people[who])
    return client


def _plan(world: World, hours_ahead: float = 24, hours: float = 2, **kwargs: Any) -> Outage:
    starts = timezone.now() + timedelta(hours=hours_ahead)
    values: dict[str, Any] = {
        "eservice_codes": ["sick_report"],
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=hours),
        "title_sv": "Uppgradering av e-tjänsten",
        "title_en": "Upgrade of the e-service",
    }
    values.update(kwargs)
    return outage_plan(**values, actor=_ops(world))


def _running(codes: list[str] | None = None, minutes_left: int = 30) -> Outage:
    """An outage in progress (the services refuse to plan one in the past, so made directly)."""
    now = timezone.now()
    return Outage.objects.create(
        eservice_codes=["sick_report"] if codes is None else codes,
        starts_at=now - timedelta(minutes=10),
        ends_at=now + timedelta(minutes=minutes_left),
        title_sv="Byte av databasserver",
    )


# --- validation ----------------------------------------------------------------------------


def test_planning_records_an_event(world: World) -> None:
    outage = _plan(world)
    event = AuditEvent.objects.get(event_type=EventType.OUTAGE_PLANNED)
    assert event.object_id == str(outage.public_id)
    assert event.actor == _ops(world)
    assert event.data["eservices"] == ["sick_report"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hours": -1}, "sluta efter"),
        ({"hours": 0}, "sluta efter"),
        ({"hours_ahead": -1}, "förflutna"),
        ({"hours": 24 * 7 + 1}, "högst 7 dygn"),
        ({"title_sv": "  "}, "rubrik på svenska"),
        ({"eservice_codes": ["no_such_service"]}, "Okänd e-tjänst"),
    ],
)
def test_bad_windows_are_refused_and_nothing_is_stored(
    world: World, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidNotice) as raised:
        _plan(world, **kwargs)
    assert message in raised.value.message
    assert not Outage.objects.exists()
    assert not AuditEvent.objects.filter(event_type=EventType.OUTAGE_PLANNED).exists()


def test_an_overlapping_outage_of_the_same_eservice_is_refused(world: World) -> None:
    _plan(world, hours_ahead=24, hours=2)
    with pytest.raises(InvalidNotice, match="överlappar"):
        _plan(world, hours_ahead=25, hours=2)
    assert Outage.objects.count() == 1


def test_an_outage_of_all_eservices_overlaps_every_other(world: World) -> None:
    _plan(world, hours_ahead=24, hours=2)
    with pytest.raises(InvalidNotice, match="överlappar"):
        _plan(world, hours_ahead=23, hours=2, eservice_codes=[])
    # Another e-service at the same time is fine; so is the same one right after.
    _plan(world, hours_ahead=24, hours=2, eservice_codes=["rehab_support"])
    _plan(world, hours_ahead=26, hours=1)
    assert Outage.objects.count() == 3


def test_a_cancelled_outage_overlaps_nothing_and_stays_cancelled(world: World) -> None:
    outage = _plan(world)
    outage_cancel(outage=outage, actor=_ops(world))
    assert AuditEvent.objects.filter(event_type=EventType.OUTAGE_CANCELLED).count() == 1
    _plan(world)
    with pytest.raises(ConflictError):
        outage_cancel(outage=outage, actor=_ops(world))


def test_incidents_are_declared_and_closed_once(world: World) -> None:
    incident = incident_declare(
        eservice_codes=[], title_sv="Inloggningen är långsam", actor=_ops(world)
    )
    assert incident.is_open
    incident_close(incident=incident, actor=_ops(world))
    with pytest.raises(ConflictError):
        incident_close(incident=incident, actor=_ops(world))
    types = list(AuditEvent.objects.values_list("event_type", flat=True))
    assert types.count(EventType.INCIDENT_DECLARED) == 1
    assert types.count(EventType.INCIDENT_CLOSED) == 1
    with pytest.raises(InvalidNotice, match="rubrik"):
        incident_declare(eservice_codes=[], title_sv="", actor=_ops(world))


# --- staff screens -------------------------------------------------------------------------


def test_only_operations_manage_availability(world: World) -> None:
    url = reverse("backoffice:availability")
    assert _client(world, "staff:operations").get(url).status_code == 200
    for who in ("staff:case_worker", "staff:terms_editor", "admin", "user_submit"):
        assert _client(world, who).get(url).status_code == 403, who
    denied = _client(world, "staff:case_worker").post(
        reverse("backoffice:incident-new"), {"eservice_codes": ["all"], "title_sv": "x"}
    )
    assert denied.status_code == 403
    assert not Incident.objects.exists()


def test_operations_plan_and_cancel_through_the_screens(world: World) -> None:
    client = _client(world, "staff:operations")
    start = timezone.localtime() + timedelta(days=2)
    form = {
        "eservice_codes": ["sick_report"],
        "starts_at": start.strftime("%Y-%m-%d %H:%M"),
        "ends_at": (start + timedelta(hours=3)).strftime("%Y-%m-%d %H:%M"),
        "title_sv": "Planerat underhåll",
    }
    response = client.post(reverse("backoffice:outage-new"), form)
    assert response.status_code == 302, response.content.decode()[:3000]
    outage = Outage.objects.get()
    page = client.get(reverse("backoffice:availability")).content.decode()
    assert "Planerat underhåll" in page
    again = client.post(reverse("backoffice:outage-new"), form)
    assert again.status_code == 400
    assert "överlappar" in again.content.decode()
    assert 'class="error-list' in again.content.decode()
    backwards = client.post(
        reverse("backoffice:outage-new"), {**form, "ends_at": form["starts_at"]}
    )
    assert backwards.status_code == 400
    assert "sluta efter" in backwards.content.decode()
    cancel = client.post(
        reverse("backoffice:outage-cancel", kwargs={"public_id": outage.public_id})
    )
    assert cancel.status_code == 302
    outage.refresh_from_db()
    assert outage.is_cancelled


def test_operations_declare_and_close_an_incident(world: World) -> None:
    client = _client(world, "staff:operations")
    response = client.post(
        reverse("backoffice:incident-new"),
        {
            "eservice_codes": ["all"],
            "title_sv": "Störning i inloggningen",
            "closes_eservices": "on",
        },
    )
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert incident.all_eservices
    assert incident.closes_eservices
    client.post(reverse("backoffice:incident-close", kwargs={"public_id": incident.public_id}))
    incident.refresh_from_db()
    assert not incident.is_open


# --- public status, API and feeds ----------------------------------------------------------


def test_status_page_and_api_show_outages_and_incidents(world: World) -> None:
    upcoming = _plan(world)
    _running(codes=["rehab_support"])
    incident_declare(eservice_codes=["sick_report"], title_sv="Kvitton dröjer", actor=_ops(world))
    closed = incident_declare(eservice_codes=[], title_sv="Långsamma sidor", actor=_ops(world))
    incident_close(incident=closed, actor=_ops(world))
    page = Client().get(reverse("status")).content.decode()
    assert "Uppgradering av e-tjänsten" in page
    assert "Byte av databasserver" in page
    assert "Kvitton dröjer" in page
    assert "Långsamma sidor" in page
    assert "Stängd för planerat avbrott" in page
    assert "dygnet runt" in page

    body = Client().get("/api/v1/status").json()
    states = {e["code"]: e for e in body["eservices"]}
    assert states["rehab_support"]["status"] == "maintenance"
    assert states["rehab_support"]["disruption"] == "planned_outage"
    assert states["sick_report"]["status"] == "open"
    assert states["sick_report"]["disruption"] == "incident"
    ids = [o["id"] for o in body["planned_outages"]]
    assert str(upcoming.public_id) in ids
    planned = next(o for o in body["planned_outages"] if o["id"] == str(upcoming.public_id))
    assert planned["eservice_codes"] == ["sick_report"]
    assert planned["title"] == "Uppgradering av e-tjänsten"
    assert [i["title"] for i in body["incidents"]] == ["Kvitton dröjer"]
    assert [i["title"] for i in body["recent_incidents"]] == ["Långsamma sidor"]


def test_the_calendar_feed_is_rfc5545_with_cancelled_events(world: World) -> None:
    kept = _plan(world)
    dropped = _plan(world, hours_ahead=48)
    outage_cancel(outage=dropped, actor=_ops(world))
    response = Client().get(reverse("status-calendar"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["VERSION"]) == "2.0"
    events = {str(event["UID"]): event for event in calendar.walk("VEVENT")}
    assert len(events) == 2
    event = next(e for uid, e in events.items() if str(kept.public_id) in uid)
    assert event.decoded("DTSTART") == kept.starts_at.replace(microsecond=0).astimezone(UTC)
    assert event.decoded("DTEND") == kept.ends_at.replace(microsecond=0).astimezone(UTC)
    assert "DTSTAMP" in event
    assert str(event["SUMMARY"]) == "Uppgradering av e-tjänsten"
    assert str(event["STATUS"]) == "CONFIRMED"
    cancelled = next(e for uid, e in events.items() if str(dropped.public_id) in uid)
    assert str(cancelled["STATUS"]) == "CANCELLED"
    raw = response.content.decode()
    assert "DTSTART:" in raw
    assert "Z\r\n" in raw  # UTC times, CRLF line ends


def test_the_atom_feed_has_outages_and_incidents(world: World) -> None:
    _plan(world)
    incident_declare(eservice_codes=[], title_sv="Kvitton dröjer", actor=_ops(world))
    response = Client().get(reverse("status-feed"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)  # noqa: S314 (the portal's own feed)
    assert root.tag == f"{ATOM}feed"
    titles = [entry.findtext(f"{ATOM}title") or "" for entry in root.findall(f"{ATOM}entry")]
    assert len(titles) == 2
    assert any("Uppgradering av e-tjänsten" in t for t in titles)
    assert any("Kvitton dröjer" in t for t in titles)
    for entry in root.findall(f"{ATOM}entry"):
        assert entry.findtext(f"{ATOM}id")
        assert entry.findtext(f"{ATOM}updated")


# --- banner --------------------------------------------------------------------------------


def test_the_banner_shows_from_the_configured_days_before(world: World, settings: Any) -> None:
    settings.OUTAGE_BANNER_DAYS = 3
    _plan(world, hours_ahead=24 * 4, eservice_codes=["rehab_support"])
    assert "portal-outage-banner" not in Client().get(reverse("home")).content.decode()
    _plan(world, hours_ahead=24 * 2, title_sv="Snart avbrott")
    page = Client().get(reverse("home")).content.decode()
    assert "portal-outage-banner" in page
    assert "Snart avbrott" in page
    logged_in = _client(world, "user_submit").get(reverse("employers:overview")).content.decode()
    assert "Snart avbrott" in logged_in


# --- closed e-services ---------------------------------------------------------------------


def _eservice_url(world: World) -> str:
    return reverse(
        "eservices:new", kwargs={"public_id": world.employer.public_id, "code": "sick_report"}
    )


def _api_url(world: World) -> str:
    return f"/api/v1/employers/{world.employer.public_id}/eservices/sick_report/submissions"


def test_affected_eservices_are_closed_during_the_window_and_drafts_kept(world: World) -> None:
    client = _client(world, "user_submit")
    Draft.objects.create(
        person=world.people["user_submit"],
        employer=world.employer,
        eservice="sick_report",
        data={"contact_name": "Lisa Lön"},
    )
    drafts_before = list(Draft.objects.values_list("pk", "data"))
    outage = _running(minutes_left=30)

    page = client.get(_eservice_url(world))
    assert page.status_code == 503
    assert 0 < int(page["Retry-After"]) <= 30 * 60
    assert "stängd just nu" in page.content.decode()
    posted = client.post(_eservice_url(world), {"contact_name": "Någon annan"})
    assert posted.status_code == 503

    api = client.get(_api_url(world))
    assert api.status_code == 503
    assert api["Content-Type"].startswith("application/problem+json")
    assert 0 < int(api["Retry-After"]) <= 30 * 60
    assert api.json()["eservice"] == "sick_report"

    # Another e-service is open; the drafts are untouched.
    other = reverse(
        "eservices:eservice",
        kwargs={"public_id": world.employer.public_id, "code": "rehab_support"},
    )
    assert client.get(other).status_code != 503
    assert list(Draft.objects.values_list("pk", "data")) == drafts_before

    # After the window (here: ended early by cancelling it), everything is as before.
    outage_cancel(outage=outage, actor=_ops(world))
    assert client.get(_eservice_url(world)).status_code == 200
    assert client.get(_api_url(world)).status_code == 200
    assert list(Draft.objects.values_list("pk", "data")) == drafts_before


def test_an_outage_that_has_ended_closes_nothing(world: World) -> None:
    now = timezone.now()
    Outage.objects.create(
        eservice_codes=[],
        starts_at=now - timedelta(hours=2),
        ends_at=now - timedelta(minutes=1),
        title_sv="Över",
    )
    assert _client(world, "user_submit").get(_eservice_url(world)).status_code == 200


def test_an_incident_closes_eservices_only_if_it_says_so(world: World) -> None:
    client = _client(world, "user_submit")
    open_one = incident_declare(
        eservice_codes=["sick_report"], title_sv="Långsamt", actor=_ops(world)
    )
    assert client.get(_eservice_url(world)).status_code == 200
    incident_close(incident=open_one, actor=_ops(world))
    incident_declare(
        eservice_codes=[], title_sv="Allt nere", closes_eservices=True, actor=_ops(world)
    )
    closed = client.get(_eservice_url(world))
    assert closed.status_code == 503
    assert closed["Retry-After"] == "300"


def test_retry_after_counts_down_to_the_end(world: World) -> None:
    outage = _running(minutes_left=10)
    response = _client(world, "user_submit").get(_api_url(world))
    remaining = (outage.ends_at - datetime.now(UTC)).total_seconds()
    assert abs(int(response["Retry-After"]) - remaining) <= 2
