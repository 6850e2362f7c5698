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


@pytest.mark.parametrize(
    "user_id", [10**9, "not a number", "", None], ids=["unknown", "not a number", "empty", "none"]
)
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


def test_an_update_is_one_statement_and_reads_back_as_djangos() -> None:
    key = _saved({"a": 1})
    ours = sessions.SessionStore(key)
    ours.load()
    ours["b"] = "å"
    ours.set_expiry(600)
    with CaptureQueriesContext(connection) as asked:
        ours.save()
    assert [query["sql"].split()[0] for query in asked] == ["UPDATE"]
    row = Session.objects.get(session_key=key)
    assert django_db.SessionStore(key).load() == {"a": 1, "b": "å", "_session_expiry": 600}
    assert abs((row.expire_date - timezone.now()).total_seconds() - 600) < 5


def test_updating_a_session_that_is_gone_fails_as_djangos_does() -> None:
    from django.contrib.sessions.backends.base import UpdateError  # noqa: PLC0415

    key = _saved({"a": 1})
    ours, django = sessions.SessionStore(key), django_db.SessionStore(key)
    # Both have read the session before it goes (read afterwards, it is simply a new one).
    assert ours["a"] == django["a"] == 1
    Session.objects.filter(session_key=key).delete()
    ours["b"] = django["b"] = 2
    with pytest.raises(UpdateError):
        django.save()
    with pytest.raises(UpdateError):
        ours.save()
    assert not Session.objects.filter(session_key=key).exists()


def test_a_new_session_is_created_as_djangos_store_creates_it() -> None:
    ours = sessions.SessionStore()
    ours["a"] = 1
    ours.save()
    assert ours.session_key is not None
    assert django_db.SessionStore(ours.session_key).load() == {"a": 1}
    again = sessions.SessionStore(ours.session_key)
    again.cycle_key()
    assert again.session_key != ours.session_key
    assert django_db.SessionStore(again.session_key).load() == {"a": 1}
    assert not Session.objects.filter(session_key=ours.session_key).exists()


def test_a_request_that_changes_the_session_writes_it_back() -> None:
    from portal.common.middleware import SESSION_SEEN_KEY, SESSION_STARTED_KEY  # noqa: PLC0415

    client = _logged_in(PERSON_BACKEND)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert SESSION_STARTED_KEY not in django_db.SessionStore(key).load()
    # The first request of a session notes when it started (SessionLifetimeMiddleware).
    assert client.get("/start/").status_code == 302
    stored = django_db.SessionStore(key).load()
    assert stored[SESSION_STARTED_KEY] == stored[SESSION_SEEN_KEY]
    assert stored[SESSION_KEY]
