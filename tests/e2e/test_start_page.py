"""The start page in a real browser, in Swedish and in English, with no accessibility violations."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import axe_violations

pytestmark = pytest.mark.e2e

PAGES = [
    "/",
    "/villkor/",
    "/tillganglighet/",
    "/tekniska-krav/",
    "/hjalp/",
    "/driftstatus/",
    "/finns-inte/",
]


def test_the_start_page_in_swedish_and_english(page: Page, live_portal: str) -> None:
    page.goto(live_portal + "/")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.get_by_role("heading", level=1)).to_have_text("E-tjänster för arbetsgivare")
    assert axe_violations(page) == []

    page.get_by_role("button", name="In English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("E-services for employers")
    assert page.url == live_portal + "/"
    assert axe_violations(page) == []

    page.get_by_role("button", name="På svenska").click()
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    assert page.csp_violations == []  # type: ignore[attr-defined]


def test_the_skip_link_is_first_and_moves_focus_to_the_content(
    page: Page, live_portal: str
) -> None:
    page.goto(live_portal + "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Gå direkt till innehållet")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    expect(page.locator("main")).to_be_focused()


@pytest.mark.parametrize("path", PAGES)
def test_every_public_page_passes_axe(page: Page, live_portal: str, path: str) -> None:
    page.goto(live_portal + path)
    assert axe_violations(page) == [], path
    assert page.csp_violations == []  # type: ignore[attr-defined]


def test_the_stylesheets_come_from_the_portal_itself(page: Page, live_portal: str) -> None:
    loaded: list[str] = []
    page.on("requestfinished", lambda request: loaded.append(request.url))
    page.goto(live_portal + "/")
    stylesheets = [url for url in loaded if url.endswith(".css")]
    assert any("fkui" in url for url in stylesheets)
    assert all(url.startswith(live_portal) for url in loaded)
