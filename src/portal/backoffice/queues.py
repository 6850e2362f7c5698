"""The back-office's work queues: the cases waiting for the agency's staff, each with a due date.

Four kinds, each a queue of its own, sorted by due date (the earliest first):

* **Paper enrolments** waiting for a second case worker's approval (four eyes). Due
  ``PORTAL_CASE_DUE_DAYS`` working days after the form was received (``received_on``; the day it
  was entered when no received date was given).
* **Written de-registration requests** not yet processed (held for a case worker, or received and
  waiting for the background task). Due ``PORTAL_CASE_DUE_DAYS`` working days after the letter
  was received.
* **Terminations** whose notice period is running. Due on the day the connection ends
  (``effective_on``): the termination is carried out then, or withdrawn before.
* **Inquiries** to employers that are not yet answered. Due on the inquiry's own due date (the
  employer's last day to answer).

A case is overdue when its due date has passed (a case due today is not overdue yet). Working days
are Monday to Friday; public holidays are not taken into account.

Each queue is read with one query: the first ``QUEUE_LIMIT`` cases in due-date order, each row
carrying the queue's total and overdue counts as window aggregates, so a long queue costs no more
than a short one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Q,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from portal.access.constants import Permission
from portal.access.services import can
from portal.employers.models import DeregistrationRequest, Enrolment, Termination
from portal.eservices.inquiries.models import Inquiry
from portal.identity.models import Person

SATURDAY = 5  # date.weekday(): Monday is 0

#: How many cases of each queue the page lists (the counts cover the whole queue).
QUEUE_LIMIT = 50


class QueueKind(StrEnum):
    """The kinds of case; the values are the page's filter values (``?typ=``)."""

    PAPER_ENROLMENTS = "blanketter"
    DEREGISTRATIONS = "avregistreringar"
    TERMINATIONS = "uppsagningar"
    INQUIRIES = "forfragningar"


@dataclass(frozen=True)
class KindInfo:
    title: Promise
    due_rule: Promise
    #: Any one of these lets a staff member see the queue (besides BACKOFFICE_QUEUE_OVERSEE).
    permissions: tuple[Permission, ...]


KINDS: dict[QueueKind, KindInfo] = {
    QueueKind.PAPER_ENROLMENTS: KindInfo(
        _("Anslutningar på blankett som väntar på granskning"),
        _(
            "Ska granskas inom %(days)s arbetsdagar från den dag blanketten kom in. Den som "
            "registrerade blanketten kan inte själv godkänna den."
        ),
        (Permission.BACKOFFICE_ENROLMENT_APPROVE, Permission.BACKOFFICE_ENROLMENT_REGISTER),
    ),
    QueueKind.DEREGISTRATIONS: KindInfo(
        _("Skriftliga begäranden om avregistrering"),
        _("Ska behandlas inom %(days)s arbetsdagar från den dag begäran kom in."),
        (Permission.BACKOFFICE_DEREGISTRATION_REGISTER,),
    ),
    QueueKind.TERMINATIONS: KindInfo(
        _("Uppsägningar där uppsägningstiden löper"),
        _("Senast den dag anslutningen upphör: då genomförs uppsägningen om den inte återkallas."),
        (Permission.BACKOFFICE_EMPLOYER_TERMINATE,),
    ),
    QueueKind.INQUIRIES: KindInfo(
        _("Förfrågningar till arbetsgivare som inte är besvarade"),
        _("Senast den dag arbetsgivaren ska ha svarat."),
        (Permission.BACKOFFICE_INQUIRY_CREATE,),
    ),
}


@dataclass(frozen=True)
class QueueItem:
    public_id: uuid.UUID
    employer_name: str
    reference: str
    status: str
    received_on: date | None
    due_on: date
    overdue: bool
    due_today: bool
    #: The case's own page, or ``None`` when the staff member's roles open none.
    url: str | None
    #: Something the staff member should know (e.g. that they may not approve it themselves).
    note: str = ""


@dataclass(frozen=True)
class Queue:
    kind: QueueKind
    title: Promise
    due_rule: str
    items: list[QueueItem]
    total: int
    overdue: int

    @property
    def truncated(self) -> bool:
        return self.total > len(self.items)


def add_working_days(start: date, days: int) -> date:
    """The day ``days`` working days (Monday to Friday) after ``start``."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < SATURDAY:
            remaining -= 1
    return current


def earliest_on_time(today: date, days: int) -> date:
    """The earliest received date whose case, due ``days`` working days later, is not overdue
    today: a case received before it is overdue."""
    candidate = today - timedelta(days=days * 7 // 5 + 7)
    while add_working_days(candidate, days) < today:
        candidate += timedelta(days=1)
    return candidate


def visible_kinds(person: Person) -> list[QueueKind]:
    """The kinds of case ``person``'s staff roles let them see, in the page's order."""
    if can(person, Permission.BACKOFFICE_QUEUE_OVERSEE):
        return list(QueueKind)
    return [
        kind
        for kind, info in KINDS.items()
        if any(can(person, permission) for permission in info.permissions)
    ]


def _counts(overdue: Q) -> dict[str, Window]:
    """Annotations giving each row the whole queue's total and overdue counts (window aggregates
    over the filtered queue, computed before the page's limit)."""
    return {
        "queue_total": Window(Count("pk")),
        "queue_overdue": Window(
            Sum(Case(When(overdue, then=Value(1)), default=Value(0), output_field=IntegerField()))
        ),
    }


def _queue(kind: QueueKind, rows: list[Any], items: list[QueueItem]) -> Queue:
    info = KINDS[kind]
    return Queue(
        kind=kind,
        title=info.title,
        due_rule=str(info.due_rule) % {"days": settings.CASE_DUE_DAYS},
        items=items,
        total=rows[0].queue_total if rows else 0,
        overdue=(rows[0].queue_overdue or 0) if rows else 0,
    )


@dataclass(frozen=True)
class Viewer:
    """The staff member looking at the queues, and which case pages their roles open (asked
    once per page, not once per case)."""

    person: Person
    may_approve_enrolments: bool
    may_view_employers: bool

    @classmethod
    def of(cls, person: Person) -> Viewer:
        return cls(
            person=person,
            may_approve_enrolments=can(person, Permission.BACKOFFICE_ENROLMENT_APPROVE),
            may_view_employers=can(person, Permission.BACKOFFICE_EMPLOYER_VIEW),
        )

    def employer_url(self, public_id: uuid.UUID, case: str | Promise = "") -> str | None:
        """The employer's page, with the case as the reason for looking it up."""
        if self.may_view_employers:
            url = reverse("backoffice:employer", kwargs={"public_id": public_id})
            reason = _("Arbetskö: %(case)s") % {"case": case}
            return f"{url}?{urlencode({'skal': str(reason)})}"
        return None


def paper_enrolments_queue(viewer: Viewer, *, today: date, limit: int = QUEUE_LIMIT) -> Queue:
    days = settings.CASE_DUE_DAYS
    on_time = earliest_on_time(today, days)
    # A form entered without a received date counts from the day it was entered.
    received = Coalesce(F("received_on"), TruncDate("created_at"))
    rows = list(
        Enrolment.objects.filter(
            channel=Enrolment.Channel.PAPER, state=Enrolment.State.AWAITING_APPROVAL
        )
        .select_related("employer", "entered_by")
        .annotate(
            **_counts(
                Q(received_on__lt=on_time)
                | Q(received_on__isnull=True, created_at__date__lt=on_time)
            )
        )
        .order_by(received.asc(), "created_at", "pk")[:limit]
    )
    items = []
    for enrolment in rows:
        received_on = enrolment.received_on or timezone.localdate(enrolment.created_at)
        due = add_working_days(received_on, days)
        url = (
            reverse("backoffice:paper-enrolment", kwargs={"public_id": enrolment.public_id})
            if viewer.may_approve_enrolments
            else viewer.employer_url(enrolment.employer.public_id, _("anslutning på blankett"))
        )
        own = enrolment.entered_by_id == viewer.person.pk
        items.append(
            QueueItem(
                public_id=enrolment.public_id,
                employer_name=enrolment.employer.name,
                reference=enrolment.case_number,
                status=str(enrolment.get_state_display()),
                received_on=received_on,
                due_on=due,
                overdue=due < today,
                due_today=due == today,
                url=url,
                note=str(
                    _("Du registrerade blanketten: en annan handläggare godkänner den.")
                    if own
                    else _("Registrerad av %(name)s.")
                    % {"name": enrolment.entered_by.full_name if enrolment.entered_by else "–"}
                ),
            )
        )
    return _queue(QueueKind.PAPER_ENROLMENTS, rows, items)


def deregistrations_queue(viewer: Viewer, *, today: date, limit: int = QUEUE_LIMIT) -> Queue:
    days = settings.CASE_DUE_DAYS
    rows = list(
        DeregistrationRequest.objects.filter(
            channel=DeregistrationRequest.Channel.WRITTEN,
            state__in=[
                DeregistrationRequest.State.HELD,
                DeregistrationRequest.State.RECEIVED,
            ],
        )
        .select_related("employer")
        .annotate(**_counts(Q(received_on__lt=earliest_on_time(today, days))))
        .order_by("received_on", "created_at", "pk")[:limit]
    )
    items = []
    for deregistration in rows:
        due = add_working_days(deregistration.received_on, days)
        items.append(
            QueueItem(
                public_id=deregistration.public_id,
                employer_name=deregistration.employer.name,
                reference=deregistration.case_number,
                status=str(deregistration.get_state_display()),
                received_on=deregistration.received_on,
                due_on=due,
                overdue=due < today,
                due_today=due == today,
                url=viewer.employer_url(
                    deregistration.employer.public_id,
                    deregistration.case_number or _("skriftlig avregistrering"),
                ),
            )
        )
    return _queue(QueueKind.DEREGISTRATIONS, rows, items)


def terminations_queue(viewer: Viewer, *, today: date, limit: int = QUEUE_LIMIT) -> Queue:
    rows = list(
        Termination.objects.filter(state=Termination.State.NOTIFIED)
        .select_related("employer")
        .annotate(**_counts(Q(effective_on__lt=today)))
        .order_by("effective_on", "notified_at", "pk")[:limit]
    )
    items = [
        QueueItem(
            public_id=termination.public_id,
            employer_name=termination.employer.name,
            reference="",
            status=str(termination.get_state_display()),
            received_on=timezone.localdate(termination.notified_at),
            due_on=termination.effective_on,
            overdue=termination.effective_on < today,
            due_today=termination.effective_on == today,
            url=viewer.employer_url(termination.employer.public_id, _("uppsägning")),
        )
        for termination in rows
    ]
    return _queue(QueueKind.TERMINATIONS, rows, items)


def inquiries_queue(viewer: Viewer, *, today: date, limit: int = QUEUE_LIMIT) -> Queue:
    rows = list(
        Inquiry.objects.filter(answer__isnull=True)
        .select_related("employer")
        .annotate(**_counts(Q(due_date__lt=today)))
        .order_by("due_date", "created_at", "pk")[:limit]
    )
    items = [
        QueueItem(
            public_id=inquiry.public_id,
            employer_name=inquiry.employer.name,
            reference=inquiry.reference,
            status=str(_("Obesvarad, gäller %(kind)s") % {"kind": inquiry.get_kind_display()}),
            received_on=timezone.localdate(inquiry.created_at),
            due_on=inquiry.due_date,
            overdue=inquiry.due_date < today,
            due_today=inquiry.due_date == today,
            url=viewer.employer_url(inquiry.employer.public_id, inquiry.reference),
        )
        for inquiry in rows
    ]
    return _queue(QueueKind.INQUIRIES, rows, items)


QUEUES = {
    QueueKind.PAPER_ENROLMENTS: paper_enrolments_queue,
    QueueKind.DEREGISTRATIONS: deregistrations_queue,
    QueueKind.TERMINATIONS: terminations_queue,
    QueueKind.INQUIRIES: inquiries_queue,
}


def queues_for(person: Person, *, kinds: list[QueueKind], today: date | None = None) -> list[Queue]:
    """The queues of ``kinds`` (which the caller has checked ``person`` may see), in order."""
    day = today or timezone.localdate()
    viewer = Viewer.of(person)
    return [QUEUES[kind](viewer, today=day) for kind in kinds]
