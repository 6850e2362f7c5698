"""The back-office's work queues: cases by due date, overdue ones marked, each queue shown only to
the roles that handle (or oversee) its kind, the page's read recorded; and the four-eyes rule of
paper enrolments."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from portal.access.constants import STAFF_PERMISSIONS, Permission
from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.backoffice.queues import (
    QueueKind,
    Viewer,
    add_working_days,
    earliest_on_time,
    paper_enrolments_queue,
    queues_for,
)
from portal.common.errors import PermissionDeniedError
from portal.employers.constants import EmployerState
from portal.employers.models import DeregistrationRequest, Employer, Enrolment, Termination
from portal.employers.paper import paper_enrolment_approve
from portal.eservices.inquiries.models import Inquiry
from portal.identity.models import Person
from portal.terms.models import TermsVersion
from tests.access.world import World, build_world

pytestmark = pytest.mark.django_db


def _last_wednesday() -> date:
    today = timezone.localdate()
    return today - timedelta(days=(today.weekday() - 2) % 7)


#: The cases are dated around the latest Wednesday (today or up to six days ago), so that the
#: page, which counts from today, sees the same overdue cases as the selectors asked about it.
WEDNESDAY = _last_wednesday()


def _day(offset: int) -> date:
    return WEDNESDAY + timedelta(days=offset)


def _employer(n: int, state: str = EmployerState.ACTIVE) -> Employer:
    return Employer.objects.create(
        organisation_number=f"55990{n:05d}", name=f"Köbolaget {n} AB", state=state
    )


def _terms() -> TermsVersion:
    return TermsVersion.objects.create(
        version="ko",
        title_sv="t",
        title_en="t",
        text_sv="t",
        text_en="t",
        published_at=timezone.now(),
        effective_from=date(2026, 1, 1),
    )


def _paper(n: int, received_on: date, entered_by: Person, terms: TermsVersion) -> Enrolment:
    return Enrolment.objects.create(
        employer=_employer(n, EmployerState.PENDING),
        channel=Enrolment.Channel.PAPER,
        state=Enrolment.State.AWAITING_APPROVAL,
        terms_version=terms,
        administrator_personal_number="199006223458",
        administrator_email="admin@exempel.se",
        expires_at=timezone.now() + timedelta(days=30),
        received_on=received_on,
        case_number=f"2026/{n}",
        entered_by=entered_by,
    )


def _written(n: int, received_on: date, state: str = "held", channel: str = "written") -> Any:
    return DeregistrationRequest.objects.create(
        employer=_employer(n),
        channel=channel,
        state=state,
        received_on=received_on,
        case_number=f"2026/{n}",
    )


def _termination(n: int, effective_on: date, by: Person, state: str = "notified") -> Termination:
    return Termination.objects.create(
        employer=_employer(n), reason="skäl", notified_by=by, effective_on=effective_on, state=state
    )


def _inquiry(n: int, due_date: date, by: Person) -> Inquiry:
    return Inquiry.objects.create(
        reference=f"FRG-{n:04d}",
        employer=_employer(n),
        kind=Inquiry.Kind.INCOME,
        employee_personal_number="198001011231",
        due_date=due_date,
        created_by_staff=by,
    )


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.fixture
def cases(world: World) -> dict[str, Any]:
    """Cases of every kind around ``WEDNESDAY``, created out of order, with some that are not
    waiting (and must not be listed)."""
    worker = world.people["staff:case_worker"]
    other = world.people["staff:auditor"]
    terms = _terms()
    return {
        # received the day before (a Tuesday): due the Tuesday after
        "paper_later": _paper(1, _day(-1), other, terms),
        # received two weeks before that: due the Tuesday before, overdue
        "paper_overdue": _paper(2, _day(-15), other, terms),
        # received the Wednesday before: due on the Wednesday
        "paper_today": _paper(3, _day(-7), worker, terms),
        "dereg_later": _written(11, _day(-2), state="received"),
        "dereg_overdue": _written(12, _day(-23)),
        "dereg_eservice": _written(13, _day(-24), state="received", channel="eservice"),
        "dereg_done": _written(14, _day(-24), state="processed"),
        "term_later": _termination(21, _day(92), worker),
        "term_overdue": _termination(22, _day(-1), worker),
        "term_withdrawn": _termination(23, _day(-24), worker, state="withdrawn"),
        "inq_later": _inquiry(31, _day(15), worker),
        "inq_overdue": _inquiry(32, _day(-5), worker),
    }


def test_working_days_skip_weekends() -> None:
    friday, saturday, monday = date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 23)
    assert add_working_days(friday, 1) == monday
    assert add_working_days(saturday, 1) == monday
    assert add_working_days(monday, 5) == date(2026, 11, 30)
    # earliest_on_time is the boundary of add_working_days: received before it is overdue.
    for offset in range(21):
        today = friday + timedelta(days=offset)
        boundary = earliest_on_time(today, 5)
        for back in range(30):
            received = today - timedelta(days=back)
            assert (add_working_days(received, 5) < today) == (received < boundary)


def test_each_queue_is_sorted_by_due_date_with_overdue_marked(
    world: World, cases: dict[str, Any]
) -> None:
    queues = {
        queue.kind: queue
        for queue in queues_for(
            world.people["staff:case_worker"], kinds=list(QueueKind), today=WEDNESDAY
        )
    }

    def listed(kind: QueueKind) -> list[tuple[Any, date, bool]]:
        return [(item.public_id, item.due_on, item.overdue) for item in queues[kind].items]

    assert listed(QueueKind.PAPER_ENROLMENTS) == [
        (cases["paper_overdue"].public_id, _day(-8), True),
        (cases["paper_today"].public_id, WEDNESDAY, False),
        (cases["paper_later"].public_id, _day(6), False),
    ]
    assert queues[QueueKind.PAPER_ENROLMENTS].items[1].due_today
    assert listed(QueueKind.DEREGISTRATIONS) == [
        (cases["dereg_overdue"].public_id, _day(-16), True),
        (cases["dereg_later"].public_id, _day(5), False),
    ]
    assert listed(QueueKind.TERMINATIONS) == [
        (cases["term_overdue"].public_id, _day(-1), True),
        (cases["term_later"].public_id, _day(92), False),
    ]
    assert listed(QueueKind.INQUIRIES) == [
        (cases["inq_overdue"].public_id, _day(-5), True),
        (cases["inq_later"].public_id, _day(15), False),
    ]
    counts = {kind: (queue.total, queue.overdue) for kind, queue in queues.items()}
    assert counts == {
        QueueKind.PAPER_ENROLMENTS: (3, 1),
        QueueKind.DEREGISTRATIONS: (2, 1),
        QueueKind.TERMINATIONS: (2, 1),
        QueueKind.INQUIRIES: (2, 1),
    }


def test_a_queue_is_one_query_and_counts_beyond_its_limit(
    world: World, cases: dict[str, Any], django_assert_num_queries: Any
) -> None:
    viewer = Viewer(
        person=world.people["staff:case_worker"],
        may_approve_enrolments=True,
        may_view_employers=True,
    )
    with django_assert_num_queries(1):
        queue = paper_enrolments_queue(viewer, today=WEDNESDAY, limit=1)
    assert [item.public_id for item in queue.items] == [cases["paper_overdue"].public_id]
    assert (queue.total, queue.overdue, queue.truncated) == (3, 1, True)


def _rows(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-queue-item="([0-9a-f-]+)">(.*?)</tr>', page, flags=re.DOTALL))


def test_the_page_shows_every_queue_to_a_case_worker_and_records_the_read(
    world: World, cases: dict[str, Any]
) -> None:
    client = Client()
    client.force_login(world.people["staff:case_worker"])
    response = client.get("/handlaggning/arenden/")
    assert response.status_code == 200
    page = response.content.decode()
    for kind in QueueKind:
        assert f'id="ko-{kind}"' in page
    rows = _rows(page)
    # Only the cases that wait, and the overdue ones (due before today) marked.
    assert len(rows) == 3 + 2 + 2 + 2
    assert str(cases["dereg_eservice"].public_id) not in rows
    assert str(cases["dereg_done"].public_id) not in rows
    assert str(cases["term_withdrawn"].public_id) not in rows
    assert "försenad" in rows[str(cases["inq_overdue"].public_id)]
    assert "försenad" not in rows[str(cases["term_later"].public_id)]
    # Links to the case pages: the paper enrolment's own page, the employer's for the others.
    paper = cases["paper_today"]
    assert f'href="/handlaggning/blanketter/{paper.public_id}/"' in rows[str(paper.public_id)]
    assert "Du registrerade blanketten" in rows[str(paper.public_id)]
    termination = cases["term_later"]
    assert (
        f'href="/handlaggning/arbetsgivare/{termination.employer.public_id}/?skal='
        in rows[str(termination.public_id)]
    )
    # Accessible tables.
    assert page.count("<caption>") == len(QueueKind)
    assert '<th class="table__column" scope="row">' in page
    # The staff member's names and the employers' names were read: recorded, with the actor.
    event = AuditEvent.objects.filter(event_type=EventType.BACKOFFICE_QUEUES_VIEWED).get()
    assert event.actor == world.people["staff:case_worker"]
    assert event.data["kinds"] == [str(kind) for kind in QueueKind]
    assert event.data["cases"] == len(rows)


def test_the_filter_shows_one_kind(world: World, cases: dict[str, Any]) -> None:
    client = Client()
    client.force_login(world.people["staff:case_worker"])
    page = client.get("/handlaggning/arenden/?typ=uppsagningar").content.decode()
    assert 'id="ko-uppsagningar"' in page
    assert 'id="ko-blanketter"' not in page
    assert set(_rows(page)) == {
        str(cases["term_overdue"].public_id),
        str(cases["term_later"].public_id),
    }
    # An unknown kind shows every queue.
    page = client.get("/handlaggning/arenden/?typ=okand").content.decode()
    assert all(f'id="ko-{kind}"' in page for kind in QueueKind)


def test_a_queue_is_shown_only_to_roles_that_handle_its_kind(
    world: World, cases: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        STAFF_PERMISSIONS,
        "case_worker",
        STAFF_PERMISSIONS["case_worker"] - {Permission.BACKOFFICE_EMPLOYER_TERMINATE},
    )
    client = Client()
    client.force_login(world.people["staff:case_worker"])
    page = client.get("/handlaggning/arenden/").content.decode()
    assert 'id="ko-uppsagningar"' not in page
    assert str(cases["term_later"].public_id) not in page
    assert 'id="ko-blanketter"' in page
    # Asking for the hidden kind shows the allowed ones, never the hidden one.
    page = client.get("/handlaggning/arenden/?typ=uppsagningar").content.decode()
    assert 'id="ko-uppsagningar"' not in page


def test_the_auditor_oversees_every_queue_without_the_approval_page(
    world: World, cases: dict[str, Any]
) -> None:
    client = Client()
    client.force_login(world.people["staff:auditor"])
    page = client.get("/handlaggning/arenden/").content.decode()
    assert all(f'id="ko-{kind}"' in page for kind in QueueKind)
    paper = cases["paper_later"]
    row = _rows(page)[str(paper.public_id)]
    assert f'href="/handlaggning/arbetsgivare/{paper.employer.public_id}/?skal=' in row
    assert "/handlaggning/blanketter/" not in row


@pytest.mark.parametrize("role", ["partner_support", "operations", "terms_editor"])
def test_other_roles_are_refused(world: World, role: str) -> None:
    client = Client()
    client.force_login(world.people[f"staff:{role}"])
    assert client.get("/handlaggning/arenden/").status_code == 403
    assert not AuditEvent.objects.filter(event_type=EventType.BACKOFFICE_QUEUES_VIEWED).exists()


def test_the_start_page_links_the_queues(world: World) -> None:
    client = Client()
    client.force_login(world.people["staff:case_worker"])
    assert 'href="/handlaggning/arenden/"' in client.get("/handlaggning/").content.decode()
    client.force_login(world.people["staff:operations"])
    assert 'href="/handlaggning/arenden/"' not in client.get("/handlaggning/").content.decode()


def test_whoever_registered_a_paper_enrolment_cannot_approve_it(
    world: World, cases: dict[str, Any]
) -> None:
    enrolment = cases["paper_today"]
    with pytest.raises(PermissionDeniedError) as refused:
        paper_enrolment_approve(enrolment=enrolment, actor=world.people["staff:case_worker"])
    assert refused.value.code == "four-eyes"
    assert "Den som registrerade blanketten kan inte själv godkänna den" in refused.value.message
    enrolment.refresh_from_db()
    assert (enrolment.state, enrolment.approved_by) == (Enrolment.State.AWAITING_APPROVAL, None)
    denied = AuditEvent.objects.get(event_type=EventType.ACCESS_DENIED)
    assert denied.actor == world.people["staff:case_worker"]
    assert denied.data["reason"] == "four-eyes"
    # Through the page, the refusal is a 403 (audited), and the case stays in the queue.
    client = Client()
    client.force_login(world.people["staff:case_worker"])
    assert client.post(f"/handlaggning/blanketter/{enrolment.public_id}/").status_code == 403
    assert AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).count() == 2
    page = client.get("/handlaggning/arenden/?typ=blanketter").content.decode()
    assert str(enrolment.public_id) in _rows(page)
