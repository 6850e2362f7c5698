"""The session store: Django's database sessions in a table of the portal's own that keeps, beside
each session's signed data, the key of the person logged in through it (``identity.Session``).

Every request of a logged-in person loads its session and then its person, and many write the
session back (a message to show after a redirect, the time last seen). So:

- the read is one written-out statement that gives the session and its person together (a LEFT
  JOIN on the person's key); the person is kept for the request (``common.memo``) under the key
  ``PersonBackend`` asks for it by, so that finding the session's person costs no statement of
  its own. The expiry is compared here as the ORM's ``expire_date__gt=now`` would;
- the update of an existing session is one UPDATE (a single statement needs no transaction of its
  own), which, as Django's ``save(force_update=True)``, raises ``UpdateError`` when the session is
  gone; it writes the person's key from the session's data, as creating a session does.

Creating and deleting sessions are Django's own. tests/identity/test_sessions.py holds the store to
Django's database store on the same table.
"""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import UpdateError
from django.db import connections, router
from django.utils import timezone

from portal.common import memo, rows
from portal.identity.models import Person, Session


def person_memo_key(person_id: Any) -> tuple[str, Any]:
    """The key under which a request keeps the person of its session (``PersonBackend``)."""
    return ("identity.person", person_id)


@cache
def _read_statement(alias: str) -> str:
    quote = connections[alias].ops.quote_name
    key = quote(str(Session._meta.get_field("session_key").column))
    # Names from the models' own metadata, quoted; the value is a parameter.
    return (
        f"SELECT {rows.column_list(Session, 's')}, {rows.column_list(Person, 'p')}"  # noqa: S608
        f" FROM {quote(Session._meta.db_table)} s"
        f" LEFT JOIN {quote(Person._meta.db_table)} p ON p.id = s.person_id"
        f" WHERE s.{key} = %s"
    )


@cache
def _update_statement(alias: str) -> str:
    quote = connections[alias].ops.quote_name
    data, expires, person, key = (
        quote(str(field.column))
        for field in rows.columns(Session, "session_data", "expire_date", "person", "session_key")
    )
    # Names from the model's own metadata, quoted; the values are parameters.
    return (
        f"UPDATE {quote(Session._meta.db_table)}"  # noqa: S608
        f" SET {data} = %s, {expires} = %s, {person} = %s WHERE {key} = %s"
    )


def _person_id(data: dict[str, Any]) -> int | None:
    """The key of the person the session's data names as logged in, if any."""
    try:
        return int(data[SESSION_KEY])
    except (KeyError, TypeError, ValueError):
        return None


class SessionStore(db.SessionStore):
    @classmethod
    def get_model_class(cls) -> type[Session]:
        return Session

    def _get_session_from_db(self) -> Any:
        found = self._session_and_person()
        if found is None or found[0].expire_date <= timezone.now():
            self._session_key = None
            return None
        session, person = found
        if person.pk is not None:
            memo.remembered(person_memo_key(person.pk), lambda: person)
        return session

    def _session_and_person(self) -> tuple[Session, Person] | None:
        """The session with this key, expired or not, and its person (one with no key when the
        session names none), or None."""
        alias = router.db_for_read(Session)
        found = rows.instances(_read_statement(alias), [self.session_key], Session, Person)
        if not found:
            return None
        session, person = found[0]
        return session, person

    def create_model_instance(self, data: dict[str, Any]) -> Session:
        instance = cast("Session", super().create_model_instance(data))
        instance.person_id = _person_id(data)
        return instance

    def save(self, must_create: bool = False) -> None:
        if must_create or self.session_key is None:
            super().save(must_create=must_create)
            return
        row = self.create_model_instance(self._get_session())  # type: ignore[attr-defined]
        alias = router.db_for_write(Session, instance=row)
        connection = connections[alias]
        expires = Session._meta.get_field("expire_date")
        with connection.cursor() as cursor:
            cursor.execute(
                _update_statement(alias),
                [
                    row.session_data,
                    expires.get_db_prep_save(row.expire_date, connection),
                    row.person_id,
                    row.session_key,
                ],
            )
            if cursor.rowcount != 1:
                raise UpdateError
