"""Fixtures of the fault tests: a private PostgreSQL server, a fresh migrated database on it with
the demo data for each test, and the portal under gunicorn (two workers) on that database.

``private_postgres``  the server (``tests.faults.harness.PrivatePostgres``), one per test process;
                      a test may stop and start it (the next test finds it running again).
``pg_portal_env``     the environment of a portal on a fresh database of that server (migrated,
                      demo data loaded), with var/ under the test's tmp_path; change it and start
                      gunicorn yourself with ``harness.gunicorn_portal(env, tmp_path)``, or:
``pg_portal``         gunicorn with two workers on ``pg_portal_env`` (a ``RunningPortal``).

Without PostgreSQL's server programs the fixtures fail the test (never skip it), saying how to
install them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults import harness
from tests.support.server import portal_env

_databases = itertools.count(1)
TEMPLATE = "portal_template"


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[harness.PrivatePostgres]:
    missing = ""
    try:
        bindir = harness.postgres_bindir()
    except harness.HarnessError as error:
        missing = str(error)
    if missing:
        pytest.fail(missing, pytrace=False)
    with harness.private_postgres(bindir) as server:
        yield server


@pytest.fixture(scope="session")
def _portal_template(
    private_postgres: harness.PrivatePostgres, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A database migrated once, with the demo data, that each test's database is copied from."""
    private_postgres.create_database(TEMPLATE)
    env = portal_env(
        tmp_path_factory.mktemp("faults-template"), DATABASE_URL=private_postgres.url(TEMPLATE)
    )
    harness.prepare_database(env)
    return TEMPLATE


@pytest.fixture
def pg_portal_env(
    private_postgres: harness.PrivatePostgres, _portal_template: str, tmp_path: Path
) -> dict[str, str]:
    if not private_postgres.running():
        # An earlier test stopped it and failed before starting it again.
        private_postgres.start()
    name = f"portal_{next(_databases)}"
    private_postgres.create_database(name, template=_portal_template)
    return portal_env(
        tmp_path,
        DATABASE_URL=private_postgres.url(name),
        # Nothing to wait for when the server is down: the connection is refused at once.
        DATABASE_CONNECT_TIMEOUT="2",
    )


@pytest.fixture
def pg_portal(pg_portal_env: dict[str, str], tmp_path: Path) -> Iterator[harness.RunningPortal]:
    with harness.gunicorn_portal(pg_portal_env, tmp_path, workers=2) as portal:
        yield portal
