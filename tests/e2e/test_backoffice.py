"""A staff member in a real browser: the back-office start page from the header, staff
administration, a person look-up refused without a reason and then made, and an employer look-up;
every page passes axe-core's WCAG 2.1 AA checks."""

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
def portal_with_staff(
    bankid_pki: TestPki, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """The demo portal, where Cecilia is staff administrator and in the partner customer centre."""
    with demo_portal(
        bankid_pki,
        Path(tmp_path_factory.mktemp("e2e-backoffice")),
        staff=((CECILIA, "staff_administrator"), (CECILIA, "partner_support")),
    ) as portal:
        yield portal


def test_a_staff_member_works_in_the_back_office(
    page: Page, portal_with_staff: dict[str, Any]
) -> None:
    base = portal_with_staff["url"]
    page.goto(base + "/logga-in/")
    page.get_by_role("button", name="Mobilt BankID på en annan enhet").click()
    _approve_pending(httpx, portal_with_staff["simulator"], CECILIA)
    header_link = page.get_by_role("link", name="Handläggning")
    expect(header_link).to_be_visible(timeout=10_000)

    header_link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Handläggning")
    assert axe_violations(page) == []

    page.get_by_role("link", name="Personal och roller").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Personal och roller")
    assert axe_violations(page) == []
    page.get_by_label("Personnummer").fill("19700163-2392")
    page.get_by_role("button", name="Ge rollen").click()
    expect(page.get_by_text("Välj en roll.").first).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("Personnummer").fill("19700163-2392")
    page.get_by_text("granskare", exact=True).click()
    page.get_by_role("button", name="Ge rollen").click()
    expect(page.get_by_text("har fått rollen granskare")).to_be_visible()
    page.get_by_role("link", name="Ta bort rollen granskare").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ta bort roll")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Ta bort rollen").click()
    expect(page.get_by_text("Rollen granskare är borttagen")).to_be_visible()

    page.goto(base + "/handlaggning/personer/")
    page.get_by_label("Personnummer").fill("19121212-1212")
    page.get_by_role("button", name="Sök").click()
    expect(
        page.get_by_text("Ange skälet till sökningen, till exempel ett ärendenummer.").first
    ).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_label("Skäl för sökningen").fill("Samtal, ärende 2026/1")
    page.get_by_role("button", name="Sök").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tolvan Tolvansson")
    assert axe_violations(page) == []

    page.get_by_role("main").get_by_role("link", name="Demobageriet HB").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Demobageriet HB")
    expect(page.get_by_role("heading", name="Behörighetsadministratörer")).to_be_visible()
    assert axe_violations(page) == []
