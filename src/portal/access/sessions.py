"""The portal's session store (``SESSION_ENGINE``): identity's (``identity.sessions``), whose one
statement also reads the session's person's memberships in force.

Nearly every request of a logged-in person needs their memberships: the layout lists them, and
every decision about an employer (``access.can``) is taken from them. So the statement that reads
the session and its person reads them too, with every grant in force of each user membership,
as ``services._MEMBERSHIPS_SQL`` asked about no e-service would (a ``UNION ALL`` of the session's
row and the memberships' rows, the memberships found through the session's person's key). The
rows are kept for the request as the database gave them (``common.memo``) and are turned into
memberships only when the request asks for them: a request that does not (the bench's floor)
pays the database's part alone. Kept rows are forgotten with everything else at the first change
the request records, and the memberships are then read afresh.

tests/access/test_session_memberships.py holds the statement to the session store's and the
memberships' own statements.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import connections, router
from django.db.models import Field
from django.utils import timezone

from portal.access import services
from portal.access.models import Membership, Role
from portal.common import rows
from portal.employers.models import Employer
from portal.identity import sessions
from portal.identity.models import Person, Session


@cache
def _layout(alias: str) -> tuple[str, int]:
    """The statement, and the column where the session's own columns begin."""
    quote = connections[alias].ops.quote_name
    session_key = quote(str(Session._meta.get_field("session_key").column))
    session_table, person_table = quote(Session._meta.db_table), quote(Person._meta.db_table)
    membership_table = quote(Membership._meta.db_table)
    employer_fields = list(Employer._meta.concrete_fields)
    width = len(Session._meta.concrete_fields) + len(Person._meta.concrete_fields)
    # The memberships' columns first (as _MEMBERSHIPS_SQL gives them), then the session's and the
    # person's; each part's row is NULL in the other's columns.
    memberships = f"m.id, m.role, g.eservice, g.level, {rows.column_list(Employer, 'e')}"
    start = 1 + 4 + len(employer_fields)
    name = start - len(employer_fields) + [f.name for f in employer_fields].index("name")
    # Names from the models' own metadata, quoted; the values are parameters.
    sql = (
        f"SELECT 0, {', '.join(['NULL'] * (start - 1))},"  # noqa: S608
        f" {rows.column_list(Session, 's')}, {rows.column_list(Person, 'p')}"
        f" FROM {session_table} s LEFT JOIN {person_table} p ON p.id = s.person_id"
        f" WHERE s.{session_key} = %s"
        f" UNION ALL SELECT 1, {memberships}, {', '.join(['NULL'] * width)}"
        f" FROM {session_table} s JOIN {membership_table} m ON m.person_id = s.person_id"
        f" JOIN {quote(Employer._meta.db_table)} e ON e.id = m.employer_id"
        f" LEFT JOIN access_grant g ON {services._GRANTS_IN_FORCE}"
        f" WHERE s.{session_key} = %s AND {services._MEMBERSHIP_IN_FORCE}"
        # The session's row first, then the memberships as _MEMBERSHIPS_SQL orders them.
        f" ORDER BY 1, {name + 1}, 2, 4"
    )
    return sql, start


class SessionStore(sessions.SessionStore):
    def _session_and_person(self) -> tuple[Session, Person] | None:
        alias = router.db_for_read(Session)
        connection = connections[alias]
        sql, start = _layout(alias)
        ops = connection.ops
        now = ops.adapt_datetimefield_value(timezone.now())
        today = ops.adapt_datefield_value(timezone.localdate())
        found = rows.fetch(
            alias,
            sql,
            [self.session_key, Role.USER.value, today, today, self.session_key, now, now],
        )
        if not found or found[0][0] != 0:
            return None
        fields, session_names, person_names = _fields()
        first = rows.converted(list(found[0]), fields, alias, start)
        middle = start + len(session_names)
        session = Session.from_db(alias, session_names, first[start:middle])
        person = Person.from_db(alias, person_names, first[middle:])
        if person.pk is not None and session.expire_date > timezone.now():
            services.keep_memberships_read_with_session(
                person.pk, [row[1:start] for row in found[1:]]
            )
        return session, person


@cache
def _fields() -> tuple[list[Field[Any, Any]], list[str], list[str]]:
    """The session's and the person's fields, in the statement's order, and each one's names."""
    session_fields = list(Session._meta.concrete_fields)
    person_fields = list(Person._meta.concrete_fields)
    return (
        [*session_fields, *person_fields],
        [field.attname for field in session_fields],
        [field.attname for field in person_fields],
    )
