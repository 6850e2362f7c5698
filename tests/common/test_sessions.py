"""The session store and the person backend read with written-out statements: what they find is
what Django's own store and ModelBackend find, on SQLite and on PostgreSQL, and a session begun
before the portal named its own backend still works."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends import db as django_db
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.common import sessions
from portal.identity.backends import PERSON_BACKEND, PersonBackend
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_the_portal_uses_them() -> None:
    assert settings.SESSION_ENGINE == "portal.common.sessions"
    assert settings.AUTHENTICATION_BACKENDS[0] == PERSON_BACKEND


def _saved(data: dict[str, Any]) -> str:
    stored = django_db.SessionStore()
    stored.update(data)
    stored.save()
    assert stored.session_key is not None
    return stored.session_key


def test_a_live_session_loads_as_djangos_store_loads_it() -> None:
    key = _saved({"acting_for": "ab12", "list": [1, "å"], "when": 1_700_000_000.5})
    ours, django = sessions.SessionStore(key), django_db.SessionStore(key)
    assert (
        ours.load()
        == django.load()
        == {"acting_for": "ab12", "list": [1, "å"], "when": 1_700_000_000.5}
    )
    assert ours.session_key == key


def test_one_statement_loads_a_session() -> None:
    key = _saved({"a": 1})
    with CaptureQueriesContext(connection) as asked:
        sessions.SessionStore(key).load()
    assert len(asked) == 1
    assert "django_session" in asked[0]["sql"]


@pytest.mark.parametrize(
    "expires", [timedelta(seconds=-1), timedelta(0)], ids=["expired", "expiring now"]
)
def test_an_expired_session_is_empty_and_forgotten(expires: timedelta) -> None:
    key = _saved({"a": 1})
    now = timezone.now()
    Session.objects.filter(session_key=key).update(expire_date=now + expires)
    ours, django = sessions.SessionStore(key), django_db.SessionStore(key)
    # Django's store compares with its own clock reading; "now" for both is a moment later.
    assert ours.load() == django.load() == {}
    assert ours.session_key is None
    assert django.session_key is None


@pytest.mark.parametrize(
    "key",
    ["x" * 32, "no such session key at all", "", "å" * 40, "k" * 41],
    ids=["unknown", "unknown, spaces", "empty", "non-ascii", "too long for the column"],
)
def test_a_key_no_session_has_loads_nothing(key: str) -> None:
    _saved({"a": 1})
    assert sessions.SessionStore(key).load() == django_db.SessionStore(key).load() == {}


def test_a_changed_session_is_written_as_djangos_store_writes_it() -> None:
    key = _saved({"a": 1})
    ours = sessions.SessionStore(key)
    ours["b"] = 2
    ours.save()
    assert django_db.SessionStore(key).load() == {"a": 1, "b": 2}


def test_the_person_backend_finds_what_modelbackend_finds() -> None:
    active = PersonFactory()
    inactive = PersonFactory(is_active=False)
    ours, django = PersonBackend(), ModelBackend()
    found = ours.get_user(active.pk)
    assert found == django.get_user(active.pk) == active
    assert found is not None
    assert (found.public_id, found.given_name, found.is_active) == (
        active.public_id,
        active.given_name,
        True,
    )
    assert ours.get_user(inactive.pk) is None
    assert django.get_user(inactive.pk) is None
    assert ours.get_user(str(active.pk)) == active


@pytest.mark.parametrize("user_id", [10**9, "not a number", "", None], ids=str)
def test_the_person_backend_finds_nobody_for_a_key_no_person_has(user_id: Any) -> None:
    PersonFactory()
    assert PersonBackend().get_user(user_id) is None


def _logged_in(backend: str) -> Client:
    person = PersonFactory()
    stored = django_db.SessionStore()
    stored[SESSION_KEY] = str(person.pk)
    stored[BACKEND_SESSION_KEY] = backend
    stored[HASH_SESSION_KEY] = person.get_session_auth_hash()
    stored.save()
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = stored.session_key
    return client


@pytest.mark.parametrize(
    "backend", [PERSON_BACKEND, "django.contrib.auth.backends.ModelBackend"], ids=["new", "old"]
)
def test_a_session_naming_either_backend_is_logged_in(backend: str) -> None:
    answer = _logged_in(backend).get("/start/")
    assert answer.status_code == 302
    assert "/logga-in/" not in answer["Location"]


def test_a_session_naming_an_unknown_backend_is_logged_out() -> None:
    answer = _logged_in("portal.nowhere.Backend").get("/start/")
    assert answer.status_code == 302
    assert "/logga-in/" in answer["Location"]
