"""Periodic access reviews (R8): scheduling, reminders, the overdue status, the suspension policy,
decisions on the review page, and the daily task that drives it all."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone

from portal.access import administration, reviews
from portal.access.administration import GrantSpec, LastAdministrator
from portal.access.constants import Permission
from portal.access.models import AccessReview, Membership, ReviewDecision, Role
from portal.access.services import can
from portal.access.tasks import access_daily
from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.employers.constants import EmployerState
from portal.employers.models import Employer
from portal.identity.models import Person
from portal.messaging.models import OutboxMessage
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

ESERVICE = "sick_report"
CONFIRM = ReviewDecision.Decision.CONFIRM
REMOVE = ReviewDecision.Decision.REMOVE


@pytest.fixture(autouse=True)
def _review_settings(settings: Any) -> None:
    settings.ACCESS_REVIEW_DAYS = 180
    settings.ACCESS_REVIEW_SUSPEND_AFTER_DAYS = 0


def _employer(number: str = "5566778899", name: str = "Exempel AB") -> Employer:
    return Employer.objects.create(
        organisation_number=number, name=name, state=EmployerState.ACTIVE
    )


def _admin(employer: Employer, person: Person | None = None) -> Person:
    person = person or PersonFactory()
    Membership.objects.create(
        employer=employer,
        person=person,
        role=Role.ADMINISTRATOR,
        email=person.email,
        reason="Anslutning",
    )
    return person


def _user(employer: Employer, actor: Person, *, until: date | None = None) -> Person:
    person = PersonFactory()
    administration.person_add(
        employer=employer,
        actor=actor,
        personal_number=person.personal_number,
        email=person.email,
        administrator=False,
        user=True,
        grants=[GrantSpec(ESERVICE, "submit", valid_until=until)],
        reason="Lön",
    )
    return person


def _membership(employer: Employer, person: Person, role: Role = Role.USER) -> Membership:
    return Membership.objects.open().get(employer=employer, person=person, role=role)


def _events(event_type: EventType) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event_type).order_by("id"))


def _reminders() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(template="access_review_reminder").order_by("id"))


@pytest.fixture
def setup() -> tuple[Employer, Person, Person, Person]:
    """A connected employer with two administrators and one user with a grant."""
    employer = _employer()
    anna = _admin(employer)
    bo = _admin(employer)
    cecilia = _user(employer, anna)
    return employer, anna, bo, cecilia


def _today() -> date:
    return timezone.localdate()


# --- scheduling -----------------------------------------------------------------------------


def test_a_connected_employer_gets_a_review_due_after_the_period(
    setup: tuple[Employer, Person, Person, Person],
) -> None:
    employer, *_ = setup
    review = reviews.review_schedule(employer=employer)
    assert review is not None
    assert review.due_on == _today() + timedelta(days=180)
    assert reviews.review_schedule(employer=employer) == review, "one open review per employer"
    [event] = _events(EventType.REVIEW_SCHEDULED)
    assert event.object_id == str(employer.public_id)
    assert event.data == {"review": review.pk, "due_on": review.due_on.isoformat()}


def test_the_period_is_configurable(
    setup: tuple[Employer, Person, Person, Person], settings: Any
) -> None:
    settings.ACCESS_REVIEW_DAYS = 90
    review = reviews.review_schedule(employer=setup[0])
    assert review is not None
    assert review.due_on == _today() + timedelta(days=90)


def test_an_employer_connected_long_ago_still_gets_both_reminders_first(
    setup: tuple[Employer, Person, Person, Person],
) -> None:
    employer, *_ = setup
    long_ago = timezone.now() - timedelta(days=400)
    Membership.objects.filter(employer=employer).update(created_at=long_ago)
    review = reviews.review_schedule(employer=employer)
    assert review is not None
    assert review.due_on == _today() + timedelta(days=reviews.MIN_NOTICE_DAYS)


def test_an_employer_that_is_not_connected_gets_no_review() -> None:
    employer = Employer.objects.create(organisation_number="5566778800", name="Gammal AB")
    assert reviews.review_schedule(employer=employer) is None
    assert reviews.access_daily_run().scheduled == 0
    assert not AccessReview.objects.exists()


# --- reminders and the overdue status --------------------------------------------------------


def test_reminders_go_to_the_administrators_once_each_14_and_3_days_before(
    setup: tuple[Employer, Person, Person, Person],
) -> None:
    employer, anna, bo, _cecilia = setup
    assert reviews.access_daily_run().scheduled == 1
    review = AccessReview.objects.get(employer=employer)
    due = review.due_on
    sent = {}
    for days_before in (20, 15, 14, 14, 10, 4, 3, 3, 1, 0, -1):
        sent.setdefault(days_before, []).append(
            reviews.access_daily_run(today=due - timedelta(days=days_before)).reminders
        )
    assert sent == {
        20: [0], 15: [0], 14: [2, 0], 10: [0], 4: [0], 3: [2, 0], 1: [0], 0: [0], -1: [0],
    }  # fmt: skip
    mails = _reminders()
    assert sorted(m.recipient_email for m in mails) == sorted(
        [anna.email, anna.email, bo.email, bo.email]
    )
    assert due.isoformat() in mails[0].subject
    assert f"/arbetsgivare/{employer.public_id}/behorigheter/granskning/" in mails[0].body_text
    assert "14 dagar" in mails[0].body_text
    assert "3 dagar" in mails[-1].body_text
    review.refresh_from_db()
    assert review.reminders_sent == ["14", "3"]
    assert [e.data["reminder"] for e in _events(EventType.REVIEW_REMINDED)] == [14, 3]


def test_a_missed_day_14_sends_only_the_nearest_reminder(
    setup: tuple[Employer, Person, Person, Person],
) -> None:
    employer = setup[0]
    review = reviews.review_schedule(employer=employer)
    assert review is not None
    assert reviews.access_daily_run(today=review.due_on - timedelta(days=2)).reminders == 2
    assert reviews.access_daily_run(today=review.due_on - timedelta(days=1)).reminders == 0
    review.refresh_from_db()
    assert review.reminders_sent == ["3"]


def test_the_status_shows_an_overdue_review(
    setup: tuple[Employer, Person, Person, Person],
) -> None:
    employer = setup[0]
    assert reviews.review_status(employer) is None
    review = reviews.review_schedule(employer=employer)
    assert review is not None
    early = reviews.review_status(employer, today=review.due_on - timedelta(days=30))
    assert early is not None
    assert (early.overdue, early.due_soon, early.days_left, early.undecided) == (
        False,
        False,
        30,
        3,
    )
    assert (
        render_to_string(
            "access/review_banner.html", {"review": early, "employer": employer}
        ).strip()
        == ""
    )
    late = reviews.review_status(employer, today=review.due_on + timedelta(days=2))
    assert late is not None
    assert (late.overdue, late.days_left, late.days_overdue) == (True, -2, 2)
    banner = render_to_string("access/review_banner.html", {"review": late, "employer": employer})
    assert "skulle ha varit klar" in banner
    assert f"/arbetsgivare/{employer.public_id}/behorigheter/granskning/" in banner
    assert render_to_string("access/review_banner.html", {"employer": employer}).strip() == ""


# --- the suspension policy -----------------------------------------------------------------


def _overdue_by(review: AccessReview, days: int) -> date:
    return review.due_on + timedelta(days=days)


def test_without_the_policy_nobody_is_suspended(
    setup: tuple[Employer, Person, Person, Person],
) -> None:
    employer, *_ = setup
    review = reviews.review_schedule(employer=employer)
    assert review is not None
    assert reviews.access_daily_run(today=_overdue_by(review, 400)).suspended == 0
    assert not Membership.objects.filter(suspended_at__isnull=False).exists()


def test_the_policy_suspends_unconfirmed_users_once_and_confirming_restores_them(
    setup: tuple[Employer, Person, Person, Person], settings: Any
) -> None:
    settings.ACCESS_REVIEW_SUSPEND_AFTER_DAYS = 30
    employer, anna, _bo, cecilia = setup
    david = _user(employer, anna)
    review = reviews.review_schedule(employer=employer)
    assert review is not None
    # Added during the round: adding someone is a decision, so Erik is not suspended for it.
    erik = _user(employer, anna)
    reviews.review_decide(
        review=review, membership=_membership(employer, david), decision=CONFIRM, actor=anna
    )
    assert can(cecilia, Permission.EMPLOYER_VIEW, employer=employer)

    assert reviews.access_daily_run(today=_overdue_by(review, 30)).suspended == 0
    assert reviews.access_daily_run(today=_overdue_by(review, 31)).suspended == 1
    assert reviews.access_daily_run(today=_overdue_by(review, 32)).suspended == 0, "once"

    suspended = Membership.objects.filter(suspended_at__isnull=False)
    assert [m.person for m in suspended] == [cecilia]
    assert not can(cecilia, Permission.EMPLOYER_VIEW, employer=employer)
    assert can(david, Permission.EMPLOYER_VIEW, employer=employer)
    assert can(erik, Permission.EMPLOYER_VIEW, employer=employer)
    assert can(anna, Permission.ACCESS_MANAGE, employer=employer), "administrators never"
    [event] = _events(EventType.MEMBERSHIP_SUSPENDED)
    assert event.data["person"] == cecilia.pk
    assert event.data["review"] == review.pk
    told = OutboxMessage.objects.filter(template="access_changed", body_text__contains="vilande")
    assert told.count() == 2, "both administrators are told"
    review.refresh_from_db()
    assert review.suspended_at is not None
    status = reviews.review_status(employer, today=_overdue_by(review, 31))
    assert status is not None
    assert status.suspended

    outcome = reviews.review_decide(
        review=review,
        membership=_membership(employer, cecilia),
        decision=CONFIRM,
        actor=anna,
        reason="Behövs fortfarande",
    )
    assert outcome.restored == 1
    assert can(cecilia, Permission.EMPLOYER_VIEW, employer=employer)
    restored = _events(EventType.MEMBERSHIP_CHANGED)[-1]
    assert restored.data["person"] == cecilia.pk
    assert restored.data["restored"] is True
    decided = _events(EventType.REVIEW_DECIDED)[-1]
    assert decided.data["restored"] is True
    assert decided.data["reason"] == "Behövs fortfarande"


# --- decisions ----------------------------------------------------------------------------


def test_removing_the_last_administrator_is_refused_and_nothing_is_applied() -> None:
    employer = _employer()
    anna = _admin(employer)
    cecilia = _user(employer, anna)
    review = reviews.review_schedule(employer=employer)
    assert review is not None
    with pytest.raises(LastAdministrator, match="minst en behörighetsadministratör"):
        reviews.review_decide_many(
            employer=employer,
            choices=[
                reviews.ReviewChoice(_membership(employer, cecilia), CONFIRM),
                reviews.ReviewChoice(
                    _membership(employer, anna, Role.ADMINISTRATOR), REMOVE, "Slutar"
                ),
            ],
            actor=anna,
        )
    assert not ReviewDecision.objects.exists(), "all or nothing"
    assert _membership(employer, anna, Role.ADMINISTRATOR).ended_at is None
    [refusal] = _events(EventType.MEMBERSHIP_REFUSED)
    assert refusal.data == {"person": anna.pk, "rule": "last-administrator"}
    assert not _events(EventType.REVIEW_DECIDED)


def test_a_removal_needs_a_reason(setup: tuple[Employer, Person, Person, Person]) -> None:
    employer, anna, _bo, cecilia = setup
    review = reviews.review_schedule(employer=employer)
    assert review is not None
    with pytest.raises(administration.InvalidAccess):
        reviews.review_decide(
            review=review,
            membership=_membership(employer, cecilia),
            decision=REMOVE,
            actor=anna,
            reason="  ",
        )
    assert not ReviewDecision.objects.exists()


def test_the_review_completes_when_everyone_has_a_decision_and_the_next_is_scheduled(
    setup: tuple[Employer, Person, Person, Person],
) -> None:
    employer, anna, bo, cecilia = setup
    review = reviews.review_schedule(employer=employer)
    assert review is not None
    first = reviews.review_decide(
        review=review,
        membership=_membership(employer, anna, Role.ADMINISTRATOR),
        decision=CONFIRM,
        actor=anna,
    )
    assert not first.completed
    with pytest.raises(administration.ConflictError):
        reviews.review_decide(
            review=review,
            membership=_membership(employer, anna, Role.ADMINISTRATOR),
            decision=CONFIRM,
            actor=bo,
        )
    outcome = reviews.review_decide_many(
        employer=employer,
        choices=[
            reviews.ReviewChoice(_membership(employer, bo, Role.ADMINISTRATOR), CONFIRM),
            reviews.ReviewChoice(_membership(employer, cecilia), REMOVE, "Har slutat"),
        ],
        actor=anna,
    )
    assert (outcome.confirmed, outcome.removed, outcome.completed) == (1, 1, True)
    review.refresh_from_db()
    assert review.completed_at is not None
    assert review.completed_by == anna
    assert outcome.next_review is not None
    assert outcome.next_review.due_on == _today() + timedelta(days=180)
    assert reviews.review_open(employer) == outcome.next_review
    # Every decision is audited, and the removal ended the membership and its grant.
    decided = _events(EventType.REVIEW_DECIDED)
    assert [(e.data["person"], e.data["decision"]) for e in decided] == [
        (anna.pk, "confirm"),
        (bo.pk, "confirm"),
        (cecilia.pk, "remove"),
    ]
    assert decided[-1].data["reason"] == "Har slutat"
    assert _events(EventType.MEMBERSHIP_ENDED)[-1].data["person"] == cecilia.pk
    assert not can(cecilia, Permission.EMPLOYER_VIEW, employer=employer)
    [completed] = _events(EventType.REVIEW_COMPLETED)
    assert completed.data == {
        "review": review.pk,
        "due_on": review.due_on.isoformat(),
        "confirmed": 2,
        "removed": 1,
    }
    assert len(_events(EventType.REVIEW_SCHEDULED)) == 2
    assert Membership.objects.get(person=anna).last_reviewed_at is not None


def test_a_review_with_nothing_left_to_decide_is_completed_by_the_daily_task(
    setup: tuple[Employer, Person, Person, Person],
) -> None:
    employer, anna, bo, cecilia = setup
    review = reviews.review_schedule(employer=employer)
    assert review is not None
    reviews.review_decide_many(
        employer=employer,
        choices=[
            reviews.ReviewChoice(_membership(employer, anna, Role.ADMINISTRATOR), CONFIRM),
            reviews.ReviewChoice(_membership(employer, bo, Role.ADMINISTRATOR), CONFIRM),
        ],
        actor=anna,
    )
    # The last undecided person is removed on their own page instead.
    administration.membership_end(
        membership=_membership(employer, cecilia), reason="Har slutat", actor=anna
    )
    summary = reviews.access_daily_run()
    assert (summary.completed, summary.scheduled) == (1, 0)
    review.refresh_from_db()
    assert review.completed_at is not None
    assert reviews.review_open(employer) is not None, "the next round"


# --- the page ------------------------------------------------------------------------------


def _url(employer: Employer) -> str:
    return f"/arbetsgivare/{employer.public_id}/behorigheter/granskning/"


def _client(person: Person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def _key(person: Person, role: Role = Role.USER) -> str:
    return f"{person.public_id}-{role}"


def test_only_the_employers_administrators_reach_the_page(
    setup: tuple[Employer, Person, Person, Person],
) -> None:
    employer, anna, _bo, cecilia = setup
    other = _employer("5566778811", "Annat AB")
    stranger = _admin(other)
    assert Client().get(_url(employer)).status_code == 302
    assert _client(cecilia).get(_url(employer)).status_code == 403
    assert _client(stranger).get(_url(employer)).status_code == 403
    assert _client(stranger).post(_url(employer), {"action": "confirm-rest"}).status_code == 403
    denied = _events(EventType.ACCESS_DENIED)
    assert len(denied) == 3
    assert {e.data["action"] for e in denied} == {str(Permission.ACCESS_MANAGE)}
    assert _client(anna).get(_url(employer)).status_code == 200
    assert not ReviewDecision.objects.exists()


def test_the_page_lists_everyone_and_takes_decisions(
    setup: tuple[Employer, Person, Person, Person],
) -> None:
    employer, anna, bo, cecilia = setup
    reviews.review_schedule(employer=employer)
    client = _client(anna)
    page = client.get(_url(employer)).content.decode()
    for person in (anna, bo, cecilia):
        assert person.full_name in page
    assert "Sjukanmälan" in page or ESERVICE in page
    assert "Spara och behåll alla som återstår" in page

    missing_reason = client.post(
        _url(employer), {f"decision-{_key(cecilia)}": "remove", "action": "save"}
    )
    assert missing_reason.status_code == 400
    body = missing_reason.content.decode()
    assert "Det finns fel i formuläret" in body
    assert "Skriv varför behörigheten tas bort" in body
    assert f'href="#id_reason-{_key(cecilia)}"' in body
    assert not ReviewDecision.objects.exists()

    nothing = client.post(_url(employer), {"action": "save"})
    assert nothing.status_code == 400
    assert "Välj Behåll eller Ta bort" in nothing.content.decode()

    bad = client.post(_url(employer), {f"decision-{_key(cecilia)}": "maybe", "action": "save"})
    assert bad.status_code == 400

    saved = client.post(
        _url(employer),
        {
            f"decision-{_key(cecilia)}": "remove",
            f"reason-{_key(cecilia)}": "Har slutat",
            f"decision-{_key(bo, Role.ADMINISTRATOR)}": "",
            "action": "save",
        },
        follow=True,
    )
    assert saved.status_code == 200
    body = saved.content.decode()
    assert "Besluten är sparade" in body
    assert "Borttagna i den här granskningen" in body
    assert _membership(employer, bo, Role.ADMINISTRATOR) is not None
    assert Membership.objects.get(person=cecilia).ended_at is not None

    rest = client.post(_url(employer), {"action": "confirm-rest"}, follow=True)
    assert "Granskningen är klar" in rest.content.decode()
    decisions = ReviewDecision.objects.order_by("pk")
    assert [(d.membership.person, d.decision) for d in decisions] == [
        (cecilia, "remove"),
        (anna, "confirm"),
        (bo, "confirm"),
    ]
    assert reviews.review_open(employer) is not None


def test_the_page_shows_the_last_administrator_rule(client: Client) -> None:
    employer = _employer()
    anna = _admin(employer)
    client.force_login(anna)
    refused = client.post(
        _url(employer),
        {
            f"decision-{_key(anna, Role.ADMINISTRATOR)}": "remove",
            f"reason-{_key(anna, Role.ADMINISTRATOR)}": "Slutar",
            "action": "save",
        },
    )
    assert refused.status_code == 400
    assert "minst en behörighetsadministratör" in refused.content.decode()
    assert _membership(employer, anna, Role.ADMINISTRATOR).ended_at is None
    assert _events(EventType.MEMBERSHIP_REFUSED)


def test_reviewing_without_a_scheduled_round_starts_one(client: Client) -> None:
    employer = _employer()
    anna = _admin(employer)
    client.force_login(anna)
    assert "Ingen granskning pågår" in client.get(_url(employer)).content.decode()
    done = client.post(_url(employer), {"action": "confirm-rest"})
    assert done.status_code == 302
    [completed] = AccessReview.objects.filter(completed_at__isnull=False)
    assert completed.completed_by == anna
    assert reviews.review_open(employer) is not None


# --- the daily command and task --------------------------------------------------------------


def test_the_daily_command_is_idempotent_and_says_what_it_did(
    setup: tuple[Employer, Person, Person, Person],
) -> None:
    employer, anna, *_ = setup
    _user(employer, anna, until=_today())
    out = io.StringIO()
    call_command("access_daily", stdout=out)
    assert out.getvalue().strip() == (
        "Access: 0 grant expiries recorded, 1 reviews scheduled, 0 reviews completed, "
        "0 reminders sent, 0 memberships suspended."
    )
    out = io.StringIO()
    call_command("access_daily", stdout=out)
    assert "0 reviews scheduled" in out.getvalue()
    # Tomorrow the grant that ended today has expired: recorded once.
    tomorrow = _today() + timedelta(days=1)
    assert reviews.access_daily_run(today=tomorrow).expired == 1
    assert reviews.access_daily_run(today=tomorrow).expired == 0
    assert len(_events(EventType.GRANT_EXPIRED)) == 1


def test_the_task_does_the_same(setup: tuple[Employer, Person, Person, Person]) -> None:
    assert access_daily.call() == {
        "expired": 0,
        "scheduled": 1,
        "completed": 0,
        "reminders": 0,
        "suspended": 0,
    }


def test_the_open_round_and_its_undecided_count_are_the_orms(
    setup: tuple[Employer, Person, Person, Person],
) -> None:
    employer, anna, bo, cecilia = setup
    other = _employer("5566778807", "Annat AB")
    _admin(other)
    assert reviews.review_open(employer) is None
    review = reviews.review_schedule(employer=employer)
    reviews.review_schedule(employer=other)
    assert review is not None

    def orms() -> tuple[AccessReview | None, int]:
        found = AccessReview.objects.filter(employer=employer, completed_at__isnull=True).first()
        return found, reviews.review_undecided(found).count() if found else 0

    def written_out() -> tuple[AccessReview | None, int]:
        found = reviews.review_open(employer)
        return found, reviews.undecided_count(found) if found else 0

    assert written_out() == orms() == (review, 3)
    opened = reviews.review_open(employer)
    assert opened is not None
    assert (opened.due_on, opened.reminders_sent, opened.created_at) == (
        review.due_on,
        review.reminders_sent,
        review.created_at,
    )
    reviews.review_decide(
        review=review,
        membership=_membership(employer, anna, Role.ADMINISTRATOR),
        decision=CONFIRM,
        actor=anna,
    )
    # An ended membership is no longer to be decided.
    administration.membership_end(
        membership=_membership(employer, cecilia), actor=anna, reason="Har slutat"
    )
    assert written_out() == orms() == (review, 1)
    reviews.review_decide(
        review=review,
        membership=_membership(employer, bo, Role.ADMINISTRATOR),
        decision=CONFIRM,
        actor=anna,
    )
    found, undecided = written_out()
    assert (found, undecided) == orms()
