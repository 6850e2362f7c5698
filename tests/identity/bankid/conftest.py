"""Fixtures for the BankID tests: one test PKI per session, a fresh simulator per test on free
ports, and httpx clients set up as the portal's relying party (client certificate, pinned CA)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator

import httpx
import pytest

from portal.identity.bankid.pki import TestPki, ensure_test_pki
from portal.identity.bankid.simulator import RunningSimulator, start_simulator
from portal.identity.demo import DEMO_PEOPLE


@pytest.fixture(scope="session")
def bankid_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return ensure_test_pki(tmp_path_factory.mktemp("bankid") / "pki")


@pytest.fixture
def bankid_simulator(bankid_pki: TestPki) -> Iterator[RunningSimulator]:
    with start_simulator(pki=bankid_pki, people=DEMO_PEOPLE) as simulator:
        yield simulator


def relying_party_context(pki: TestPki, *, with_certificate: bool = True) -> ssl.SSLContext:
    """TLS as the portal's client sets it up: the test CA pinned, the RP's client certificate."""
    context = ssl.create_default_context(cafile=str(pki.ca_cert))
    if with_certificate:
        context.load_cert_chain(pki.client_cert, pki.client_key)
    return context


@pytest.fixture
def rp(bankid_simulator: RunningSimulator, bankid_pki: TestPki) -> Iterator[httpx.Client]:
    """An httpx client for the RP API, with base URL .../rp/v6.0/."""
    with httpx.Client(
        base_url=bankid_simulator.api_url, verify=relying_party_context(bankid_pki), timeout=10
    ) as client:
        yield client


@pytest.fixture
def app(bankid_simulator: RunningSimulator) -> Iterator[httpx.Client]:
    """An httpx client for the test app and its control API."""
    # Plain HTTP: an empty TLS context spares loading certifi's bundle for every test.
    no_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with httpx.Client(base_url=bankid_simulator.app_url, verify=no_tls, timeout=10) as client:
        yield client
