"""A user applies for a workplace-aids grant in a real browser: the grant shown as the cost is
typed, an attachment uploaded (and a disguised one refused), check your answers, the receipt;
every page passes axe-core's WCAG 2.1 AA checks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.e2e.conftest import axe_violations
from tests.e2e.test_login import _approve_pending, portal_with_bankid  # noqa: F401 (fixture)
from tests.eservices.test_work_aids import pdf_bytes

pytestmark = pytest.mark.e2e


def test_a_workplace_aids_application_with_the_grant_shown_as_typed(
    page: Page,
    portal_with_bankid: dict[str, Any],  # noqa: F811 (the imported fixture)
) -> None:
    page.goto(portal_with_bankid["url"] + "/logga-in/")
    page.get_by_role("button", name="Mobilt BankID på en annan enhet").click()
    _approve_pending(httpx, portal_with_bankid["simulator"], "198503152343")  # Bertil, a user
    expect(page.get_by_role("heading", level=1)).to_have_text("Demobageriet HB", timeout=10_000)
    page.get_by_role("link", name="Bidrag till arbetshjälpmedel").click()
    page.get_by_role("link", name="Ansök om bidrag").click()
    assert axe_violations(page) == []

    page.get_by_label("Den anställdas personnummer").fill("19121212-1212")
    page.get_by_label("Den anställdas namn").fill("Tolvan Tolvansson")
    since = (timezone.localdate() - timedelta(days=900)).isoformat()
    page.get_by_label("Anställd hos er sedan").fill(since)
    page.get_by_label("Vilket hjälpmedel").fill("Skärmläsare med punktskriftsdisplay")
    page.get_by_text("Datorbaserat hjälpmedel", exact=False).click()
    page.get_by_label("Hur hjälper hjälpmedlet").fill("Tolvan ser dåligt och behöver läsa skärmen.")
    page.get_by_label("Leverantör").fill("Synhjälpen AB")
    grant = page.locator("[data-grant-result]")
    page.get_by_label("Kostnad enligt offert").fill("150 000")
    # Half of 140 000, under the computer-based aids' cap; then the cap for other aids.
    expect(grant).to_contain_text("70\u00a0000\u00a0kr")
    page.get_by_text("Annat hjälpmedel", exact=True).click()
    expect(grant).to_contain_text("50\u00a0000\u00a0kr")
    page.get_by_text("Datorbaserat hjälpmedel", exact=False).click()
    page.get_by_text("Nej", exact=True).click()
    page.get_by_label("Kontaktperson hos arbetsgivaren").fill("Lisa Lön")
    page.get_by_label("Kontaktpersonens telefonnummer").fill("060-12 34 56")

    # A text file named .pdf is refused with the reason; what was typed stays.
    page.get_by_label("Välj filer").set_input_files(
        {"name": "offert.pdf", "mimeType": "application/pdf", "buffer": b"bara text\n" * 50}
    )
    page.get_by_role("button", name="Ladda upp").click()
    expect(page.get_by_role("alert")).to_contain_text("offert.pdf är inte en PDF")
    expect(page.get_by_label("Leverantör")).to_have_value("Synhjälpen AB")
    assert axe_violations(page) == []
    page.get_by_label("Välj filer").set_input_files(
        {"name": "offert.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()}
    )
    page.get_by_role("button", name="Ladda upp").click()
    expect(page.get_by_role("link", name="offert.pdf")).to_be_visible()
    page.get_by_role("button", name="Fortsätt").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Kontrollera dina svar")
    expect(page.get_by_text("70\u00a0000\u00a0kr")).to_be_visible()
    expect(page.get_by_text("offert.pdf")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("button", name="Skicka").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Kvitto HJM-")
    expect(page.get_by_text("Uppgifterna är mottagna.")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="offert.pdf").click()
    assert download.value.suggested_filename == "offert.pdf"
    assert axe_violations(page) == []
