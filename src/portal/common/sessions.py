"""The session store: Django's database sessions, read and updated with written-out statements.

Every request of a logged-in person loads the session, and many write it back (a message to show
after a redirect, the time last seen), so the ORM's query for each (some 0.3 ms of CPU to build,
far more than running it) is replaced: the read by ``rows.first_by``, which gives the same row
with a statement made once per process, with the expiry compared here as the ORM's
``expire_date__gt=now`` would; the update of an existing session by one UPDATE (a single
statement needs no transaction of its own), which, as Django's ``save(force_update=True)``,
raises ``UpdateError`` when the session is gone. Creating and deleting sessions are Django's own.
tests/common/test_sessions.py holds the store to Django's.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.db import connections, router
from django.utils import timezone

from portal.common import rows


@cache
def _update_statement(alias: str) -> str:
    quote = connections[alias].ops.quote_name
    meta = Session._meta
    data, expires, key = (
        quote(str(field.column))
        for field in rows.columns(Session, "session_data", "expire_date", "session_key")
    )
    # Names from the model's own metadata, quoted; the values are parameters.
    return f"UPDATE {quote(meta.db_table)} SET {data} = %s, {expires} = %s WHERE {key} = %s"  # noqa: S608


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        found = rows.first_by(self.model, "session_key", self.session_key)
        if found is None or found.expire_date <= timezone.now():
            self._session_key = None
            return None
        return found

    def save(self, must_create: bool = False) -> None:
        if must_create or self.session_key is None or self.model is not Session:
            super().save(must_create=must_create)
            return
        row = self.create_model_instance(self._get_session())  # type: ignore[attr-defined]
        alias = router.db_for_write(self.model, instance=row)
        connection = connections[alias]
        expires = Session._meta.get_field("expire_date")
        with connection.cursor() as cursor:
            cursor.execute(
                _update_statement(alias),
                [
                    row.session_data,
                    expires.get_db_prep_save(row.expire_date, connection),
                    row.session_key,
                ],
            )
            if cursor.rowcount != 1:
                raise UpdateError
