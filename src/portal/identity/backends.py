"""How a session's person is found on every request.

Nobody logs in with a password (R2): a person is logged in by the e-ID services in
``identity.services``, and on each later request Django's auth framework asks the backend named in
the session for the person by key. ``PersonBackend`` answers with the person the session store
read together with the session (``identity.sessions``, kept for the request), or else with a
written-out statement (``rows.first_by``) instead of building the ORM's query anew; it refuses, as
Django's ``ModelBackend`` does, a person who is no longer active.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from portal.common import memo
from portal.common.rows import first_by
from portal.identity.models import Person
from portal.identity.sessions import person_memo_key

#: The backend a login names in the session (``django.contrib.auth.login(backend=...)``).
PERSON_BACKEND = "portal.identity.backends.PersonBackend"


class PersonBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Person | None:
        person = memo.remembered(person_memo_key(user_id), lambda: first_by(Person, "id", user_id))
        if person is None or not self.user_can_authenticate(person):
            return None
        return person
