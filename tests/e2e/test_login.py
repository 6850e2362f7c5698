"""A demo person logs in through the BankID simulator's test app, as after `make run`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from portal.identity.bankid.pki import TestPki
from tests.e2e.conftest import axe_violations, demo_portal

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def portal_with_bankid(
    bankid_pki: TestPki, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    with demo_portal(bankid_pki, Path(tmp_path_factory.mktemp("e2e-login")), staff=()) as portal:
        yield portal


def test_a_demo_person_logs_in_on_this_device(
    page: Page, portal_with_bankid: dict[str, Any]
) -> None:
    base = portal_with_bankid["url"]
    page.goto(base + "/")
    page.get_by_role("link", name="Logga in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Logga in")
    assert axe_violations(page) == []
    page.get_by_role("button", name="BankID på den här enheten").click()
    expect(page.get_by_role("status").first).to_contain_text("Försöker starta BankID-appen.")
    assert axe_violations(page) == []
    order_page = page.url

    # "Starta BankID-appen" opens the simulator's test app (in production: the BankID app).
    page.get_by_role("link", name="Starta BankID-appen").click()
    expect(page).to_have_title("BankID-simulator – testapp")
    page.get_by_label("Person").first.select_option(label="Tolvan Tolvansson (19121212-1212)")
    page.get_by_role("button", name="Legitimera").first.click()
    expect(page.get_by_text("Klart – gå tillbaka till webbplatsen.")).to_be_visible()

    page.goto(order_page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Demobageriet HB", timeout=10_000)
    expect(page.get_by_role("link", name="Tolvan Tolvansson")).to_be_visible()
    assert axe_violations(page) == []
    assert page.csp_violations == []  # type: ignore[attr-defined]

    page.get_by_role("button", name="Logga ut").first.click()
    expect(page.get_by_text("Du är utloggad.")).to_be_visible()


def test_the_qr_code_changes_every_second_and_the_page_follows_the_app(
    page: Page, portal_with_bankid: dict[str, Any]
) -> None:
    import httpx  # noqa: PLC0415

    base, simulator = portal_with_bankid["url"], portal_with_bankid["simulator"]
    page.goto(base + "/logga-in/")
    page.get_by_role("button", name="Mobilt BankID på en annan enhet").click()
    qr = page.locator("[data-eid-qr] svg")
    expect(qr).to_be_visible()
    first = qr.inner_html()
    # A new frame every second; allow for a busy machine.
    for _ in range(40):
        page.wait_for_timeout(250)
        if qr.inner_html() != first:
            break
    assert qr.inner_html() != first, "the QR code did not change"
    assert axe_violations(page) == []

    orders = httpx.get(f"{simulator.app_url}/control/orders").json()
    pending = [o for o in orders if o["status"] == "pending"]
    assert len(pending) == 1
    httpx.post(
        f"{simulator.app_url}/control/orders/{pending[0]['orderRef']}/approve",
        json={"personalNumber": "198001011231"},
    ).raise_for_status()
    # The page's script notices within a few seconds and goes on by itself.
    expect(page.get_by_role("heading", level=1)).to_have_text("Dina arbetsgivare", timeout=10_000)
    expect(page.get_by_text("Astrid Demosson").first).to_be_visible()


def test_the_order_page_works_without_javascript(
    browser: Any, portal_with_bankid: dict[str, Any]
) -> None:
    import httpx  # noqa: PLC0415

    base, simulator = portal_with_bankid["url"], portal_with_bankid["simulator"]
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(base + "/logga-in/")
        page.get_by_role("button", name="Mobilt BankID på en annan enhet").click()
        expect(page.locator("[data-eid-qr] svg")).to_be_visible()
        orders = httpx.get(f"{simulator.app_url}/control/orders").json()
        pending = [o for o in orders if o["status"] == "pending"]
        httpx.post(
            f"{simulator.app_url}/control/orders/{pending[-1]['orderRef']}/approve",
            json={"personalNumber": "198503152343"},
        ).raise_for_status()
        # The <noscript> refresh reloads the page every two seconds until the login is done.
        expect(page.get_by_role("heading", level=1)).to_have_text("Demobageriet HB", timeout=10_000)
    finally:
        context.close()


def test_connecting_a_company_in_the_browser(
    page: Page, portal_with_bankid: dict[str, Any]
) -> None:
    import httpx  # noqa: PLC0415

    base, simulator = portal_with_bankid["url"], portal_with_bankid["simulator"]
    page.goto(base + "/logga-in/?next=/arbetsgivare/")
    page.get_by_role("button", name="Mobilt BankID på en annan enhet").click()
    _approve_pending(httpx, simulator, "191212121212")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dina arbetsgivare", timeout=10_000)
    assert axe_violations(page) == []

    page.get_by_role("link", name="Anslut ditt företag").click()
    page.get_by_label("Organisationsnummer").fill("5599-01-12")
    page.get_by_role("button", name="Fortsätt").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Det finns fel i formuläret")
    expect(summary).to_be_focused()
    assert axe_violations(page) == []

    page.get_by_label("Organisationsnummer").fill("559901-1235")
    page.get_by_role("button", name="Fortsätt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Anslut Exempelbolaget i Sundsvall AB"
    )
    assert axe_violations(page) == []
    page.get_by_text("Jag själv", exact=True).click()
    page.get_by_label("E-postadress till behörighetsadministratören").fill("tolvan@example.se")
    page.get_by_label("Din e-postadress").fill("tolvan@example.se")
    page.get_by_text("Jag har läst villkoren").click()
    page.get_by_role("button", name="Skriv under med BankID").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Skriv under med BankID")
    expect(page.get_by_text("Det här skriver du under")).to_be_visible()
    _approve_pending(httpx, simulator, "191212121212")
    expect(page.get_by_text("är anslutet")).to_be_visible(timeout=10_000)
    assert axe_violations(page) == []
    page.get_by_role("link", name="Till dina arbetsgivare").click()
    expect(page.get_by_text("behörighetsadministratör").first).to_be_visible()
    page.get_by_role("link", name="Exempelbolaget i Sundsvall AB").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Exempelbolaget i Sundsvall AB")
    assert axe_violations(page) == []
    page.get_by_role("link", name="Begär avregistrering").click()
    expect(page.get_by_role("button", name="Skriv under begäran med BankID")).to_be_visible()
    assert axe_violations(page) == []
    assert page.csp_violations == []  # type: ignore[attr-defined]


def _approve_pending(httpx: Any, simulator: Any, number: str) -> None:
    for _ in range(50):
        pending = [
            o
            for o in httpx.get(f"{simulator.app_url}/control/orders").json()
            if o["status"] == "pending"
        ]
        if pending:
            break
        import time  # noqa: PLC0415

        time.sleep(0.1)
    httpx.post(
        f"{simulator.app_url}/control/orders/{pending[-1]['orderRef']}/approve",
        json={"personalNumber": number},
    ).raise_for_status()
