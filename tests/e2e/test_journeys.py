"""The whole chain in Chromium, as people meet it: a signatory connects a company and becomes its
access administrator; the administrator adds a colleague and grants the sick-leave report; the
colleague sends one and gets the receipt; the administrator sees it in the activity log and
revokes the grant; the colleague's next click is refused. axe-core checks every page on the way
(WCAG 2.1 AA), no page breaks the content security policy, and a screenshot of each step is kept
under test-results/journeys/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Locator, Page, expect

from portal.identity.bankid.pki import TestPki
from tests.e2e.conftest import axe_violations, demo_portal
from tests.e2e.test_login import _approve_pending, portal_with_bankid  # noqa: F401 (fixture)
from tests.support.server import run_portal

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "journeys"
TOLVAN = "191212121212"  # signatory of Exempelbolaget i Sundsvall AB in the demo register
ASTRID = "198001011231"  # no access anywhere yet


class Journey:
    """Checks each page a person reaches and keeps a screenshot of it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.step = 0
        SHOTS.mkdir(parents=True, exist_ok=True)

    def check(self, page: Page, what: str) -> None:
        self.step += 1
        page.screenshot(path=str(SHOTS / f"{self.name}-{self.step:02d}-{what}.png"), full_page=True)
        assert axe_violations(page) == [], what
        assert page.csp_violations == [], what  # type: ignore[attr-defined]


@pytest.fixture
def two_people(browser: Browser) -> Iterator[tuple[Page, Page]]:
    contexts = [browser.new_context(locale="sv-SE") for _ in range(2)]
    pages = []
    for context in contexts:
        page = context.new_page()
        page.csp_violations = []  # type: ignore[attr-defined]
        page.on(
            "console",
            lambda message, page=page: (
                page.csp_violations.append(message.text)  # type: ignore[attr-defined]
                if "Content Security Policy" in message.text
                else None
            ),
        )
        pages.append(page)
    yield pages[0], pages[1]
    for context in contexts:
        context.close()


def _log_in(
    page: Page, portal: dict[str, Any], number: str, next_url: str = "", *, lands_on: str = ""
) -> None:
    """Log in with BankID on another device (approved in the simulator); with ``lands_on``, wait
    for the page with that main heading."""
    page.goto(portal["url"] + "/logga-in/" + (f"?next={next_url}" if next_url else ""))
    page.get_by_role("button", name="Mobilt BankID på en annan enhet").click()
    _approve_pending(httpx, portal["simulator"], number)
    if lands_on:
        expect(page.get_by_role("heading", level=1)).to_have_text(lands_on, timeout=10_000)


def test_from_connecting_a_company_to_a_revoked_grant(  # noqa: PLR0915 (one journey, told in order)
    two_people: tuple[Page, Page],
    portal_with_bankid: dict[str, Any],  # noqa: F811 (the imported fixture)
) -> None:
    admin, user = two_people
    journey = Journey("chain")
    portal = portal_with_bankid

    # The signatory connects the company and names themself access administrator.
    _log_in(admin, portal, TOLVAN, next_url="/arbetsgivare/", lands_on="Dina arbetsgivare")
    admin.get_by_role("link", name="Anslut ditt företag").click()
    admin.get_by_label("Organisationsnummer").fill("559901-1235")
    admin.get_by_role("button", name="Fortsätt").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(
        "Anslut Exempelbolaget i Sundsvall AB"
    )
    journey.check(admin, "enrol")
    admin.get_by_text("Jag själv", exact=True).click()
    admin.get_by_label("E-postadress till behörighetsadministratören").fill("tolvan@example.se")
    admin.get_by_label("Din e-postadress").fill("tolvan@example.se")
    admin.get_by_text("Jag har läst villkoren").click()
    admin.get_by_role("button", name="Skriv under med BankID").click()
    _approve_pending(httpx, portal["simulator"], TOLVAN)
    expect(admin.get_by_text("är anslutet")).to_be_visible(timeout=10_000)
    journey.check(admin, "connected")

    # The administrator adds a colleague who may send sick-leave reports.
    admin.get_by_role("link", name="Till dina arbetsgivare").click()
    admin.get_by_role("link", name="Exempelbolaget i Sundsvall AB").click()
    admin.get_by_role("link", name="Hantera behörigheter").click()
    admin.get_by_role("link", name="Lägg till person").click()
    admin.get_by_role("textbox", name="Personnummer").fill("19800101-1231")
    admin.get_by_label("E-postadress").fill("astrid@example.se")
    admin.get_by_text("Användare: får använda").click()
    admin.get_by_role("group", name="Sjukanmälan efter dag 14").get_by_text(
        "Se och lämna uppgifter"
    ).click()
    admin.get_by_label("Skäl").fill("Ansvarar för sjuklön")
    admin.get_by_role("button", name="Lägg till").click()
    expect(admin.get_by_text("Behörigheten är sparad")).to_be_visible()
    journey.check(admin, "granted")
    person_page = admin.url

    # The colleague logs in and sends a sick-leave report.
    _log_in(user, portal, ASTRID, lands_on="Exempelbolaget i Sundsvall AB")
    journey.check(user, "user-start")
    user.get_by_role("link", name="Sjukanmälan efter dag 14").click()
    eservice_page = user.url
    user.get_by_role("link", name="Gör en ny anmälan").click()
    user.get_by_label("Den anställdas personnummer").fill("19121212-1212")
    first_day = (timezone.localdate() - timedelta(days=16)).isoformat()
    user.get_by_label("Första dagen i sjuklöneperioden").fill(first_day)
    user.get_by_text("Heltid", exact=True).click()
    user.get_by_label("Kontaktperson hos arbetsgivaren").fill("Astrid Andersson")
    user.get_by_label("Kontaktpersonens telefonnummer").fill("060-12 34 56")
    user.get_by_role("button", name="Fortsätt").click()
    expect(user.get_by_role("heading", level=1)).to_have_text("Kontrollera dina svar")
    journey.check(user, "check")
    user.get_by_role("button", name="Skicka").click()
    expect(user.get_by_role("heading", level=1)).to_contain_text("Kvitto SJK-")
    journey.check(user, "receipt")

    # The administrator sees it in the activity log, then revokes the grant.
    admin.goto(person_page)
    admin.get_by_role("link", name="Exempelbolaget i Sundsvall AB").first.click()
    admin.get_by_role("link", name="Se aktivitet").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Aktivitet")
    expect(
        admin.get_by_role("cell", name="Uppgifter skickades in i en e-tjänst").first
    ).to_be_visible()
    journey.check(admin, "activity")
    admin.goto(person_page)
    admin.get_by_label("Skäl för att återkalla Sjukanmälan efter dag 14").fill("Byter tjänst")
    admin.get_by_role("button", name="Återkalla").click()
    expect(admin.get_by_text("Gäller inte").first).to_be_visible()
    journey.check(admin, "revoked")

    # The colleague, still logged in, is refused on the very next click.
    user.goto(eservice_page)
    expect(user.get_by_text("Du har inte behörighet till det här.")).to_be_visible()
    journey.check(user, "refused")


# --- The other journeys: each on a portal of its own, so that none depends on another's changes.

CECILIA = "199006223458"  # the agency's case worker, terms editor and operations in these journeys
DEMOBAGERIET = "969901-2341"  # connected in the demo data, Tolvan its access administrator


@contextmanager
def _agency(pki: TestPki, tmp_path: Path, **settings: str) -> Iterator[dict[str, Any]]:
    """A fresh demo portal (its URL, the BankID simulator and its environment, for running the
    background worker) with the given settings, where Cecilia has the staff roles the journeys
    need."""
    roles = ("case_worker", "terms_editor", "operations")
    with demo_portal(pki, tmp_path, staff=tuple((CECILIA, r) for r in roles), **settings) as portal:
        yield portal


@pytest.fixture
def agency_portal(bankid_pki: TestPki, tmp_path: Path) -> Iterator[dict[str, Any]]:
    with _agency(bankid_pki, tmp_path) as portal:
        yield portal


@pytest.fixture
def portal_without_notice_period(bankid_pki: TestPki, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A termination takes effect the day it is made (the notice period is a setting)."""
    with _agency(bankid_pki, tmp_path, PORTAL_TERMINATION_NOTICE_MONTHS="0") as portal:
        yield portal


def _run_background_tasks(portal: dict[str, Any]) -> None:
    """What the portal's worker does in production: run every task that is due, now."""
    done = run_portal(["db_worker", "--batch", "--no-startup-delay", "--no-reload"], portal["env"])
    assert done.returncode == 0, done.stderr


def _mail(portal: dict[str, Any]) -> str:
    """Every message the portal has sent (the file mail backend of development)."""
    folder = Path(portal["env"]["PORTAL_VAR_DIR"]) / "mail"
    if not folder.exists():
        return ""
    return "\n".join(path.read_text() for path in sorted(folder.iterdir()))


def test_an_administrator_deregisters_the_employer(
    two_people: tuple[Page, Page], agency_portal: dict[str, Any]
) -> None:
    admin, _ = two_people
    journey = Journey("deregistration")
    portal = agency_portal

    _log_in(admin, portal, TOLVAN, next_url="/arbetsgivare/", lands_on="Dina arbetsgivare")
    journey.check(admin, "employers")
    admin.get_by_role("main").get_by_role("link", name="Demobageriet HB").first.click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Demobageriet HB")
    journey.check(admin, "employer")
    admin.get_by_role("link", name="Begär avregistrering").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Avregistrera Demobageriet HB")
    journey.check(admin, "request")

    admin.get_by_role("button", name="Skriv under begäran med BankID").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Skriv under med BankID")
    expect(admin.get_by_text("Det här skriver du under")).to_be_visible()
    journey.check(admin, "sign")
    _approve_pending(httpx, portal["simulator"], TOLVAN)
    expect(admin.get_by_text("En begäran om avregistrering kom in")).to_be_visible(timeout=10_000)
    expect(admin.get_by_role("heading", level=1)).to_have_text("Demobageriet HB")
    expect(admin.get_by_role("link", name="Begär avregistrering")).to_have_count(0)
    journey.check(admin, "received")

    # The worker de-registers the employer and sends the confirmation with a link to the letter.
    _run_background_tasks(portal)
    mail = _mail(portal)
    assert "tolvan@example.se" in mail
    letters = re.findall(r"/avregistreringar/[0-9a-f-]{36}/", mail)
    assert letters, mail
    admin.goto(portal["url"] + letters[0])
    expect(admin.get_by_role("heading", level=1)).to_have_text("Bekräftelse av avregistrering")
    expect(
        admin.get_by_text("avregistrerades från e-tjänster för arbetsgivare", exact=False)
    ).to_be_visible()
    expect(admin.get_by_text("skrevs under med e-legitimation", exact=False)).to_be_visible()
    journey.check(admin, "letter")

    # Every access at the employer has ended, the administrator's own included.
    admin.goto(portal["url"] + "/arbetsgivare/")
    expect(admin.get_by_role("heading", level=1)).to_have_text("Dina arbetsgivare")
    expect(admin.get_by_role("main").get_by_role("link", name="Demobageriet HB")).to_have_count(0)
    journey.check(admin, "no-longer-listed")


def test_the_agency_terminates_an_employers_connection(
    two_people: tuple[Page, Page],
    portal_without_notice_period: dict[str, Any],
) -> None:
    """With no notice period (a setting) the termination takes effect when the worker next runs,
    so the administrator is first told and then refused."""
    staff, admin = two_people
    journey = Journey("termination")
    portal = portal_without_notice_period

    # The administrator has the employer open before the agency acts.
    _log_in(admin, portal, TOLVAN, lands_on="Demobageriet HB")
    employer_page = admin.url
    journey.check(admin, "admin-before")

    _log_in(
        staff, portal, CECILIA, next_url="/handlaggning/arbetsgivare/", lands_on="Sök arbetsgivare"
    )
    journey.check(staff, "lookup")
    staff.get_by_label("Organisationsnummer").fill(DEMOBAGERIET)
    staff.get_by_label("Skäl").fill("Ärende 2026/17, avtalsbrott")
    staff.get_by_role("button", name="Sök").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text("Demobageriet HB")
    expect(staff.get_by_role("heading", name="Säg upp anslutningen")).to_be_visible()
    journey.check(staff, "employer")
    staff.get_by_label("Skäl för uppsägningen").fill("Arbetsgivaren har brutit mot villkoren.")
    staff.get_by_role("button", name="Säg upp").click()
    expect(staff.get_by_text("Anslutningen är uppsagd och upphör den")).to_be_visible()
    expect(staff.get_by_role("heading", name="Pågående uppsägning")).to_be_visible()
    journey.check(staff, "terminated")

    # The administrator is told on every page while the termination runs ...
    admin.goto(employer_page)
    expect(
        admin.get_by_text("Anslutningen för Demobageriet HB till e-tjänsterna är uppsagd")
    ).to_be_visible()
    journey.check(admin, "admin-told")

    # ... and by mail; when it takes effect the employer's access ends and the next click is
    # refused.
    _run_background_tasks(portal)
    assert "tolvan@example.se" in _mail(portal)
    admin.goto(employer_page)
    expect(admin.get_by_text("Du har inte behörighet till det här.")).to_be_visible()
    journey.check(admin, "admin-refused")
    admin.goto(portal["url"] + "/arbetsgivare/")
    expect(admin.get_by_role("main").get_by_role("link", name="Demobageriet HB")).to_have_count(0)
    journey.check(admin, "admin-employers")


def test_new_terms_are_published_and_acknowledged(
    two_people: tuple[Page, Page], agency_portal: dict[str, Any]
) -> None:
    editor, admin = two_people
    journey = Journey("terms")
    portal = agency_portal

    _log_in(
        editor, portal, CECILIA, next_url="/handlaggning/villkor/", lands_on="Publicera nya villkor"
    )
    journey.check(editor, "publish-form")
    effective = (timezone.localdate() + timedelta(days=45)).isoformat()
    editor.get_by_label("Version").fill("2099-01")
    editor.get_by_label("Gäller från").fill(effective)
    editor.get_by_label("Rubrik på svenska").fill("Villkor för e-tjänster för arbetsgivare")
    editor.get_by_label("Rubrik på engelska").fill("Terms for the employer e-services")
    editor.get_by_label("Text på svenska").fill(
        "1. Vad villkoren gäller. Villkoren gäller e-tjänsterna.\n\n"
        "2. Loggning. Myndigheten loggar varje inloggning."
    )
    editor.get_by_label("Text på engelska").fill(
        "1. Scope. The terms apply to the e-services.\n\n2. Logging. Every login is logged."
    )
    editor.get_by_label("Ändringarna i korthet, på svenska").fill("Ny punkt om loggning.")
    editor.get_by_label("Ändringarna i korthet, på engelska").fill("New clause on logging.")
    editor.get_by_role("button", name="Publicera").click()
    expect(editor.get_by_text("Version 2099-01 är publicerad.")).to_be_visible()
    journey.check(editor, "published")

    # An administrator who logs in afterwards is told, sees what changes, and acknowledges.
    _log_in(admin, portal, TOLVAN, lands_on="Demobageriet HB")
    banner = admin.get_by_text("Nya villkor (version 2099-01) för Demobageriet HB")
    expect(banner).to_be_visible()
    journey.check(admin, "told")
    admin.get_by_role("link", name="Se ändringarna och bekräfta").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Nya villkor för Demobageriet HB")
    expect(admin.get_by_text("Ny punkt om loggning.")).to_be_visible()
    expect(admin.locator("ins", has_text="Myndigheten loggar varje inloggning.")).to_be_visible()
    expect(admin.locator("del").first).to_be_visible()
    journey.check(admin, "comparison")
    admin.get_by_role("button", name="Bekräfta de nya villkoren för arbetsgivaren").click()
    expect(
        admin.get_by_text("Du har bekräftat villkoren version 2099-01 för Demobageriet HB.")
    ).to_be_visible()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Demobageriet HB")
    expect(banner).to_have_count(0)
    journey.check(admin, "acknowledged")


def test_a_planned_outage_is_announced(
    two_people: tuple[Page, Page], agency_portal: dict[str, Any]
) -> None:
    operator, visitor = two_people
    journey = Journey("outage")
    portal = agency_portal

    _log_in(
        operator,
        portal,
        CECILIA,
        next_url="/handlaggning/drift/",
        lands_on="Drift: avbrott och störningar",
    )
    journey.check(operator, "operations")
    operator.get_by_role("link", name="Planera ett avbrott").click()
    expect(operator.get_by_role("heading", level=1)).to_have_text("Planera ett avbrott")
    journey.check(operator, "form")
    starts = timezone.localtime().replace(second=0, microsecond=0) + timedelta(days=1)
    ends = starts + timedelta(hours=2)
    # FKUI draws the checkbox on its label.
    operator.locator("label", has_text="Alla e-tjänster").click()
    expect(operator.get_by_label("Alla e-tjänster")).to_be_checked()
    operator.get_by_label("Börjar").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    operator.get_by_label("Slutar").fill(ends.strftime("%Y-%m-%dT%H:%M"))
    operator.get_by_label("Rubrik på svenska").fill("Uppgradering av databasen")
    operator.get_by_label("Beskrivning på svenska").fill("Vi byter till en nyare version.")
    operator.get_by_role("button", name="Planera avbrottet").click()
    expect(
        operator.get_by_text("Avbrottet är planerat och visas på driftstatussidan.")
    ).to_be_visible()
    expect(
        operator.get_by_role("main").get_by_text("Uppgradering av databasen").first
    ).to_be_visible()
    journey.check(operator, "planned")

    # Anyone, logged in or not, sees the banner on the start page and the outage on the status
    # page.
    visitor.goto(portal["url"] + "/")
    banner = visitor.locator(".portal-outage-banner")
    expect(banner).to_contain_text("Planerat avbrott: Uppgradering av databasen")
    expect(banner).to_contain_text("Alla e-tjänster är stängda under avbrottet.")
    journey.check(visitor, "start-page")
    banner.get_by_role("link", name="Driftstatus").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Driftstatus")
    outage = visitor.get_by_role("region", name="Uppgradering av databasen")
    expect(outage).to_contain_text(starts.strftime("%H:%M"))
    expect(outage).to_contain_text("Vi byter till en nyare version.")
    journey.check(visitor, "status-page")


def _tab_to(page: Page, target: Locator, *, backwards: bool = False, limit: int = 60) -> None:
    """Press Tab (or Shift+Tab) until ``target`` has the focus, as a keyboard user does."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        if target.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{key} pressed {limit} times never reached {target}")


def _keyboard_to_the_enrolment_form(page: Page, portal: dict[str, Any], journey: Journey) -> None:
    """Log in and give the organisation number, first a wrong one, with the keyboard."""
    keys = page.keyboard

    # The skip link comes first and takes the focus to the content.
    page.goto(portal["url"] + "/logga-in/?next=/arbetsgivare/")
    keys.press("Tab")
    expect(page.get_by_role("link", name="Gå direkt till innehållet")).to_be_focused()
    keys.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    journey.check(page, "login")
    _tab_to(page, page.get_by_role("button", name="Mobilt BankID på en annan enhet"))
    keys.press("Enter")
    _approve_pending(httpx, portal["simulator"], TOLVAN)
    expect(page.get_by_role("heading", level=1)).to_have_text("Dina arbetsgivare", timeout=10_000)
    journey.check(page, "employers")

    _tab_to(page, page.get_by_role("link", name="Anslut ditt företag"))
    keys.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Anslut ditt företag")
    journey.check(page, "enrol")
    number = page.get_by_role("textbox", name="Organisationsnummer")
    _tab_to(page, number)
    keys.type("5599-01-12")
    keys.press("Tab")
    expect(page.get_by_role("button", name="Fortsätt")).to_be_focused()
    keys.press("Space")

    # A wrong number: the error summary has the focus, and its link leads to the field.
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Det finns fel i formuläret")
    expect(summary).to_be_focused()
    journey.check(page, "enrol-error")
    keys.press("Tab")
    expect(summary.get_by_role("link")).to_be_focused()
    keys.press("Enter")
    expect(number).to_be_focused()
    keys.press("Control+A")
    keys.type("559901-1235")
    keys.press("Enter")  # submits the form the field is in
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Anslut Exempelbolaget i Sundsvall AB"
    )
    journey.check(page, "details")


def test_connecting_a_company_with_the_keyboard_only(
    page: Page, agency_portal: dict[str, Any]
) -> None:
    """The enrolment with Tab, Shift+Tab, Space and Enter, and no pointer; only the approval in
    BankID (the phone) goes through the simulator."""
    journey = Journey("keyboard")
    portal = agency_portal
    keys = page.keyboard
    _keyboard_to_the_enrolment_form(page, portal, journey)

    # The administrator: Space picks the option; the number of another person is left empty, and
    # Tab goes on to the e-mail addresses, Shift+Tab back.
    summary = page.get_by_role("alert")
    myself = page.get_by_role("radio", name="Jag själv")
    _tab_to(page, myself)
    keys.press("Space")
    expect(myself).to_be_checked()
    keys.press("Tab")
    expect(
        page.get_by_role("textbox", name="Personnummer för behörighetsadministratören")
    ).to_be_focused()
    administrator_email = page.get_by_role(
        "textbox", name="E-postadress till behörighetsadministratören"
    )
    your_email = page.get_by_role("textbox", name="Din e-postadress")
    keys.press("Tab")
    expect(administrator_email).to_be_focused()
    keys.type("tolvan@example.se")
    keys.press("Tab")
    expect(your_email).to_be_focused()
    keys.type("tolvan@example.se")
    keys.press("Shift+Tab")
    expect(administrator_email).to_be_focused()
    expect(administrator_email).to_have_value("tolvan@example.se")

    # Signing without accepting the terms is refused, with the focus on the summary.
    sign = page.get_by_role("button", name="Skriv under med BankID")
    _tab_to(page, sign)
    keys.press("Enter")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Du behöver godkänna villkoren")
    journey.check(page, "details-error")
    accept = page.get_by_role("checkbox", name="Jag har läst villkoren")
    _tab_to(page, accept)
    keys.press("Space")
    expect(accept).to_be_checked()
    keys.press("Tab")
    expect(sign).to_be_focused()
    keys.press("Space")
    expect(page.get_by_role("heading", level=1)).to_have_text("Skriv under med BankID")
    expect(page.get_by_text("Det här skriver du under")).to_be_visible()
    journey.check(page, "sign")
    _approve_pending(httpx, portal["simulator"], TOLVAN)
    expect(page.get_by_text("är anslutet")).to_be_visible(timeout=10_000)
    journey.check(page, "connected")

    _tab_to(page, page.get_by_role("link", name="Till dina arbetsgivare"))
    keys.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dina arbetsgivare")
    expect(
        page.get_by_role("main").get_by_role("link", name="Exempelbolaget i Sundsvall AB").first
    ).to_be_visible()
    journey.check(page, "employers-after")
