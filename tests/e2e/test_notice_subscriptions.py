"""Subscribing to the availability notices in a real browser: the demo employer's administrator
(Tolvan) finds the page from the employer's page, is told when no choice was made, and
subscribes; each page state is checked with axe."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import axe_violations
from tests.e2e.test_access import _log_in
from tests.e2e.test_login import portal_with_bankid  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e


def test_an_administrator_subscribes_to_the_notices(
    page: Page,
    portal_with_bankid: dict[str, Any],  # noqa: F811 (the imported fixture)
) -> None:
    _log_in(page, portal_with_bankid, "191212121212")
    expect(page.get_by_role("heading", level=1)).to_have_text("Demobageriet HB", timeout=10_000)
    page.get_by_role("link", name="Driftmeddelanden med e-post").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Driftmeddelanden med e-post")
    expect(page.get_by_text("Du prenumererar inte på driftmeddelanden.")).to_be_visible()
    assert axe_violations(page) == []

    page.evaluate("document.querySelectorAll('input[type=radio]').forEach(r => r.checked = false)")
    page.get_by_role("button", name="Spara").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Välj om du vill få driftmeddelanden.")
    assert axe_violations(page) == []

    page.get_by_text("Ja, skicka driftmeddelanden till mig").click()
    page.get_by_role("button", name="Spara").click()
    expect(page.get_by_text("Du får nu driftmeddelanden med e-post.")).to_be_visible()
    expect(page.get_by_text("Du prenumererar på driftmeddelanden.")).to_be_visible()
    assert axe_violations(page) == []
