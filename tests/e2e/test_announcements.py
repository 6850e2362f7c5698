"""A terms editor publishes an announcement in a real browser: refused without a Swedish text, then
published, shown on the start page and in the archive, in English with the Swedish fallback
note, and withdrawn after a confirmation; every page passes axe-core's WCAG 2.1 AA checks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from portal.identity.bankid.pki import TestPki
from tests.e2e.conftest import axe_violations, demo_portal
from tests.e2e.test_login import _approve_pending

pytestmark = pytest.mark.e2e

CECILIA = "199006223458"


@pytest.fixture(scope="module")
def portal_with_editor(
    bankid_pki: TestPki, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """The demo portal, where Cecilia is one of the agency's terms editors."""
    with demo_portal(
        bankid_pki,
        Path(tmp_path_factory.mktemp("e2e-announcements")),
        staff=((CECILIA, "terms_editor"),),
    ) as portal:
        yield portal


def test_a_terms_editor_publishes_and_withdraws_an_announcement(
    page: Page, portal_with_editor: dict[str, Any]
) -> None:
    base = portal_with_editor["url"]
    page.goto(base + "/logga-in/")
    page.get_by_role("button", name="Mobilt BankID på en annan enhet").click()
    _approve_pending(httpx, portal_with_editor["simulator"], CECILIA)
    expect(page.get_by_role("link", name="Handläggning")).to_be_visible(timeout=10_000)

    page.goto(base + "/handlaggning/meddelanden/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Meddelanden och instruktioner")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Publicera ett meddelande").click()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Publicera").click()
    expect(page.get_by_text("Det finns fel i formuläret")).to_be_visible()
    expect(
        page.get_by_role("link", name="Skriv en rubrik på svenska.", exact=False)
    ).to_be_visible()
    assert axe_violations(page) == []

    page.get_by_label("Rubrik på svenska").fill("Nya blanketter i januari")
    page.get_by_label("Text på svenska").fill("Från den 1 januari gäller nya blanketter.")
    page.locator("label", has_text="Viktigt").click()  # FKUI draws the radio button on its label
    page.get_by_role("button", name="Publicera").click()
    expect(page.get_by_text("Meddelandet är publicerat.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nya blanketter i januari")
    assert axe_violations(page) == []

    page.goto(base + "/")
    expect(page.get_by_role("heading", name="Nya blanketter i januari", level=3)).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("link", name="Alla meddelanden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Meddelanden")
    assert axe_violations(page) == []

    page.get_by_role("button", name="In English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    heading = page.get_by_role("heading", name="Nya blanketter i januari", level=3)
    expect(heading).to_have_attribute("lang", "sv")
    assert axe_violations(page) == []
    page.get_by_role("button", name="På svenska").click()

    page.goto(base + "/handlaggning/meddelanden/")
    page.get_by_role("link", name="Nya blanketter i januari").click()
    page.get_by_role("link", name="Återkalla").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Återkalla meddelandet")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Ja, återkalla meddelandet").click()
    expect(page.get_by_text("Meddelandet är återkallat")).to_be_visible()

    page.goto(base + "/")
    expect(page.get_by_text("Nya blanketter i januari")).to_have_count(0)
    assert page.csp_violations == []  # type: ignore[attr-defined]
