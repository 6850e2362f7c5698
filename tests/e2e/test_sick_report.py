"""A user sends a sick-leave report in a real browser: an error explained, check your answers, the
receipt; every page passes axe-core's WCAG 2.1 AA checks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.e2e.conftest import axe_violations
from tests.e2e.test_login import _approve_pending, portal_with_bankid  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e


def test_a_sick_leave_report_from_form_to_receipt(
    page: Page,
    portal_with_bankid: dict[str, Any],  # noqa: F811 (the imported fixture)
) -> None:
    page.goto(portal_with_bankid["url"] + "/logga-in/")
    page.get_by_role("button", name="Mobilt BankID på en annan enhet").click()
    _approve_pending(httpx, portal_with_bankid["simulator"], "198503152343")  # Bertil, a user
    expect(page.get_by_role("heading", level=1)).to_have_text("Demobageriet HB", timeout=10_000)
    page.get_by_role("link", name="Sjukanmälan efter dag 14").click()
    assert axe_violations(page) == []
    page.get_by_role("link", name="Gör en ny anmälan").click()

    page.get_by_label("Den anställdas personnummer").fill("19121212-1213")  # wrong check digit
    first_day = (timezone.localdate() - timedelta(days=16)).isoformat()
    page.get_by_label("Första dagen i sjuklöneperioden").fill(first_day)
    page.get_by_text("Halvtid", exact=True).click()
    page.get_by_label("Kontaktperson hos arbetsgivaren").fill("Lisa Lön")
    page.get_by_label("Kontaktpersonens telefonnummer").fill("060-12 34 56")
    page.get_by_role("button", name="Fortsätt").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Personnumret är inte giltigt.")
    expect(summary).to_be_focused()
    assert axe_violations(page) == []

    page.get_by_label("Den anställdas personnummer").fill("19121212-1212")
    page.get_by_role("button", name="Fortsätt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kontrollera dina svar")
    expect(page.get_by_text("19121212-****")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Skicka").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Kvitto SJK-")
    expect(page.get_by_text("Uppgifterna är mottagna.")).to_be_visible()
    expect(page.get_by_role("link", name="Spara kvittot som PDF")).to_be_visible()
    assert axe_violations(page) == []
    # Going back after sending finds no draft to send twice: the form is empty again.
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sjukanmälan efter dag 14")
    expect(page.get_by_label("Kontaktperson hos arbetsgivaren")).to_have_value("")
    page.get_by_role("link", name="Sjukanmälan efter dag 14").first.click()
    expect(page.get_by_role("row").filter(has_text="SJK-")).to_have_count(1)
