from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection

from portal.identity.bankid.pki import TestPki, ensure_test_pki
from portal.identity.bankid.provider import reset_shared_client
from portal.identity.bankid.simulator import RunningSimulator, start_simulator
from portal.identity.demo import DEMO_PEOPLE
from tests.access.world import World, build_world
from tests.factories import PersonFactory


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Tests of PostgreSQL's own behaviour (triggers on TRUNCATE, ...) run on the PostgreSQL pass
    # of CI and are reported as skipped, with the reason, on the SQLite pass.
    if connection.vendor != "postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL=postgres://...)")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)


@pytest.fixture
def person(db: Any) -> Any:
    return PersonFactory()


@pytest.fixture(scope="session")
def bankid_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    """The simulator's test PKI, generated once per test run (never committed)."""
    return ensure_test_pki(Path(tmp_path_factory.mktemp("bankid-pki")))


@pytest.fixture
def bankid(bankid_pki: TestPki, settings: Any) -> Iterator[RunningSimulator]:
    """A BankID simulator on free ports, and the portal's settings pointing at it over mutual TLS."""
    with start_simulator(pki=bankid_pki, people=DEMO_PEOPLE) as simulator:
        settings.BANKID_API_URL = simulator.api_url
        settings.BANKID_CLIENT_CERT = str(bankid_pki.client_cert)
        settings.BANKID_CLIENT_KEY = str(bankid_pki.client_key)
        settings.BANKID_CA_CERT = str(bankid_pki.ca_cert)
        settings.BANKID_SIMULATOR_APP_URL = simulator.app_url
        settings.BANKID_AUTOSTART_URL = simulator.app_url + "/?autostarttoken={token}"
        reset_shared_client()
        yield simulator
        reset_shared_client()


@pytest.fixture
def world(db: Any) -> World:
    """Two employers, their people at every level of access, and a person in each staff role
    (``tests/access/world.py``); a test module may define its own ``world`` instead."""
    return build_world()


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Each test starts with an empty cache: no login counted by an earlier test's rate limit,
    no page fragment rendered under another test's settings."""
    from portal.web.templatetags import samefor  # noqa: PLC0415

    cache.clear()
    samefor._FRAGMENTS.clear()
