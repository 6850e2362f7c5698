"""Moving to the portal's own session table keeps the sessions that are open: the migration moves
each live row of Django's table (and drops the expired ones), so nobody is logged out by it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import db as django_db
from django.contrib.sessions.models import Session as DjangosSession
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone

from portal.identity.backends import PERSON_BACKEND
from portal.identity.models import Session
from tests.factories import PersonFactory

BEFORE = ("identity", "0003_eid_assurance_used_assertion")
AFTER = ("identity", "0004_session")


def _migrate(target: tuple[str, str]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])


# SQLite changes a schema only outside a transaction; PostgreSQL can inside the test's own, which
# is rolled back afterwards (emptying its tables between tests would meet the audit log's guard).
@pytest.mark.django_db(transaction=connection.vendor == "sqlite")
def test_open_sessions_are_moved_and_expired_ones_dropped() -> None:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY  # noqa: PLC0415

    person = PersonFactory()
    _migrate(BEFORE)
    try:
        # A session of the person, written by Django's own store to Django's table.
        live = django_db.SessionStore()
        live.update(
            {
                SESSION_KEY: str(person.pk),
                BACKEND_SESSION_KEY: PERSON_BACKEND,
                HASH_SESSION_KEY: person.get_session_auth_hash(),
            }
        )
        live.create()
        expired = django_db.SessionStore()
        expired["a"] = 1
        expired.create()
        DjangosSession.objects.filter(session_key=expired.session_key).update(
            expire_date=timezone.now() - timedelta(minutes=1)
        )
    finally:
        _migrate(AFTER)
    assert not DjangosSession.objects.exists()
    moved = Session.objects.get()
    assert moved.session_key == live.session_key
    assert moved.person_id is None
    # The person is still logged in through it, and its next write names them beside it.
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = str(live.session_key)
    answer = client.get("/start/")
    assert answer.status_code == 302
    assert "/logga-in/" not in answer["Location"]
    assert Session.objects.get().person_id == person.pk
