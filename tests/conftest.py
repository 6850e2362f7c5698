from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

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
