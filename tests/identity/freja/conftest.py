"""Fixtures for the Freja eID tests, reusable by the portal's own login tests.

- ``freja_pki`` (session): the simulator's test PKI (TLS, and the key that signs results).
- ``freja_simulator``: a Freja simulator on free ports, with the demo people.
- ``freja_settings``: the same simulator, and the portal's FREJA_* settings pointing at it (and
  ``EID_SIMULATOR`` on), with the shared client reset before and after.
- ``freja_client``: a ``FrejaClient`` for the simulator that does not retry.
- ``freja_app``: an httpx client for the test app and its JSON control API.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from portal.identity.demo import DEMO_PEOPLE
from portal.identity.freja.client import FrejaClient
from portal.identity.freja.pki import FrejaTestPki, ensure_freja_pki
from portal.identity.freja.provider import reset_shared_client
from portal.identity.freja.simulator import RunningFrejaSimulator, start_simulator


@pytest.fixture(scope="session")
def freja_pki(tmp_path_factory: pytest.TempPathFactory) -> FrejaTestPki:
    return ensure_freja_pki(tmp_path_factory.mktemp("freja") / "pki")


@pytest.fixture
def freja_simulator(freja_pki: FrejaTestPki) -> Iterator[RunningFrejaSimulator]:
    with start_simulator(pki=freja_pki, people=DEMO_PEOPLE) as simulator:
        yield simulator


@pytest.fixture
def freja_settings(
    freja_simulator: RunningFrejaSimulator, freja_pki: FrejaTestPki, settings: Any
) -> Iterator[RunningFrejaSimulator]:
    settings.EID_SIMULATOR = True
    settings.FREJA_API_URL = freja_simulator.api_url
    settings.FREJA_CLIENT_CERT = str(freja_pki.client_cert)
    settings.FREJA_CLIENT_KEY = str(freja_pki.client_key)
    settings.FREJA_CA_CERT = str(freja_pki.ca_cert)
    settings.FREJA_SIGNING_CERT = str(freja_pki.signing_cert)
    settings.FREJA_SIMULATOR_APP_URL = freja_simulator.app_url
    reset_shared_client()
    yield freja_simulator
    reset_shared_client()


def make_client(simulator: RunningFrejaSimulator, pki: FrejaTestPki, **options: Any) -> FrejaClient:
    options.setdefault("retries", 0)
    return FrejaClient(
        base_url=simulator.api_url,
        client_cert=str(pki.client_cert),
        client_key=str(pki.client_key),
        ca_cert=str(pki.ca_cert),
        signing_cert=str(pki.signing_cert),
        **options,
    )


@pytest.fixture
def freja_client(
    freja_simulator: RunningFrejaSimulator, freja_pki: FrejaTestPki
) -> Iterator[FrejaClient]:
    client = make_client(freja_simulator, freja_pki)
    yield client
    client.close()


def relying_party_context(pki: FrejaTestPki, *, with_certificate: bool = True) -> ssl.SSLContext:
    """TLS as the portal's client sets it up: the test CA pinned, the RP's client certificate."""
    context = ssl.create_default_context(cafile=str(pki.ca_cert))
    if with_certificate:
        context.load_cert_chain(pki.client_cert, pki.client_key)
    return context


@pytest.fixture
def freja_app(freja_simulator: RunningFrejaSimulator) -> Iterator[httpx.Client]:
    # Plain HTTP: an empty TLS context spares loading certifi's bundle for every test.
    no_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with httpx.Client(base_url=freja_simulator.app_url, verify=no_tls, timeout=10) as client:
        yield client
