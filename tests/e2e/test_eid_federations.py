"""Sweden Connect over SAML and OpenID Connect, and a foreign e-ID through eIDAS, in Chromium: the
portal and the local identity providers run as ``make run`` starts them (the same commands, the
same generated keys), and the browser goes the whole way: the login page, the identity provider's
page, the signed (and for SAML encrypted) answer posted or redirected back, and the portal's page.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import axe_violations
from tests.support.server import (
    VENV_BIN,
    free_port,
    portal_env,
    portal_server,
    prepare_database,
)

pytestmark = pytest.mark.e2e


def _wait_for(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read() if process.stdout else ""
            raise RuntimeError(f"{process.args} exited at start-up:\n{output}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within 30 s")


@pytest.fixture(scope="module")
def federations(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp_path: Path = tmp_path_factory.mktemp("federations")
    portal_port, op_port, idp_port = free_port(), free_port(), free_port()
    idp = f"http://127.0.0.1:{idp_port}"
    env = portal_env(
        tmp_path,
        PORTAL_BASE_URL=f"http://127.0.0.1:{portal_port}",
        EID_ALLOWED_ISSUERS="bankid,oidc,saml,eidas",
        OIDC_ISSUER=f"http://127.0.0.1:{op_port}",
        SAML_IDP_METADATA=f"{idp}/metadata",
        SAML_IDP_ENTITY_ID=f"{idp}/idp/se",
        SAML_EIDAS_IDP_ENTITY_ID=f"{idp}/idp/eidas",
    )
    # The keys are made by the first to need them: the identity providers, before the portal.
    prepare_database(env, demo_data=True)
    processes = []
    try:
        for command, health in (
            (["oidc-provider", "--port", str(op_port)], f"http://127.0.0.1:{op_port}/jwks.json"),
            (["saml-idp", "--port", str(idp_port)], f"{idp}/metadata"),
        ):
            process = subprocess.Popen(
                [str(VENV_BIN / "portal"), *command],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            processes.append(process)
            _wait_for(health, process)
        with portal_server(env, migrate=False, port=portal_port) as base_url:
            yield {"url": base_url}
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
            if process.stdout:
                process.stdout.close()


def _no_violations(page: Page) -> None:
    assert axe_violations(page) == []
    assert page.csp_violations == []  # type: ignore[attr-defined]


def test_a_swedish_e_id_through_sweden_connect_over_saml(
    page: Page, federations: dict[str, Any]
) -> None:
    page.goto(federations["url"] + "/logga-in/")
    _no_violations(page)
    page.get_by_role("button", name="Annan svensk e-legitimation (Sweden Connect)").click()
    # The local identity provider's page, reached by the portal's signed AuthnRequest (POST).
    expect(page.get_by_role("button", name="Legitimera")).to_be_visible(timeout=10_000)
    page.get_by_label("Tolvan Tolvansson", exact=False).check()
    page.get_by_role("button", name="Legitimera").click()
    # The signed response with its encrypted assertion is posted back, then on to the portal.
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible(timeout=15_000)
    _no_violations(page)
    page.goto(federations["url"] + "/konto/")
    expect(page.get_by_role("cell", name="saml").first).to_be_visible()


def test_a_swedish_e_id_through_sweden_connect_over_openid_connect(
    page: Page, federations: dict[str, Any]
) -> None:
    page.goto(federations["url"] + "/logga-in/")
    page.get_by_role("button", name="Svensk e-legitimation via Sweden Connect").click()
    expect(page.get_by_role("button", name="Legitimera")).to_be_visible(timeout=10_000)
    page.get_by_role("button", name="Legitimera").click()
    expect(page.get_by_role("button", name="Logga ut")).to_be_visible(timeout=15_000)
    _no_violations(page)


def test_a_foreign_e_id_through_the_eidas_connector(
    browser: Browser, federations: dict[str, Any]
) -> None:
    context = browser.new_context(locale="sv-SE")
    page = context.new_page()
    page.csp_violations = []  # type: ignore[attr-defined]
    try:
        page.goto(federations["url"] + "/logga-in/")
        page.get_by_role("button", name="Utländsk e-legitimation (eIDAS)").click()
        expect(page.get_by_role("button", name="Legitimera")).to_be_visible(timeout=10_000)
        page.get_by_label("Erika Mustermann", exact=False).check()
        page.get_by_role("button", name="Legitimera").click()
        expect(page.get_by_role("button", name="Logga ut")).to_be_visible(timeout=15_000)
        page.goto(federations["url"] + "/konto/")
        expect(page.get_by_text("DE/SE/1234567890")).to_be_visible()
        _no_violations(page)
    finally:
        context.close()
