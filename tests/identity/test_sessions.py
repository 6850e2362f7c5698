"""The session store and the person backend: the session and its person read with one written-out
statement; what they find and write is what Django's own database store (on the same table) and
ModelBackend find and write, on SQLite and on PostgreSQL; the person's key beside the session is
kept true; and a session begun before the portal named its own backend, or before the session
table kept the person's key, still works."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.sessions.backends import db as django_db
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.access import sessions as access_sessions
from portal.common import memo
from portal.identity import sessions
from portal.identity.backends import PERSON_BACKEND, PersonBackend
from portal.identity.models import Person, Session
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


class SessionStore(django_db.SessionStore):
    """Django's own database store on the portal's session table (named as Django's: the name is
    part of the salt its data is signed with)."""

    @classmethod
    def get_model_class(cls) -> type[Session]:
        return Session


#: The reference the portal's store is held to.
DjangoStore = SessionStore
#: The portal's store (``SESSION_ENGINE``).
PortalStore = access_sessions.SessionStore


def test_the_portal_uses_them() -> None:
    # access.sessions' store is this one whose statement also reads the person's memberships
    # (tests/access/test_session_memberships.py); the tests here run on the portal's own.
    assert settings.SESSION_ENGINE == "portal.access.sessions"
    assert issubclass(PortalStore, sessions.SessionStore)
    assert settings.AUTHENTICATION_BACKENDS[0] == PERSON_BACKEND


def _saved(data: dict[str, Any]) -> str:
    stored = DjangoStore()
    stored.update(data)
    stored.save()
    assert stored.session_key is not None
    return stored.session_key


def test_a_live_session_loads_as_djangos_store_loads_it() -> None:
    key = _saved({"acting_for": "ab12", "list": [1, "å"], "when": 1_700_000_000.5})
    ours, django = PortalStore(key), DjangoStore(key)
    assert (
        ours.load()
        == django.load()
        == {"acting_for": "ab12", "list": [1, "å"], "when": 1_700_000_000.5}
    )
    assert ours.session_key == key


def test_one_statement_loads_a_session() -> None:
    key = _saved({"a": 1})
    with CaptureQueriesContext(connection) as asked:
        PortalStore(key).load()
    assert len(asked) == 1
    assert "identity_session" in asked[0]["sql"]


@pytest.mark.parametrize(
    "expires", [timedelta(seconds=-1), timedelta(0)], ids=["expired", "expiring now"]
)
def test_an_expired_session_is_empty_and_forgotten(expires: timedelta) -> None:
    key = _saved({"a": 1})
    now = timezone.now()
    Session.objects.filter(session_key=key).update(expire_date=now + expires)
    ours, django = PortalStore(key), DjangoStore(key)
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
    assert PortalStore(key).load() == DjangoStore(key).load() == {}


def test_a_changed_session_is_written_as_djangos_store_writes_it() -> None:
    key = _saved({"a": 1})
    ours = PortalStore(key)
    ours["b"] = 2
    ours.save()
    assert DjangoStore(key).load() == {"a": 1, "b": 2}


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
    stored = DjangoStore()
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
    ours = PortalStore(key)
    ours.load()
    ours["b"] = "å"
    ours.set_expiry(600)
    with CaptureQueriesContext(connection) as asked:
        ours.save()
    assert [query["sql"].split()[0] for query in asked] == ["UPDATE"]
    row = Session.objects.get(session_key=key)
    assert DjangoStore(key).load() == {"a": 1, "b": "å", "_session_expiry": 600}
    assert abs((row.expire_date - timezone.now()).total_seconds() - 600) < 5


def test_updating_a_session_that_is_gone_fails_as_djangos_does() -> None:
    from django.contrib.sessions.backends.base import UpdateError  # noqa: PLC0415

    key = _saved({"a": 1})
    ours, django = PortalStore(key), DjangoStore(key)
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
    ours = PortalStore()
    ours["a"] = 1
    ours.save()
    assert ours.session_key is not None
    assert DjangoStore(ours.session_key).load() == {"a": 1}
    again = PortalStore(ours.session_key)
    again.cycle_key()
    assert again.session_key != ours.session_key
    assert DjangoStore(again.session_key).load() == {"a": 1}
    assert not Session.objects.filter(session_key=ours.session_key).exists()


def test_a_request_that_changes_the_session_writes_it_back() -> None:
    from portal.common.middleware import SESSION_SEEN_KEY, SESSION_STARTED_KEY  # noqa: PLC0415

    client = _logged_in(PERSON_BACKEND)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert SESSION_STARTED_KEY not in DjangoStore(key).load()
    # The first request of a session notes when it started (SessionLifetimeMiddleware).
    assert client.get("/start/").status_code == 302
    stored = DjangoStore(key).load()
    assert stored[SESSION_STARTED_KEY] == stored[SESSION_SEEN_KEY]
    assert stored[SESSION_KEY]


# --- The person's key beside the session ---------------------------------------------------------


def _person_ids(key: str) -> list[int | None]:
    return list(Session.objects.filter(session_key=key).values_list("person_id", flat=True))


@pytest.mark.parametrize(
    "data",
    [
        {},
        {SESSION_KEY: "not a number"},
        {SESSION_KEY: None},
        {SESSION_KEY: ["1"]},
        {"acting_for": "x"},
    ],
    ids=["empty", "not a number", "none", "a list", "no person"],
)
def test_a_session_naming_no_person_keeps_no_persons_key(data: dict[str, Any]) -> None:
    ours = PortalStore()
    ours.update(data)
    ours.save()
    assert ours.session_key is not None
    assert _person_ids(ours.session_key) == [None]
    ours["more"] = 1
    ours.save()
    assert _person_ids(ours.session_key) == [None]
    assert DjangoStore(ours.session_key).load() == {**data, "more": 1}


def test_the_persons_key_follows_the_sessions_data_as_it_is_created_updated_and_cycled() -> None:
    first, second = PersonFactory(), PersonFactory()
    ours = PortalStore()
    ours[SESSION_KEY] = str(first.pk)
    ours.save()
    assert ours.session_key is not None
    assert _person_ids(ours.session_key) == [first.pk]
    # An update writes it too (a login in a session that had none, or another person's).
    again = PortalStore(ours.session_key)
    again[SESSION_KEY] = str(second.pk)
    again.save()
    assert _person_ids(ours.session_key) == [second.pk]
    # Django's login cycles the key: the new row names the person, the old row is gone.
    again.cycle_key()
    assert again.session_key != ours.session_key
    assert _person_ids(ours.session_key) == []
    assert _person_ids(str(again.session_key)) == [second.pk]
    # Logging out empties the session: no person named.
    again.flush()
    again.save()
    assert _person_ids(str(again.session_key)) == [None]


def test_loading_a_session_keeps_its_person_for_the_request() -> None:
    person = PersonFactory(given_name="Åsa")
    stored = PortalStore()
    stored[SESSION_KEY] = str(person.pk)
    stored.save()
    key = str(stored.session_key)
    with memo.request_scope(), CaptureQueriesContext(connection) as asked:
        assert PortalStore(key).load() == {SESSION_KEY: str(person.pk)}
        found = PersonBackend().get_user(person.pk)
    assert len(asked) == 1
    assert found == person
    assert found is not None
    assert found.given_name == "Åsa"
    # As the ORM gives the person: every field, converted.
    assert {f.attname: getattr(found, f.attname) for f in Person._meta.concrete_fields} == {
        f.attname: getattr(person, f.attname) for f in Person._meta.concrete_fields
    }


def test_outside_a_request_the_backend_reads_the_person_itself() -> None:
    person = PersonFactory()
    key = _saved({SESSION_KEY: str(person.pk)})
    PortalStore(key).load()
    with CaptureQueriesContext(connection) as asked:
        assert PersonBackend().get_user(person.pk) == person
    assert len(asked) == 1


def test_a_request_reads_the_session_and_its_person_with_one_statement() -> None:
    client = _logged_in(PERSON_BACKEND)
    # The first request notes the session's start (a write), the next ones only read.
    client.get("/start/")
    with CaptureQueriesContext(connection) as asked:
        answer = client.get("/start/")
    assert answer.status_code == 302
    assert "/logga-in/" not in answer["Location"]
    people = [query["sql"] for query in asked if "identity_person" in query["sql"]]
    assert len(people) == 1
    assert "identity_session" in people[0]


def test_a_session_kept_from_before_the_persons_key_still_logs_in() -> None:
    """A session moved from Django's table has no person's key until its next write: its person
    is read by itself, and the key is written with the session."""
    client = _logged_in(PERSON_BACKEND)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    Session.objects.filter(session_key=key).update(person=None)
    answer = client.get("/start/")
    assert answer.status_code == 302
    assert "/logga-in/" not in answer["Location"]
    assert _person_ids(key) != [None]


def test_a_person_no_longer_active_is_logged_out_at_the_next_request() -> None:
    client = _logged_in(PERSON_BACKEND)
    client.get("/start/")
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    Person.objects.filter(pk=_person_ids(key)[0]).update(is_active=False)
    answer = client.get("/start/")
    assert answer.status_code == 302
    assert "/logga-in/" in answer["Location"]


def test_a_persons_sessions_end_with_the_person() -> None:
    client = _logged_in(PERSON_BACKEND)
    client.get("/start/")
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    person_id = _person_ids(key)[0]
    Session.objects.create(
        session_key="other-device-0123456789abcdefghij",
        session_data="x",
        expire_date=timezone.now() + timedelta(minutes=5),
        person_id=person_id,
    )
    Person.objects.get(pk=person_id).logins.all().delete()
    Person.objects.filter(pk=person_id).delete()
    assert not Session.objects.filter(person_id=person_id).exists()
    assert client.get("/start/")["Location"].startswith("/logga-in/")
