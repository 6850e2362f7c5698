"""The session store: Django's database sessions, read with a written-out statement.

Every request of a logged-in person loads the session, so the ORM's query for it (some 0.3 ms of
CPU to build, far more than running it) is replaced by ``rows.first_by``, which gives the same row
with a statement made once per process; the expiry is compared here as the ORM's
``expire_date__gt=now`` would. Writing, creating and deleting sessions are Django's own.
tests/common/test_sessions.py holds it to Django's store.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import db
from django.utils import timezone

from portal.common.rows import first_by


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        found = first_by(self.model, "session_key", self.session_key)
        if found is None or found.expire_date <= timezone.now():
            self._session_key = None
            return None
        return found
