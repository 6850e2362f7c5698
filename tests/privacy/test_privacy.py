"""The register extract (a person's own data, as JSON and PDF) and the retention rules' daily
purges, each recorded in the audit log."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.eservices import framework, registry
from portal.identity.models import EidTransaction, Login, Person, Session, UsedAssertion
from portal.identity.sessions import SessionStore
from portal.privacy.extract import extract_pdf, register_extract
from portal.privacy.retention import retention_run
from tests.access.world import World


def _login(person: Person, *, days_ago: int = 0, n: int = 0) -> Login:
    order = EidTransaction.objects.create(
        purpose=EidTransaction.Purpose.LOGIN,
        provider="bankid",
        transaction_id=f"order-{person.pk}-{days_ago}-{n}",
        status=EidTransaction.Status.COMPLETE,
        session_binding="x",
    )
    login = Login.objects.create(
        person=person, transaction=order, issuer="bankid", assurance="loa3"
    )
    moment = timezone.now() - timedelta(days=days_ago)
    Login.objects.filter(pk=login.pk).update(logged_in_at=moment)
    EidTransaction.objects.filter(pk=order.pk).update(started_at=moment)
    return login


def _sick_report(world: World) -> Any:
    eservice = registry.get("sick_report")
    assert eservice is not None
    submission, _created = framework.submission_create(
        eservice="sick_report",
        handler=eservice.handler,
        employer=world.employer,
        actor=world.people["user_submit"],
        content={
            "employee_personal_number": "198503152343",
            "first_day": (timezone.localdate() - timedelta(days=16)).isoformat(),
            "last_day": None,
            "extent": "full",
            "relapse": False,
            "earlier_first_day": None,
            "earlier_last_day": None,
            "contact_name": "Lisa Lön",
            "contact_phone": "060-12 34 56",
            "late_explanation": "",
        },
        idempotency_key="extract-test",
    )
    return submission


def test_the_extract_holds_the_persons_own_data_and_not_others(world: World) -> None:
    person = world.people["user_submit"]
    _login(person)
    submission = _sick_report(world)
    data = register_extract(person)
    assert data["person"]["personal_number"] == person.personal_number
    assert [m["employer"] for m in data["memberships"]] == ["Matrisbolaget Alfa AB"]
    assert [(g["eservice"], g["level"]) for g in data["grants"]] == [("sick_report", "submit")]
    assert data["logins"]["count"] == 1
    assert data["submissions"]["items"][0]["reference"] == submission.reference
    # The submission's content is about the employee, not the person: not in the extract.
    assert "198503152343" not in json.dumps(data)
    assert data["audit_events_caused"] >= 1
    # Nothing of another person.
    other = register_extract(world.people["user_view"])
    assert other["submissions"]["count"] == 0
    assert other["logins"]["count"] == 0


def test_a_person_downloads_their_extract_as_json_and_pdf(world: World) -> None:
    person = world.people["user_submit"]
    client = Client()
    client.force_login(person)
    page = client.get(reverse("privacy:my-data"))
    assert page.status_code == 200
    assert "registerutdrag" in page.content.decode().lower()
    as_json = client.get(reverse("privacy:extract-json"))
    assert as_json.status_code == 200
    assert as_json["Content-Disposition"].startswith("attachment;")
    assert json.loads(as_json.content)["person"]["personal_number"] == person.personal_number
    as_pdf = client.get(reverse("privacy:extract-pdf"))
    assert as_pdf.content.startswith(b"%PDF-")
    events = AuditEvent.objects.filter(event_type=EventType.REGISTER_EXTRACT_MADE)
    assert events.count() == 2
    assert all(event.data["for_self"] for event in events)
    assert all(event.object_id == str(person.public_id) for event in events)
    # Only for oneself, and only logged in.
    anonymous = Client().get(reverse("privacy:extract-json"))
    assert anonymous.status_code == 302


def test_the_pdf_copes_with_any_text(world: World) -> None:
    person = world.people["user_submit"]
    Person.objects.filter(pk=person.pk).update(given_name="Åsa “Ω” – 漢字")
    person.refresh_from_db()
    assert extract_pdf(register_extract(person)).startswith(b"%PDF-")


def test_retention_removes_what_is_past_its_time_and_records_it(
    world: World, settings: Any
) -> None:
    person = world.people["user_submit"]
    recent = _login(person, days_ago=10)
    old = _login(person, days_ago=settings.LOGIN_RETENTION_DAYS + 1)
    abandoned = EidTransaction.objects.create(
        purpose=EidTransaction.Purpose.LOGIN,
        provider="bankid",
        transaction_id="abandoned",
        status=EidTransaction.Status.CANCELLED,
        session_binding="x",
    )
    EidTransaction.objects.filter(pk=abandoned.pk).update(
        started_at=timezone.now() - timedelta(days=settings.EID_ORDER_RETENTION_DAYS + 1)
    )
    expired = SessionStore()
    expired.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=timezone.now() - timedelta(minutes=1)
    )
    live = SessionStore()
    live.create()
    UsedAssertion.objects.create(
        issuer="saml", assertion_id="_old", expires_at=timezone.now() - timedelta(minutes=1)
    )
    fresh = UsedAssertion.objects.create(
        issuer="saml", assertion_id="_fresh", expires_at=timezone.now() + timedelta(minutes=5)
    )

    done = retention_run()
    assert done == {
        "drafts": 0,
        "logins": 1,
        "eid_orders": 1,
        "sessions": 1,
        "used_assertions": 1,
    }
    assert list(UsedAssertion.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert list(Login.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not EidTransaction.objects.filter(pk__in=[old.transaction_id, abandoned.pk]).exists()
    assert Session.objects.filter(session_key=live.session_key).exists()
    purged = {
        event.data["what"]: event.data["count"]
        for event in AuditEvent.objects.filter(event_type=EventType.RETENTION_PURGED)
    }
    assert purged == {"logins": 1, "eid-orders": 1, "sessions": 1, "used-assertions": 1}
    # A second run finds nothing and records nothing more.
    assert set(retention_run().values()) == {0}
    assert AuditEvent.objects.filter(event_type=EventType.RETENTION_PURGED).count() == 4


def test_the_daily_command(world: World, capsys: Any) -> None:
    call_command("retention")
    assert "Retention:" in capsys.readouterr().out


def test_an_extract_for_a_written_request(world: World, tmp_path: Any) -> None:
    person = world.people["user_submit"]
    output = tmp_path / "utdrag.json"
    call_command(
        "register_extract", person.personal_number, "--reason", "Dnr 2026/123", "--output", output
    )
    assert json.loads(output.read_text())["person"]["personal_number"] == person.personal_number
    event = AuditEvent.objects.get(event_type=EventType.REGISTER_EXTRACT_MADE)
    assert event.data == {"for_self": False, "reason": "Dnr 2026/123"}
    with pytest.raises(CommandError):
        call_command("register_extract", "191212121213", "--reason", "x", "--output", output)
    with pytest.raises(CommandError):
        call_command("register_extract", "191212121212", "--reason", "x", "--output", output)
