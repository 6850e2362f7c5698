"""``access.sessions``: the statement that reads the session and its person reads the person's
memberships in force too, and what a request takes from there is what the memberships' own
statement and the decision's give."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal import audit
from portal.access import services
from portal.access.models import Level, Membership, Role
from portal.access.sessions import SessionStore
from portal.audit.constants import EventType
from portal.common import memo
from portal.employers.constants import EmployerState
from portal.employers.models import Employer
from portal.identity.backends import PERSON_BACKEND
from portal.identity.models import Session
from tests.access.world import employer, grant, logged_in, membership
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

ESERVICES = ("sick_report", "work_aids", "inquiries", "no_such_eservice")


@pytest.fixture
def person() -> Any:
    """A person with memberships of every kind: an administrator at one employer, a user with
    grants (one ended, one not yet begun, two in force) at another, both at a third, and
    memberships ended, suspended and not yet begun at others; names out of order."""
    someone = PersonFactory()
    today = timezone.localdate()
    admin_at = employer("Örnen AB", "5599034561")
    membership(admin_at, someone, Role.ADMINISTRATOR)
    user_at = employer("Bävern AB", "5566778899")
    user = membership(user_at, someone, Role.USER)
    grant(user, "sick_report", Level.SUBMIT)
    grant(user, "work_aids", Level.VIEW)
    ended = grant(user, "inquiries", Level.SUBMIT)
    ended.ended_at = timezone.now() - timedelta(days=1)
    ended.save()
    grant(user, "inquiries", Level.VIEW, valid_from=today + timedelta(days=3))
    both_at = employer("Citronen HB", "9696000034")
    membership(both_at, someone, Role.ADMINISTRATOR)
    grant(membership(both_at, someone, Role.USER), "sick_report", Level.VIEW)
    gone = membership(employer("Draken AB", "5560360793"), someone, Role.USER)
    gone.ended_at = timezone.now() - timedelta(days=2)
    gone.save()
    paused = membership(employer("Elefanten AB", "5565014522"), someone, Role.ADMINISTRATOR)
    paused.suspended_at = timezone.now()
    paused.save()
    later = membership(employer("Fjärilen AB", "5568160769"), someone, Role.USER)
    later.valid_from = timezone.now() + timedelta(days=1)
    later.save()
    terminated = employer("Gäddan AB", "5569246781")
    terminated.state = EmployerState.TERMINATED
    terminated.save()
    membership(terminated, someone, Role.USER)
    return someone


def _session_of(person: Any, *, expires: timedelta = timedelta(hours=1)) -> str:
    store = SessionStore()
    store.update({SESSION_KEY: str(person.pk), BACKEND_SESSION_KEY: PERSON_BACKEND})
    store.create()
    assert store.session_key is not None
    Session.objects.filter(session_key=store.session_key).update(
        expire_date=timezone.now() + expires
    )
    return store.session_key


@contextmanager
def _from_the_session(person: Any) -> Iterator[None]:
    """A request that has loaded ``person``'s session: what is asked inside reads nothing more."""
    with memo.request_scope():
        SessionStore(_session_of(person)).load()
        with CaptureQueriesContext(connection) as asked:
            yield
        assert asked.captured_queries == []


def _as_read_alone(person: Any, eservice: str | None) -> Any:
    with memo.request_scope():
        return services._read_memberships(person.pk, eservice)


def test_the_sessions_statement_gives_the_memberships_their_own_statement_gives(
    person: Any,
) -> None:
    alone = _as_read_alone(person, None)
    with _from_the_session(person):
        taken = services._memberships(person.pk, None)
    assert taken == alone
    assert [m.employer.name for m in taken.shown] == [
        "Bävern AB",
        "Citronen HB",
        "Citronen HB",
        "Gäddan AB",
        "Örnen AB",
    ]
    assert sorted(taken.grants[taken.shown[0].employer.pk]) == [
        ("sick_report", "submit"),
        ("work_aids", "view"),
    ]


@pytest.mark.parametrize("eservice", ESERVICES)
def test_a_decision_taken_from_the_sessions_rows_is_the_decisions_own(
    person: Any, eservice: str
) -> None:
    alone = _as_read_alone(person, None)
    with _from_the_session(person):
        taken = services._memberships(person.pk, eservice)
        decided = {
            membership.employer.pk: services._roles_and_levels(
                person.pk, membership.employer.pk, eservice
            )
            for membership in taken.shown
        }
    for pk, decision in decided.items():
        assert sorted(decision, key=str) == sorted(
            services._read_roles_and_levels(person.pk, pk, eservice), key=str
        )
    assert taken.employers == alone.employers


def test_a_request_reads_its_memberships_with_the_session(person: Any) -> None:
    client = logged_in(person)
    client.get("/start/")
    page = f"/arbetsgivare/{Employer.objects.get(name='Bävern AB').public_id}/"
    with CaptureQueriesContext(connection) as asked:
        answer = client.get(page)
    assert answer.status_code == 200
    statements = [query["sql"] for query in asked.captured_queries]
    assert statements[0].startswith("SELECT 0, NULL")
    # Neither the memberships' nor the decision's own statement.
    assert not [
        sql
        for sql in statements
        if sql.startswith(("SELECT m.id, m.role, g.eservice", "SELECT m.role, g.level"))
    ]
    assert "Bävern AB" in answer.content.decode()


def test_after_a_recorded_change_the_memberships_are_read_afresh(person: Any) -> None:
    with memo.request_scope():
        SessionStore(_session_of(person)).load()
        before = services._memberships(person.pk, None)
        with transaction.atomic():
            Membership.objects.filter(person=person, employer__name="Örnen AB").update(
                ended_at=timezone.now()
            )
            audit.record(EventType.MEMBERSHIP_ENDED, actor=person, object_type="membership")
        with CaptureQueriesContext(connection) as asked:
            after = services._memberships(person.pk, None)
        assert len(asked) == 1
    assert len(after.shown) == len(before.shown) - 1


@pytest.mark.parametrize("expires", [timedelta(seconds=-1), timedelta(days=-30)])
def test_an_expired_session_keeps_no_memberships(person: Any, expires: timedelta) -> None:
    key = _session_of(person, expires=expires)
    with memo.request_scope():
        assert SessionStore(key).load() == {}
        with CaptureQueriesContext(connection) as asked:
            services._memberships(person.pk, None)
        assert len(asked) == 1


def test_a_session_of_nobody_keeps_no_memberships(person: Any) -> None:
    store = SessionStore()
    store.update({"acting_for": "x"})
    store.create()
    with memo.request_scope():
        assert SessionStore(store.session_key).load() == {"acting_for": "x"}
        assert memo.kept(services._session_rows_key(person.pk)) is None


def test_a_person_with_no_membership_has_none(rf: Any) -> None:
    nobody = PersonFactory()
    with _from_the_session(nobody):
        taken = services._memberships(nobody.pk, "sick_report")
    assert taken.shown == []
    assert taken.grants == {}


def test_today_is_the_grants_day(person: Any) -> None:
    # A grant that ends today is still in force today, as GrantQuerySet.in_force says.
    last_day = membership(employer("Hästen AB", "5560125790"), person, Role.USER)
    grant(last_day, "work_aids", Level.SUBMIT, valid_until=date.today())  # noqa: DTZ011 (local)
    with memo.request_scope():
        SessionStore(_session_of(person)).load()
        taken = services._memberships(person.pk, None)
    assert ("work_aids", "submit") in taken.grants[last_day.employer_id]
