from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from portal.terms.demo import DEMO_TERMS
from portal.terms.models import TermsVersion
from portal.terms.selectors import current_version, diff

pytestmark = pytest.mark.django_db


@pytest.fixture
def versions() -> list[TermsVersion]:
    return [
        TermsVersion.objects.create(**values, published_at=timezone.now()) for values in DEMO_TERMS
    ]


def test_the_version_in_force_is_the_latest_effective_one(versions: list[TermsVersion]) -> None:
    assert current_version() == versions[1]
    assert current_version(on=versions[1].effective_from - timedelta(days=1)) == versions[0]


def test_an_unpublished_version_is_not_in_force(versions: list[TermsVersion]) -> None:
    draft = TermsVersion.objects.create(
        version="draft",
        title_sv="x",
        title_en="x",
        text_sv="x",
        text_en="x",
        effective_from=timezone.localdate(),
    )
    assert current_version() != draft


def test_the_terms_page_shows_the_current_text_and_the_history(
    client: Client, versions: list[TermsVersion]
) -> None:
    html = client.get("/villkor/").content.decode()
    assert "Version 2026-06" in html
    assert "12. Uppsägning." in html
    assert "/villkor/2025-01/" in html
    assert "/villkor/jamfor/?fran=2025-01&amp;till=2026-06" in html


def test_the_terms_in_english(client: Client, versions: list[TermsVersion]) -> None:
    client.cookies["__Host-portal_language"] = "en"
    html = client.get("/villkor/").content.decode()
    assert "12. Termination." in html


def test_an_upcoming_version_is_announced(client: Client, versions: list[TermsVersion]) -> None:
    TermsVersion.objects.create(
        version="2027-03",
        title_sv="Allmänna villkor",
        title_en="General terms",
        text_sv="Ny text.",
        text_en="New text.",
        published_at=timezone.now(),
        effective_from=timezone.localdate() + timedelta(days=40),
    )
    html = client.get("/villkor/").content.decode()
    assert "Nya villkor (version 2027-03) gäller från den" in html


def test_an_old_version_can_be_read(client: Client, versions: list[TermsVersion]) -> None:
    html = client.get("/villkor/2025-01/").content.decode()
    assert "11. Avregistrering och uppsägning." in html
    assert client.get("/villkor/finns-inte/").status_code == 404


def test_the_comparison_marks_removed_and_added_paragraphs(
    client: Client, versions: list[TermsVersion]
) -> None:
    html = client.get("/villkor/jamfor/?fran=2025-01&till=2026-06").content.decode()
    assert "<del>" in html
    assert "<ins>" in html
    assert "12. Uppsägning." in html
    kinds = [line.kind for line in diff(versions[0], versions[1])]
    assert kinds.count("same") == 9
    assert kinds.count("removed") == 2
    assert kinds.count("added") == 3


def test_comparing_unknown_versions_is_a_clear_400(
    client: Client, versions: list[TermsVersion]
) -> None:
    response = client.get("/villkor/jamfor/?fran=1999&till=2026-06")
    assert response.status_code == 400
    assert "Jämförelsen kunde inte visas" in response.content.decode()
