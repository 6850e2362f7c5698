"""Termination by the agency (R17): notice of three months, then access ends by itself.

A case worker records the termination with a reason. The employer moves to "termination
notified", its administrators are told at once by e-mail and see a banner with the date, and a
background task scheduled for the end of the notice period terminates the employer: every
membership ends. Until then the case worker can withdraw the termination.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from portal import audit
from portal.access.models import Membership, Role
from portal.access.services import memberships_end_all
from portal.audit.constants import EventType
from portal.common.errors import ConflictError
from portal.employers.constants import EmployerAction, EmployerState
from portal.employers.models import Employer, Termination
from portal.employers.state import transition
from portal.identity.models import Person
from portal.messaging.services import outbox_enqueue


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day if it has no such day (31 May + 3
    months is 31 August; 30 November + 3 months is 28 or 29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def termination_date(today: date | None = None) -> date:
    return add_months(today or timezone.localdate(), settings.TERMINATION_NOTICE_MONTHS)


def termination_notify(
    *, employer: Employer, reason: str, actor: Person, request: HttpRequest | None = None
) -> Termination:
    with transaction.atomic():
        termination = Termination.objects.create(
            employer=employer, reason=reason, notified_by=actor, effective_on=termination_date()
        )
        transition(
            employer=employer,
            action=EmployerAction.NOTIFY_TERMINATION,
            actor=actor,
            request=request,
        )
        audit.record(
            EventType.TERMINATION_NOTIFIED,
            actor=actor,
            request=request,
            object_type="employer",
            object_id=str(employer.public_id),
            data={
                "termination": str(termination.public_id),
                "effective_on": termination.effective_on.isoformat(),
            },
        )
        for membership in (
            Membership.objects.active()
            .filter(employer=employer, role=Role.ADMINISTRATOR)
            .select_related("person")
        ):
            email = membership.email or membership.person.email
            if email:
                outbox_enqueue(
                    template="termination_notified",
                    to_email=email,
                    to_person=membership.person,
                    context={
                        "employer": employer.name,
                        "number": employer.formatted_number,
                        "effective_on": termination.effective_on.isoformat(),
                        "reason": reason,
                    },
                    related_object_type="termination",
                    related_object_id=str(termination.public_id),
                    idempotency_key=f"termination-notified:{termination.public_id}:{email}",
                )
        _schedule(termination)
    return termination


def _schedule(termination: Termination) -> None:
    from portal.employers.tasks import terminate_employer  # noqa: PLC0415 (tasks import this module)

    public_id = str(termination.public_id)
    run_after = timezone.make_aware(datetime.combine(termination.effective_on, time.min))
    transaction.on_commit(lambda: terminate_employer.using(run_after=run_after).enqueue(public_id))


def termination_withdraw(
    *, termination: Termination, actor: Person, request: HttpRequest | None = None
) -> None:
    with transaction.atomic():
        locked = (
            Termination.objects.select_for_update()
            .select_related("employer")
            .get(pk=termination.pk)
        )
        if locked.state != Termination.State.NOTIFIED:
            raise ConflictError("Uppsägningen kan inte längre återkallas.")
        locked.state = Termination.State.WITHDRAWN
        locked.withdrawn_by = actor
        locked.withdrawn_at = timezone.now()
        locked.save(update_fields=["state", "withdrawn_by", "withdrawn_at"])
        transition(
            employer=locked.employer,
            action=EmployerAction.WITHDRAW_TERMINATION,
            actor=actor,
            request=request,
        )
        audit.record(
            EventType.TERMINATION_WITHDRAWN,
            actor=actor,
            request=request,
            object_type="employer",
            object_id=str(locked.employer.public_id),
            data={"termination": str(locked.public_id)},
        )


def termination_take_effect(*, termination: Termination) -> bool:
    """On the date (the background task): the employer is terminated and access ends."""
    with transaction.atomic():
        locked = (
            Termination.objects.select_for_update()
            .select_related("employer")
            .get(pk=termination.pk)
        )
        employer = locked.employer
        if (
            locked.state != Termination.State.NOTIFIED
            or locked.effective_on > timezone.localdate()
            or employer.state != EmployerState.TERMINATION_NOTIFIED
        ):
            return False
        transition(
            employer=employer,
            action=EmployerAction.TERMINATE,
            actor=None,
            data={"termination": str(locked.public_id)},
        )
        now = timezone.now()
        ended = len(memberships_end_all(employer=employer, reason="employer-terminated"))
        locked.state = Termination.State.TERMINATED
        locked.terminated_at = now
        locked.save(update_fields=["state", "terminated_at"])
        audit.record(
            EventType.TERMINATION_TOOK_EFFECT,
            actor=None,
            object_type="employer",
            object_id=str(employer.public_id),
            data={"termination": str(locked.public_id), "memberships_ended": ended},
        )
    return True
