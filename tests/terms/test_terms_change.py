"""A new terms version (R16): announced ahead, administrators told at once, a banner with the
diff until one of them acknowledges it, and one step to de-registration."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Max
from django.test import Client
from django.utils import timezone

from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.common.errors import ApplicationError
from portal.employers.models import Employer
from portal.messaging.models import OutboxMessage
from portal.terms.models import TermsAcceptance, TermsVersion
from portal.terms.services import latest_published, pending_changes, terms_publish
from tests.employers.test_enrolment import SOLE, TOLVAN, _setup, details, logged_in, sign  # noqa: F401

pytestmark = pytest.mark.django_db


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


def new_version(days_ahead: int = 45, version: str = "2027-03") -> TermsVersion:
    return TermsVersion.objects.create(
        version=version,
        title_sv="Allmänna villkor för e-tjänster för arbetsgivare",
        title_en="General terms of the e-services for employers",
        text_sv=TermsVersion.objects.get(version="2026-06").text_sv
        + "\n\n13. Nytt stycke om loggning.",
        text_en=TermsVersion.objects.get(version="2026-06").text_en
        + "\n\n13. A new paragraph on logging.",
        changes_sv="Ett nytt stycke om loggning.",
        effective_from=timezone.localdate() + timedelta(days=days_ahead),
    )


def test_a_change_must_be_announced_at_least_thirty_days_ahead(
    connected: tuple[Client, Employer],
) -> None:
    with pytest.raises(ApplicationError, match="minst 30 dagar"):
        terms_publish(version=new_version(days_ahead=29), actor=None)
    assert not OutboxMessage.objects.filter(template="terms_changed").exists()


def test_publishing_tells_every_administrator_and_shows_a_banner(
    connected: tuple[Client, Employer],
) -> None:
    tolvan, employer = connected
    assert "Nya villkor (version" not in tolvan.get("/").content.decode()
    queued = terms_publish(version=new_version(), actor=None)
    assert queued == 1
    mail = OutboxMessage.objects.get(template="terms_changed")
    assert mail.recipient_email == "tolvan@exempel.se"
    assert f"/villkor/arbetsgivare/{employer.public_id}/" in mail.body_text
    assert AuditEvent.objects.filter(
        event_type=EventType.TERMS_PUBLISHED, object_id="2027-03"
    ).exists()

    banner = tolvan.get("/").content.decode()
    assert "Nya villkor (version 2027-03) för Exempelbolaget i Sundsvall AB" in banner
    page = tolvan.get(f"/villkor/arbetsgivare/{employer.public_id}/").content.decode()
    assert "Arbetsgivaren har godkänt version 2026-06" in page
    assert "<ins>" in page
    assert "13. Nytt stycke om loggning." in page
    assert f"/arbetsgivare/{employer.public_id}/avregistrera/" in page


def test_an_administrator_acknowledges_for_the_employer(connected: tuple[Client, Employer]) -> None:
    tolvan, employer = connected
    terms_publish(version=new_version(), actor=None)
    response = tolvan.post(
        f"/villkor/arbetsgivare/{employer.public_id}/", {"version": "2027-03"}, follow=True
    )
    assert "Du har bekräftat villkoren version 2027-03" in response.content.decode()
    acceptance = TermsAcceptance.objects.get(employer=employer, terms_version__version="2027-03")
    assert acceptance.channel == TermsAcceptance.Channel.ACKNOWLEDGEMENT
    assert acceptance.accepted_by is not None
    assert acceptance.accepted_by.personal_number == TOLVAN
    assert "Nya villkor (version" not in tolvan.get("/").content.decode()
    # The record shows which versions the employer accepted, when and by whom.
    page = tolvan.get(f"/arbetsgivare/{employer.public_id}/").content.decode()
    assert "2027-03" in page
    assert "2026-06" in page
    # A second acknowledgement changes nothing.
    tolvan.post(f"/villkor/arbetsgivare/{employer.public_id}/", {"version": "2027-03"})
    assert (
        TermsAcceptance.objects.filter(employer=employer, terms_version__version="2027-03").count()
        == 1
    )


def test_only_the_employers_administrators_see_the_notice(
    connected: tuple[Client, Employer],
) -> None:
    _tolvan, employer = connected
    terms_publish(version=new_version(), actor=None)
    stranger = logged_in("198001011231")
    assert stranger.get(f"/villkor/arbetsgivare/{employer.public_id}/").status_code == 403
    assert "Nya villkor (version" not in stranger.get("/").content.decode()


def publish_arguments(tmp_path: Path, version: str, days_ahead: int) -> list[str]:
    sv, en = tmp_path / "sv.txt", tmp_path / "en.txt"
    sv.write_text("1. Första stycket.\n\n2. Andra stycket.", encoding="utf-8")
    en.write_text("1. The first paragraph.\n\n2. The second paragraph.", encoding="utf-8")
    effective = (timezone.localdate() + timedelta(days=days_ahead)).isoformat()
    return [
        "--terms-version", version, "--effective-from", effective, "--title-sv", "Villkor",
        "--title-en", "Terms", "--text-sv", str(sv), "--text-en", str(en),
    ]  # fmt: skip


def test_the_publish_command(connected: tuple[Client, Employer], tmp_path: Path) -> None:
    call_command("terms_publish", *publish_arguments(tmp_path, "2027-04", 31))
    assert TermsVersion.objects.get(version="2027-04").is_published
    assert OutboxMessage.objects.filter(template="terms_changed").count() == 1
    with pytest.raises(CommandError, match="already exists"):
        call_command("terms_publish", *publish_arguments(tmp_path, "2027-04", 31))
    with pytest.raises(CommandError, match="minst 30 dagar"):
        call_command("terms_publish", *publish_arguments(tmp_path, "2027-05", 3))
    assert not TermsVersion.objects.filter(version="2027-05").exists()


def test_a_terms_editor_publishes_from_the_back_office(connected: tuple[Client, Employer]) -> None:
    call_command("staff_grant", "19900622-3458", "terms_editor")
    editor = logged_in("199006223458")
    base = TermsVersion.objects.get(version="2026-06")
    form = {
        "version": "2027-06",
        "effective_from": (timezone.localdate() + timedelta(days=10)).isoformat(),
        "title_sv": base.title_sv,
        "title_en": base.title_en,
        "text_sv": base.text_sv + "\n\n13. Nytt.",
        "text_en": base.text_en + "\n\n13. New.",
        "changes_sv": "Ett nytt stycke.",
        "changes_en": "A new paragraph.",
    }
    too_soon = editor.post("/handlaggning/villkor/", form)
    assert too_soon.status_code == 400
    assert "minst 30 dagar" in too_soon.content.decode()
    assert not TermsVersion.objects.filter(version="2027-06").exists()

    form["effective_from"] = (timezone.localdate() + timedelta(days=30)).isoformat()
    done = editor.post("/handlaggning/villkor/", form)
    assert done["Location"] == "/villkor/2027-06/"
    version = TermsVersion.objects.get(version="2027-06")
    assert version.is_published
    assert version.created_by is not None
    assert OutboxMessage.objects.filter(template="terms_changed").count() == 1
    published = AuditEvent.objects.get(event_type=EventType.TERMS_PUBLISHED)
    assert published.actor == version.created_by
    assert editor.post("/handlaggning/villkor/", form).status_code == 400  # the version exists


def test_only_terms_editors_publish(connected: tuple[Client, Employer]) -> None:
    tolvan, _employer = connected
    assert tolvan.get("/handlaggning/villkor/").status_code == 403


def test_pending_changes_are_the_orms_answer_and_the_newest_version_is_kept(
    connected: tuple[Client, Employer], django_assert_num_queries: Any
) -> None:
    _tolvan, employer = connected
    others = [
        Employer.objects.create(organisation_number=number, name=f"Villkorsbolaget {n} AB")
        for n, number in enumerate(("5590000017", "5590000025"))
    ]
    accepted = TermsVersion.objects.get(version="2026-06")
    # One has accepted the version in force, one nothing at all.
    TermsAcceptance.objects.create(
        employer=others[0], terms_version=accepted, channel=TermsAcceptance.Channel.PAPER
    )
    ids = [employer.pk, *(other.pk for other in others)]
    assert pending_changes(ids) == {}
    terms_publish(version=new_version(), actor=None)
    latest = latest_published()
    assert latest is not None
    assert latest.version == "2027-03"
    with django_assert_num_queries(0):
        assert latest_published() == latest
    newest = dict(
        TermsAcceptance.objects.filter(employer_id__in=ids)
        .values("employer")
        .annotate(newest=Max("terms_version__effective_from"))
        .values_list("employer", "newest")
    )
    expected = {pk: latest for pk in ids if pk in newest and latest.effective_from > newest[pk]}
    with django_assert_num_queries(1):
        assert pending_changes(ids) == expected == {employer.pk: latest, others[0].pk: latest}
    # Acknowledged: nothing pending for that employer; a later version is seen at once.
    TermsAcceptance.objects.create(
        employer=employer, terms_version=latest, channel=TermsAcceptance.Channel.ACKNOWLEDGEMENT
    )
    assert pending_changes(ids) == {others[0].pk: latest}
    later = new_version(days_ahead=60, version="2027-04")
    terms_publish(version=later, actor=None)
    assert pending_changes(ids) == {employer.pk: later, others[0].pk: later}
