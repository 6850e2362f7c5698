from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from portal.identity.bankid.pki import TestPki
from portal.identity.bankid.simulator import start_simulator
from portal.identity.demo import DEMO_PEOPLE
from tests.support.server import portal_env, portal_server, run_portal

# Playwright's synchronous API keeps an event loop running in this thread for the whole session;
# Django would then refuse database access in later tests of the same process as "async". The
# portal under test runs in its own process, so this affects only the test process.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


@contextmanager
def demo_portal(
    pki: TestPki, tmp_path: Path, *, staff: tuple[tuple[str, str], ...] = (), **settings: str
) -> Iterator[dict[str, Any]]:
    """The demo portal with the BankID simulator (its URL, the simulator and the portal's
    environment, e.g. for running its commands), the staff roles given as (personal number,
    role), and any further settings."""
    with start_simulator(pki=pki, people=DEMO_PEOPLE) as simulator:
        env = portal_env(
            tmp_path,
            BANKID_API_URL=simulator.api_url,
            BANKID_CLIENT_CERT=str(pki.client_cert),
            BANKID_CLIENT_KEY=str(pki.client_key),
            BANKID_CA_CERT=str(pki.ca_cert),
            BANKID_SIMULATOR_APP_URL=simulator.app_url,
            **settings,
        )
        with portal_server(env, demo_data=True) as base_url:
            roles: dict[str, list[str]] = {}
            for number, role in staff:
                roles.setdefault(number, []).append(role)
            for number, held in roles.items():
                done = run_portal(["staff_grant", number, *held], env)
                assert done.returncode == 0, done.stderr
            yield {"url": base_url, "simulator": simulator, "env": env}


@pytest.fixture(scope="session")
def live_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The portal as ``make run`` serves it: its own SQLite database, migrated, with demo data."""
    tmp_path = tmp_path_factory.mktemp("e2e")
    env = portal_env(tmp_path)
    with portal_server(env) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian's chromium is needed at {CHROMIUM} (make browser installs it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="sv-SE")
    page = context.new_page()
    page.csp_violations = []  # type: ignore[attr-defined]
    page.on(
        "console",
        lambda message: (
            page.csp_violations.append(message.text)  # type: ignore[attr-defined]
            if "Content Security Policy" in message.text
            else None
        ),
    )
    yield page
    context.close()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Run axe-core (from npm) in the page against WCAG 2.1 A and AA; return the violations."""
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE} (npm ci installs it)")
    # evaluate() runs through the DevTools protocol, which the page's CSP does not govern, so axe
    # is checked against the page exactly as the portal serves it.
    page.evaluate(AXE.read_text())
    result: dict[str, Any] = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
    ]
