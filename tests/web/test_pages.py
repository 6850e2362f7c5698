from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db

PAGES = {
    "/": "E-tjänster för arbetsgivare",
    "/villkor/": "Villkor för e-tjänster för arbetsgivare",
    "/tillganglighet/": "Tillgänglighetsredogörelse",
    "/tekniska-krav/": "Tekniska krav",
    "/hjalp/": "Hjälp och kontakt",
    "/driftstatus/": "Driftstatus",
}
ENGLISH_HEADINGS = {
    "/": "E-services for employers",
    "/villkor/": "Terms of the e-services for employers",
    "/tillganglighet/": "Accessibility statement",
    "/tekniska-krav/": "Technical requirements",
    "/hjalp/": "Help and contact",
    "/driftstatus/": "Service status",
}


def _h1(html: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", html, flags=re.DOTALL)
    assert match, "the page has no h1"
    return match.group(1).strip()


@pytest.mark.parametrize(("path", "heading"), PAGES.items())
def test_every_page_is_swedish_by_default(client: Client, path: str, heading: str) -> None:
    response = client.get(path, headers={"accept-language": "en-GB,en;q=0.9"})
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="sv">' in html
    assert response["Content-Language"] == "sv"
    assert _h1(html) == heading
    assert 'class="iskiplink" href="#main"' in html
    assert '<main id="main"' in html
    assert "<footer" in html


@pytest.mark.parametrize(("path", "heading"), ENGLISH_HEADINGS.items())
def test_every_page_is_in_english_when_chosen(client: Client, path: str, heading: str) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(path)
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert _h1(html) == heading


def test_the_language_switch_sets_the_language_and_returns_to_the_page() -> None:
    client = Client(enforce_csrf_checks=True)
    page = client.get("/hjalp/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert token
    response = client.post(
        "/sprak/", {"language": "en", "next": "/hjalp/", "csrfmiddlewaretoken": token.group(1)}
    )
    assert response.status_code == 302
    assert response["Location"] == "/hjalp/"
    assert client.get("/hjalp/").content.decode().count('<html lang="en">') == 1


def test_the_language_switch_never_redirects_off_the_site(client: Client) -> None:
    response = client.post("/sprak/", {"language": "en", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_an_unknown_language_is_ignored(client: Client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "xx"
    assert '<html lang="sv">' in client.get("/").content.decode()


def test_the_start_page_lists_the_eservices(client: Client) -> None:
    html = client.get("/").content.decode()
    for name in (
        "Sjukanmälan efter dag 14",
        "Svara på förfrågningar",
        "Bidrag till arbetshjälpmedel",
    ):
        assert name in html


def test_the_help_page_sends_eid_problems_to_the_issuer(client: Client) -> None:
    html = client.get("/hjalp/").content.decode()
    assert "Problem med din e-legitimation" in html
    assert "kontakta först den som har utfärdat den" in html
    assert settings.SUPPORT_PHONE in html


def test_the_technical_requirements_list_the_allowed_issuers(client: Client) -> None:
    html = client.get("/tekniska-krav/").content.decode()
    assert "BankID" in html
    assert "Webbläsare" in html


def test_the_accessibility_statement_has_the_parts_the_law_asks_for(client: Client) -> None:
    html = client.get("/tillganglighet/").content.decode()
    for part in (
        "Hur tillgänglig är tjänsten?",
        "Rapportera brister",
        "Tillsyn",
        "Myndigheten för digital förvaltning",
        "Hur vi testat tjänsten",
    ):
        assert part in html


def test_the_status_page_shows_each_eservice_and_no_planned_outages(client: Client) -> None:
    html = client.get("/driftstatus/").content.decode()
    assert "Sjukanmälan efter dag 14" in html
    assert "Inga avbrott är planerade." in html


def test_no_page_has_inline_script_or_style(client: Client) -> None:
    for path in PAGES:
        html = client.get(path).content.decode()
        assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None, path
        assert "<style" not in html, path
        assert " style=" not in html, path
