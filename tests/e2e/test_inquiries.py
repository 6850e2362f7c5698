"""A user answers the agency's inquiry in a real browser: the inbox by due date, the answer form
with an error explained, check your answers, the receipt; every page passes axe-core's WCAG 2.1
AA checks."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import axe_violations
from tests.e2e.test_access import _log_in
from tests.e2e.test_login import portal_with_bankid  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e


def test_an_inquiry_about_income_is_answered(
    page: Page,
    portal_with_bankid: dict[str, Any],  # noqa: F811 (the imported fixture)
) -> None:
    _log_in(page, portal_with_bankid, "191212121212")  # Tolvan: may answer inquiries
    expect(page.get_by_role("heading", level=1)).to_have_text("Demobageriet HB", timeout=10_000)
    page.get_by_role("link", name="Svara på förfrågningar").click()
    # The demo's two open inquiries, the one due first at the top.
    rows = page.get_by_role("table").first.get_by_role("row")
    expect(rows).to_have_count(3)  # the header and two inquiries
    expect(rows.nth(1)).to_contain_text("Frånvaro")
    expect(rows.nth(2)).to_contain_text("Inkomst")
    assert axe_violations(page) == []

    rows.nth(2).get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Förfrågan FRG-")
    page.get_by_label("Månadslön före skatt").fill("trettiotusen")
    page.get_by_label("Sysselsättningsgrad i procent").fill("100")
    page.get_by_label("Anställd sedan").fill("2019-03-01")
    page.get_by_role("button", name="Fortsätt").click()
    summary = page.get_by_role("alert")
    expect(summary).to_be_focused()
    assert axe_violations(page) == []
    # What was typed is kept; correct the salary and go on.
    expect(page.get_by_label("Sysselsättningsgrad i procent")).to_have_value("100")
    page.get_by_label("Månadslön före skatt").fill("32 500")
    page.get_by_role("button", name="Fortsätt").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Kontrollera dina svar")
    expect(page.get_by_text("32\u00a0500", exact=False).first).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Skicka").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Kvitto SVR-")
    expect(page.get_by_text("Uppgifterna är mottagna.")).to_be_visible()
    assert axe_violations(page) == []
    # The inbox now lists it as answered, and only the absence inquiry is left to answer.
    page.get_by_role("link", name="Svara på förfrågningar").first.click()
    expect(page.get_by_role("table").first.get_by_role("row")).to_have_count(2)
    expect(page.get_by_role("table").nth(1)).to_contain_text("SVR-")
