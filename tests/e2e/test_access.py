"""Access administration in a real browser: an administrator and a user in two browser sessions.

The administrator (Tolvan, of the demo employer Demobageriet HB) removes a user's access while the
user (Bertil) is logged in elsewhere; the user's very next request is refused.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import axe_violations
from tests.e2e.test_login import _approve_pending, portal_with_bankid  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e


def _log_in(page: Page, portal: dict[str, Any], number: str, next_url: str = "") -> None:
    page.goto(portal["url"] + "/logga-in/" + (f"?next={next_url}" if next_url else ""))
    page.get_by_role("button", name="Mobilt BankID på en annan enhet").click()
    _approve_pending(httpx, portal["simulator"], number)


def test_an_administrator_removes_access_and_the_user_is_refused_at_once(
    browser: Browser,
    portal_with_bankid: dict[str, Any],  # noqa: F811 (the imported fixture)
) -> None:
    admin_context = browser.new_context(locale="sv-SE")
    user_context = browser.new_context(locale="sv-SE")
    admin, user = admin_context.new_page(), user_context.new_page()
    try:
        _log_in(user, portal_with_bankid, "198503152343")
        expect(user.get_by_role("heading", level=1)).to_have_text("Demobageriet HB", timeout=10_000)
        user.get_by_role("link", name="Sjukanmälan efter dag 14").click()
        expect(user.get_by_role("heading", level=1)).to_have_text("Sjukanmälan efter dag 14")
        eservice_page = user.url

        _log_in(admin, portal_with_bankid, "191212121212")
        expect(admin.get_by_role("heading", level=1)).to_have_text(
            "Demobageriet HB", timeout=10_000
        )
        admin.get_by_role("link", name="Hantera behörigheter").click()
        expect(admin.get_by_role("heading", level=1)).to_have_text("Behörigheter")
        assert axe_violations(admin) == []
        admin.get_by_label("Sök namn eller personnummer").fill("Bertil")
        admin.get_by_role("button", name="Visa", exact=True).click()
        expect(admin.get_by_text("1 person", exact=True)).to_be_visible()
        admin.get_by_role("link", name="Bertil").first.click()
        expect(admin.get_by_role("heading", level=2, name="Vad kan")).to_be_visible()
        expect(
            admin.get_by_text("Se och lämna uppgifter i Sjukanmälan efter dag 14")
        ).to_be_visible()
        assert axe_violations(admin) == []

        admin.get_by_role("link", name="Ta bort all behörighet nu").click()
        admin.get_by_role("button", name="Ta bort all behörighet nu").click()
        summary = admin.get_by_role("alert")
        expect(summary).to_contain_text("Skriv varför ändringen görs.")
        expect(summary).to_be_focused()
        assert axe_violations(admin) == []
        admin.get_by_label("Skäl").fill("Slutar sin anställning")
        admin.get_by_text("Jag förstår att personen förlorar").click()
        admin.get_by_role("button", name="Ta bort all behörighet nu").click()
        expect(admin.get_by_text("All behörighet för Bertil")).to_be_visible()

        # The user, still logged in in the other browser, is refused on the very next request.
        user.goto(eservice_page)
        expect(user.get_by_text("Du har inte behörighet till det här.")).to_be_visible()
        assert axe_violations(user) == []
    finally:
        admin_context.close()
        user_context.close()


def test_adding_a_person_with_grants_in_the_browser(
    page: Page,
    portal_with_bankid: dict[str, Any],  # noqa: F811 (the imported fixture)
) -> None:
    _log_in(page, portal_with_bankid, "191212121212")
    expect(page.get_by_role("heading", level=1)).to_have_text("Demobageriet HB", timeout=10_000)
    page.get_by_role("link", name="Hantera behörigheter").click()
    page.get_by_role("link", name="Lägg till person").click()
    assert axe_violations(page) == []
    # A text box: the radio "Personen har svenskt personnummer" has the word in its label too.
    page.get_by_role("textbox", name="Personnummer").fill("19800101-1231")
    page.get_by_label("E-postadress").fill("astrid@example.se")
    page.get_by_text("Användare: får använda").click()
    page.get_by_role("group", name="Svara på förfrågningar").get_by_text(
        "Se och lämna uppgifter"
    ).click()
    page.get_by_label("Skäl").fill("Ny på löneavdelningen")
    page.get_by_role("button", name="Lägg till").click()
    expect(page.get_by_text("Behörigheten är sparad")).to_be_visible()
    expect(page.get_by_text("Se och lämna uppgifter i Svara på förfrågningar")).to_be_visible()
    assert axe_violations(page) == []
