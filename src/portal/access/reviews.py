"""Periodic access reviews (R8): every ``ACCESS_REVIEW_DAYS`` the access administrators confirm or
remove each person's access.

A review round is an ``AccessReview`` with a due date and one ``ReviewDecision`` per open
membership. The round completes by itself when every open membership has a decision, and the next
one is scheduled from that day. The daily task (``access_daily_run``, behind ``portal
access_daily`` and the ``access_daily`` task) schedules missing rounds, reminds the administrators
14 and 3 days before the due date and, when the policy is on, suspends the users nobody confirmed
once a round is overdue past its grace period. Every step is idempotent: the task may run any
number of times a day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import audit
from portal.access import administration
from portal.access.administration import InvalidAccess, LastAdministrator
from portal.access.models import (
    AccessReview,
    Grant,
    Membership,
    ReviewDecision,
    Role,
    administrators_reachable,
)
from portal.audit.constants import EventType
from portal.common.errors import ConflictError
from portal.common.rows import column_list, instances
from portal.employers.constants import CONNECTED_STATES
from portal.employers.models import Employer
from portal.identity.models import Person
from portal.messaging.services import outbox_enqueue

#: Reminders go out this many days before the due date, each once.
REMINDER_DAYS = (14, 3)
#: A round is never due sooner than this after it is scheduled, so that both reminders go out
#: first (this matters for employers connected long before reviews existed, whose first round
#: would otherwise be overdue, and their users suspended, without a word of warning).
MIN_NOTICE_DAYS = max(REMINDER_DAYS)

Decision = ReviewDecision.Decision


# --- reads -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewStatus:
    """Where an employer's current review round stands, for the start page and the review page."""

    review: AccessReview
    due_on: date
    days_left: int
    undecided: int
    #: The first day the suspension policy applies to this round (None: the policy is off or it
    #: has been applied already).
    suspends_on: date | None

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def days_overdue(self) -> int:
        return max(0, -self.days_left)

    @property
    def due_soon(self) -> bool:
        """Within the reminder period: worth a note on the start page."""
        return self.days_left <= MIN_NOTICE_DAYS

    @property
    def suspended(self) -> bool:
        return self.review.suspended_at is not None


#: ``AccessReview.objects.filter(employer=..., completed_at__isnull=True)``: at most one
#: (``one_open_review_per_employer``). Written out, with the count below, because every
#: administrator's employer page and list of people asks (tests/access/test_reviews.py holds
#: both to the ORM).
_OPEN_REVIEW_SQL = (
    "SELECT {r} FROM access_accessreview r WHERE r.employer_id = %s AND r.completed_at IS NULL"
)
#: ``review_undecided(review).count()``.
_UNDECIDED_SQL = (
    "SELECT COUNT(*) FROM access_membership m WHERE m.employer_id = %s AND m.ended_at IS NULL"
    " AND NOT EXISTS (SELECT 1 FROM access_reviewdecision d"
    " WHERE d.review_id = %s AND d.membership_id = m.id)"
)


def review_open(employer: Employer) -> AccessReview | None:
    """The employer's current round, if one is scheduled."""
    found = instances(
        _OPEN_REVIEW_SQL.format(r=column_list(AccessReview, "r")), [employer.pk], AccessReview
    )
    return found[0][0] if found else None


def undecided_count(review: AccessReview) -> int:
    """How many of ``review_undecided(review)`` there are."""
    with connection.cursor() as cursor:
        cursor.execute(_UNDECIDED_SQL, [review.employer_id, review.pk])
        return int(cursor.fetchone()[0])


def review_undecided(review: AccessReview) -> QuerySet[Membership]:
    """The open memberships at the review's employer that have no decision in the round yet."""
    return (
        Membership.objects.open()
        .filter(employer_id=review.employer_id)
        .exclude(pk__in=ReviewDecision.objects.filter(review=review).values("membership"))
    )


def review_status(employer: Employer, *, today: date | None = None) -> ReviewStatus | None:
    """The current round of a connected employer (None if there is none). Two queries."""
    if not employer.is_connected:
        return None
    review = review_open(employer)
    if review is None:
        return None
    day = today or timezone.localdate()
    return ReviewStatus(
        review=review,
        due_on=review.due_on,
        days_left=(review.due_on - day).days,
        undecided=undecided_count(review),
        suspends_on=_suspends_on(review),
    )


def _suspends_on(review: AccessReview) -> date | None:
    grace = settings.ACCESS_REVIEW_SUSPEND_AFTER_DAYS
    if grace <= 0 or review.suspended_at is not None:
        return None
    # "Overdue by more than ``grace`` days".
    return review.due_on + timedelta(days=grace + 1)


@dataclass
class ReviewItem:
    """One open membership in a round, with its grants and the decision made on it, if any."""

    membership: Membership
    grants: list[Grant]
    decision: ReviewDecision | None

    @property
    def key(self) -> str:
        """How the page names the membership (no database ids in forms)."""
        return f"{self.membership.person.public_id}-{self.membership.role}"


@dataclass
class ReviewPerson:
    person: Person
    items: list[ReviewItem] = field(default_factory=list)


def review_people(employer: Employer, review: AccessReview | None) -> list[ReviewPerson]:
    """Everyone with an open membership at ``employer``, each membership with its open grants and
    its decision in ``review`` (a fixed number of queries)."""
    from portal.access.selectors import people  # noqa: PLC0415 (selectors import services)

    decisions = (
        {
            decision.membership_id: decision
            for decision in ReviewDecision.objects.filter(review=review).select_related(
                "decided_by"
            )
        }
        if review is not None
        else {}
    )
    result = []
    for person in people(employer):
        row = ReviewPerson(person=person)
        for membership in person.open_memberships:  # type: ignore[attr-defined]
            membership.person = person
            row.items.append(
                ReviewItem(
                    membership=membership,
                    grants=list(membership.grants.all()),
                    decision=decisions.get(membership.pk),
                )
            )
        result.append(row)
    return result


def review_removed(review: AccessReview | None) -> list[ReviewDecision]:
    """The memberships removed in ``review`` (they are no longer among the people)."""
    if review is None:
        return []
    return list(
        ReviewDecision.objects.filter(review=review, decision=Decision.REMOVE)
        .select_related("membership__person", "decided_by")
        .order_by("decided_at", "pk")
    )


# --- writes ------------------------------------------------------------------------------------


def review_schedule(
    *, employer: Employer, actor: Person | None = None, today: date | None = None
) -> AccessReview | None:
    """Make sure a connected employer has an open round; returns it (None if not connected).

    The round falls due ``ACCESS_REVIEW_DAYS`` after the previous round was completed or, for the
    first, after the administrators got their access; never sooner than ``MIN_NOTICE_DAYS`` from
    today, so that both reminders go out.
    """
    day = today or timezone.localdate()
    with transaction.atomic():
        employer = Employer.objects.select_for_update().get(pk=employer.pk)
        if not employer.is_connected:
            return None
        existing = review_open(employer)
        if existing is not None:
            return existing
        due_on = max(
            _review_base(employer) + timedelta(days=settings.ACCESS_REVIEW_DAYS),
            day + timedelta(days=MIN_NOTICE_DAYS),
        )
        review = AccessReview.objects.create(employer=employer, due_on=due_on)
        audit.record(
            EventType.REVIEW_SCHEDULED,
            actor=actor,
            object_type="employer",
            object_id=str(employer.public_id),
            data={"review": review.pk, "due_on": due_on.isoformat()},
        )
    return review


def _review_base(employer: Employer) -> date:
    """The day the next round's period starts: the last completed round of this connection, or
    the day the first of today's memberships was created (the connection)."""
    candidates = []
    last = (
        AccessReview.objects.filter(employer=employer, completed_at__isnull=False)
        .order_by("-completed_at")
        .values_list("completed_at", flat=True)
        .first()
    )
    if last is not None:
        candidates.append(timezone.localdate(last))
    first = (
        Membership.objects.open()
        .filter(employer=employer)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if first is not None:
        candidates.append(timezone.localdate(first))
    # A completed round from an earlier connection is older than today's memberships, so the later
    # of the two is the right start.
    return max(candidates) if candidates else timezone.localdate(employer.state_changed_at)


@dataclass(frozen=True)
class ReviewChoice:
    """One decision an administrator makes in a round."""

    membership: Membership
    decision: str
    reason: str = ""


@dataclass(frozen=True)
class ReviewOutcome:
    review: AccessReview
    confirmed: int
    removed: int
    restored: int
    completed: bool
    next_review: AccessReview | None


def review_decide(
    *,
    review: AccessReview,
    membership: Membership,
    decision: str,
    actor: Person,
    reason: str = "",
    request: HttpRequest | None = None,
    today: date | None = None,
) -> ReviewOutcome:
    """Confirm or remove one membership in ``review`` (see ``review_decide_many``)."""
    return _decide(
        employer=review.employer,
        review=review,
        choices=[ReviewChoice(membership, decision, reason)],
        actor=actor,
        request=request,
        today=today,
    )


def review_decide_many(
    *,
    employer: Employer,
    choices: Sequence[ReviewChoice],
    actor: Person,
    request: HttpRequest | None = None,
    today: date | None = None,
) -> ReviewOutcome:
    """Apply an administrator's decisions in the employer's current round (scheduled first if
    there is none: an administrator may review before being asked), all or none.

    Confirming records the review on the membership and lifts a suspension at once. Removing ends
    the membership (and its grants) with the reason given; removing the last active administrator
    is refused with ``LastAdministrator`` and nothing is applied. When every open membership has a
    decision, the round completes and the next is scheduled.
    """
    return _decide(
        employer=employer, review=None, choices=choices, actor=actor, request=request, today=today
    )


def _decide(
    *,
    employer: Employer,
    review: AccessReview | None,
    choices: Sequence[ReviewChoice],
    actor: Person,
    request: HttpRequest | None,
    today: date | None,
) -> ReviewOutcome:
    reasons = _clean_choices(choices)
    refused_person: Person | None = None
    counts = {"confirm": 0, "remove": 0, "restored": 0}
    completed = False
    next_review = None
    with transaction.atomic():
        employer = Employer.objects.select_for_update().get(pk=employer.pk)
        if review is None:
            review = review_schedule(employer=employer, actor=actor, today=today)
            if review is None:
                raise ConflictError(
                    _("Arbetsgivaren är inte ansluten. Det finns inget att granska."),
                    code="not-connected",
                )
        review = AccessReview.objects.select_for_update().get(pk=review.pk)
        if review.completed_at is not None or review.employer_id != employer.pk:
            raise ConflictError(
                _("Granskningen är redan klar. Ladda om sidan och se den nya granskningen."),
                code="review-completed",
            )
        memberships = _memberships_to_decide(employer=employer, review=review, choices=choices)
        leaving = [memberships[c.membership.pk] for c in choices if c.decision == Decision.REMOVE]
        if administration._leaves_no_administrator(employer=employer, leaving=leaving):
            refused_person = next(m.person for m in leaving if m.role == Role.ADMINISTRATOR)
        else:
            counts = _apply(
                employer=employer,
                review=review,
                choices=choices,
                memberships=memberships,
                reasons=reasons,
                actor=actor,
                request=request,
            )
            completed = not review_undecided(review).exists()
            if completed:
                next_review = _complete(
                    employer=employer, review=review, actor=actor, request=request, today=today
                )
    if refused_person is not None:
        # Recorded in its own transaction: the refused decisions were not applied.
        administration._record_refusal(
            employer=employer, person=refused_person, actor=actor, request=request
        )
        raise LastAdministrator(administration._last_administrator_message())
    return ReviewOutcome(
        review=review,
        confirmed=counts["confirm"],
        removed=counts["remove"],
        restored=counts["restored"],
        completed=completed,
        next_review=next_review,
    )


def _clean_choices(choices: Sequence[ReviewChoice]) -> dict[int, str]:
    """The reason for each membership's decision, cleaned; refuses what cannot be applied."""
    if not choices:
        raise InvalidAccess(_("Välj Behåll eller Ta bort för minst en person."))
    reasons = {}
    for choice in choices:
        if choice.decision not in Decision.values:
            raise InvalidAccess(_("Välj Behåll eller Ta bort."))
        if choice.decision == Decision.REMOVE:
            reasons[choice.membership.pk] = administration.reason_clean(choice.reason)
        else:
            reasons[choice.membership.pk] = " ".join(choice.reason.split())[
                : administration.MAX_REASON_LENGTH
            ]
    if len(reasons) != len(choices):
        raise InvalidAccess(_("Samma behörighet har fått två beslut."))
    return reasons


def _memberships_to_decide(
    *, employer: Employer, review: AccessReview, choices: Sequence[ReviewChoice]
) -> dict[int, Membership]:
    """The chosen memberships, locked, each still open and undecided in ``review``."""
    wanted = [choice.membership.pk for choice in choices]
    memberships = {
        m.pk: m
        for m in Membership.objects.select_for_update()
        .select_related("person")
        .filter(pk__in=wanted, employer=employer)
    }
    already = set(
        ReviewDecision.objects.filter(review=review, membership__in=wanted).values_list(
            "membership", flat=True
        )
    )
    for choice in choices:
        membership = memberships.get(choice.membership.pk)
        if membership is None or membership.ended_at is not None:
            raise ConflictError(
                _("En av behörigheterna har redan tagits bort. Ladda om sidan."),
                code="membership-ended",
            )
        if membership.pk in already:
            raise ConflictError(
                _("Någon har redan fattat beslut om en av behörigheterna. Ladda om sidan."),
                code="already-decided",
            )
    return memberships


def _apply(
    *,
    employer: Employer,
    review: AccessReview,
    choices: Sequence[ReviewChoice],
    memberships: dict[int, Membership],
    reasons: dict[int, str],
    actor: Person,
    request: HttpRequest | None,
) -> dict[str, int]:
    counts = {"confirm": 0, "remove": 0, "restored": 0}
    now = timezone.now()
    for choice in choices:
        membership = memberships[choice.membership.pk]
        reason = reasons[membership.pk]
        ReviewDecision.objects.create(
            review=review, membership=membership, decision=choice.decision, decided_by=actor
        )
        restored = False
        if choice.decision == Decision.CONFIRM:
            restored = membership.suspended_at is not None
            membership.last_reviewed_at = now
            membership.suspended_at = None
            membership.save(update_fields=["last_reviewed_at", "suspended_at"])
            if restored:
                counts["restored"] += 1
                audit.record(
                    EventType.MEMBERSHIP_CHANGED,
                    actor=actor,
                    request=request,
                    object_type="employer",
                    object_id=str(employer.public_id),
                    data={
                        "membership": membership.pk,
                        "person": membership.person_id,
                        "field": "suspended_at",
                        "restored": True,
                        "review": review.pk,
                    },
                )
        audit.record(
            EventType.REVIEW_DECIDED,
            actor=actor,
            request=request,
            object_type="employer",
            object_id=str(employer.public_id),
            data={
                "review": review.pk,
                "membership": membership.pk,
                "person": membership.person_id,
                "role": membership.role,
                "decision": choice.decision,
                "reason": reason,
                "restored": restored,
            },
        )
        if choice.decision == Decision.REMOVE:
            # The administrators are told and the grants end with it, as for any removal.
            administration.membership_end(
                membership=membership, reason=reason, actor=actor, request=request
            )
        counts[choice.decision] += 1
    return counts


def _complete(
    *,
    employer: Employer,
    review: AccessReview,
    actor: Person | None,
    request: HttpRequest | None,
    today: date | None,
) -> AccessReview | None:
    """Close ``review`` (in the caller's transaction) and schedule the next round."""
    review.completed_at = timezone.now()
    review.completed_by = actor
    review.save(update_fields=["completed_at", "completed_by"])
    decided = list(ReviewDecision.objects.filter(review=review).values_list("decision", flat=True))
    audit.record(
        EventType.REVIEW_COMPLETED,
        actor=actor,
        request=request,
        object_type="employer",
        object_id=str(employer.public_id),
        data={
            "review": review.pk,
            "due_on": review.due_on.isoformat(),
            "confirmed": decided.count(Decision.CONFIRM),
            "removed": decided.count(Decision.REMOVE),
        },
    )
    return review_schedule(employer=employer, actor=actor, today=today)


# --- the daily task ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DailySummary:
    expired: int = 0
    scheduled: int = 0
    completed: int = 0
    reminders: int = 0
    suspended: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def __str__(self) -> str:
        return (
            f"Access: {self.expired} grant expiries recorded, {self.scheduled} reviews scheduled, "
            f"{self.completed} reviews completed, {self.reminders} reminders sent, "
            f"{self.suspended} memberships suspended."
        )


def access_daily_run(*, today: date | None = None) -> DailySummary:
    """Everything access needs once a day; safe to run any number of times (each step records
    what it did and does not do it again)."""
    day = today or timezone.localdate()
    expired = administration.grants_record_expiry(today=day)
    completed = sum(review_complete_if_done(review=r) for r in _open_reviews())
    scheduled = 0
    without_review = Employer.objects.filter(state__in=CONNECTED_STATES).exclude(
        Exists(AccessReview.objects.filter(employer=OuterRef("pk"), completed_at__isnull=True))
    )
    for employer in without_review.iterator():
        if review_schedule(employer=employer, today=day) is not None:
            scheduled += 1
    reminders = 0
    suspended = 0
    for review in _open_reviews().filter(employer__state__in=CONNECTED_STATES):
        reminders += review_remind(review=review, today=day)
        suspended += review_suspend_overdue(review=review, today=day)
    return DailySummary(
        expired=expired,
        scheduled=scheduled,
        completed=completed,
        reminders=reminders,
        suspended=suspended,
    )


def _open_reviews() -> QuerySet[AccessReview]:
    return AccessReview.objects.filter(completed_at__isnull=True).select_related("employer")


def review_complete_if_done(*, review: AccessReview, today: date | None = None) -> bool:
    """Complete a round with nothing left to decide (the last undecided person was removed on
    their own page, or the employer left the portal and every membership ended)."""
    if review_undecided(review).exists():
        return False
    with transaction.atomic():
        employer = Employer.objects.select_for_update().get(pk=review.employer_id)
        review = AccessReview.objects.select_for_update().get(pk=review.pk)
        if review.completed_at is not None or review_undecided(review).exists():
            return False
        _complete(employer=employer, review=review, actor=None, request=None, today=today)
    return True


def review_remind(*, review: AccessReview, today: date | None = None) -> int:
    """Send the reminder due today, if any and not sent yet, to every active administrator.
    Returns the number of mails queued."""
    day = today or timezone.localdate()
    days_left = (review.due_on - day).days
    due = [days for days in sorted(REMINDER_DAYS) if 0 <= days_left <= days]
    if not due:
        return 0
    # The nearest reminder only: a run missed on day 14 does not send both on day 3.
    key = str(due[0])
    if key in review.reminders_sent:
        return 0
    sent = 0
    with transaction.atomic():
        review = (
            AccessReview.objects.select_for_update().select_related("employer").get(pk=review.pk)
        )
        if review.completed_at is not None or key in review.reminders_sent:
            return 0
        employer = review.employer
        link = settings.BASE_URL + reverse(
            "access:review", kwargs={"public_id": employer.public_id}
        )
        suspends_on = _suspends_on(review)
        for membership in administrators_reachable(employer):
            address = membership.contact_email
            outbox_enqueue(
                template="access_review_reminder",
                to_email=address,
                to_person=membership.person,
                context={
                    "employer": employer.name,
                    "due_on": review.due_on.isoformat(),
                    "days": days_left,
                    "suspends_on": suspends_on.isoformat() if suspends_on else "",
                    "link": link,
                },
                related_object_type="employer",
                related_object_id=str(employer.public_id),
                idempotency_key=f"access-review-reminder:{review.pk}:{key}:{membership.person_id}",
            )
            sent += 1
        review.reminders_sent = [*review.reminders_sent, key]
        review.save(update_fields=["reminders_sent"])
        audit.record(
            EventType.REVIEW_REMINDED,
            actor=None,
            object_type="employer",
            object_id=str(employer.public_id),
            data={
                "review": review.pk,
                "reminder": int(key),
                "due_on": review.due_on.isoformat(),
                "recipients": sent,
            },
        )
    return sent


def review_suspend_overdue(*, review: AccessReview, today: date | None = None) -> int:
    """The suspension policy: once ``review`` is overdue by more than
    ``ACCESS_REVIEW_SUSPEND_AFTER_DAYS`` (0: never), suspend every open user membership nobody
    confirmed in it, once. Administrators are never suspended (they must be able to do the
    review), nor are people added during the round (adding them was a decision). Returns the
    number of memberships suspended."""
    day = today or timezone.localdate()
    suspends_on = _suspends_on(review)
    if suspends_on is None or day < suspends_on:
        return 0
    with transaction.atomic():
        employer = Employer.objects.select_for_update().get(pk=review.employer_id)
        review = AccessReview.objects.select_for_update().get(pk=review.pk)
        if review.completed_at is not None or review.suspended_at is not None:
            return 0
        now = timezone.now()
        confirmed = ReviewDecision.objects.filter(review=review, decision=Decision.CONFIRM)
        memberships = list(
            Membership.objects.open()
            .filter(
                employer=employer,
                role=Role.USER,
                suspended_at__isnull=True,
                created_at__lt=review.created_at,
            )
            .exclude(pk__in=confirmed.values("membership"))
            .select_related("person")
            .order_by("pk")
        )
        for membership in memberships:
            membership.suspended_at = now
            membership.save(update_fields=["suspended_at"])
            audit.record(
                EventType.MEMBERSHIP_SUSPENDED,
                actor=None,
                object_type="employer",
                object_id=str(employer.public_id),
                data={
                    "membership": membership.pk,
                    "person": membership.person_id,
                    "role": membership.role,
                    "review": review.pk,
                    "due_on": review.due_on.isoformat(),
                },
            )
            administration._tell_administrators(
                employer=employer,
                actor=None,
                person=membership.person,
                changes=[administration._change("suspended")],
            )
        review.suspended_at = now
        review.save(update_fields=["suspended_at"])
    return len(memberships)
