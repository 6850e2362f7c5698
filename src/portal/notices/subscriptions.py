"""Access administrators' e-mail subscriptions to the availability notices (R15).

An active access administrator of an employer may subscribe (and unsubscribe), each change
audited. When an outage is planned or cancelled, or an incident declared or closed, every
subscriber whose employer uses an affected e-service gets an e-mail, enqueued in the outbox in the
same transaction as the change (an outage or incident of all e-services reaches every subscriber).
Whether the subscriber is still an active administrator is decided when the notice is sent, by
``access.can``: an administrator who has left gets nothing, and the subscription sends again if
the person becomes administrator once more.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal import audit
from portal.access.constants import Permission
from portal.access.selectors import administrator_addresses, employers_using
from portal.access.services import can, require
from portal.audit.constants import EventType
from portal.common.errors import ApplicationError
from portal.employers.models import Employer
from portal.identity.models import Person
from portal.messaging.services import InvalidRecipient, outbox_enqueue
from portal.notices.models import Incident, NoticeSubscription, Outage

logger = structlog.get_logger(__name__)

#: Who may subscribe for an employer, and whose subscription sends: its access administrators.
SUBSCRIBE = Permission.ACCESS_MANAGE


class Notice(StrEnum):
    """What happened; each has its message type ``notices_<value>``."""

    OUTAGE_PLANNED = "outage_planned"
    OUTAGE_CANCELLED = "outage_cancelled"
    INCIDENT_DECLARED = "incident_declared"
    INCIDENT_CLOSED = "incident_closed"

    @property
    def template(self) -> str:
        return f"notices_{self.value}"


class NoAddress(ApplicationError):
    """The administrator has no e-mail address the notices could be sent to."""

    code = "no-email"


# --- subscribing -----------------------------------------------------------------------------


def subscription_of(person: Person, employer: Employer) -> NoticeSubscription | None:
    return NoticeSubscription.objects.filter(person=person, employer=employer).first()


def address_of(person: Person, employer: Employer) -> str:
    """Where the notices for ``employer`` go to ``person`` (empty: nowhere, or not an active
    administrator)."""
    return administrator_addresses([employer]).get((employer.pk, person.pk), "")


def _language() -> str:
    language = (translation.get_language() or "sv")[:2]
    return language if language in NoticeSubscription.Language.values else "sv"


def subscription_set(
    *, person: Person, employer: Employer, on: bool, request: HttpRequest | None = None
) -> bool:
    """Start (``on``) or end ``person``'s subscription to the notices for ``employer``; the
    notices are written in the language active now. Returns whether anything changed.

    Only an active access administrator of the employer may (an audited 403 for anyone else); one
    without an e-mail address cannot subscribe (``NoAddress``).
    """
    require(person, SUBSCRIBE, employer=employer, request=request)
    with transaction.atomic():
        existing = (
            NoticeSubscription.objects.select_for_update()
            .filter(person=person, employer=employer)
            .first()
        )
        if on == (existing is not None):
            return False
        if existing is not None:
            ended = existing.pk
            existing.delete()
            audit.record(
                EventType.NOTICE_UNSUBSCRIBED,
                actor=person,
                request=request,
                object_type="employer",
                object_id=str(employer.public_id),
                employer=employer,
                data={"subscription": ended},
            )
            return True
        if not address_of(person, employer):
            raise NoAddress(
                _(
                    "Det finns ingen e-postadress för dig hos arbetsgivaren. Ange en e-postadress "
                    "under Behörigheter och försök igen."
                )
            )
        try:
            with transaction.atomic():  # a savepoint: a double click may lose the race
                subscription = NoticeSubscription.objects.create(
                    person=person, employer=employer, language=_language()
                )
        except IntegrityError:
            return False
        audit.record(
            EventType.NOTICE_SUBSCRIBED,
            actor=person,
            request=request,
            object_type="employer",
            object_id=str(employer.public_id),
            employer=employer,
            data={"subscription": subscription.pk, "language": subscription.language},
        )
    return True


# --- sending -----------------------------------------------------------------------------------


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _scope(notice: Outage | Incident) -> dict[str, Any]:
    """What is common to every notice, in the active language."""
    return {
        "title": notice.title,
        "description": notice.description,
        "all_eservices": notice.all_eservices,
        "eservices": [str(name) for name in notice.eservice_names],
        "status_link": settings.BASE_URL + reverse("status"),
    }


def outage_notify(outage: Outage, *, cancelled: bool = False) -> int:
    """Tell the subscribers that ``outage`` was planned (or cancelled). In the caller's
    transaction; returns how many messages were enqueued."""
    now = timezone.now()

    def context() -> dict[str, Any]:
        return {
            **_scope(outage),
            "starts_at": _local(outage.starts_at),
            "ends_at": _local(outage.ends_at),
            "in_progress": outage.starts_at <= now < outage.ends_at,
        }

    notice = Notice.OUTAGE_CANCELLED if cancelled else Notice.OUTAGE_PLANNED
    return _notify(notice, outage, "outage", context)


def incident_notify(incident: Incident, *, closed: bool = False) -> int:
    """Tell the subscribers that ``incident`` was declared (or closed). In the caller's
    transaction; returns how many messages were enqueued."""

    def context() -> dict[str, Any]:
        return {
            **_scope(incident),
            "started_at": _local(incident.started_at),
            "closed_at": _local(incident.closed_at) if incident.closed_at else "",
            "closes_eservices": incident.closes_eservices,
        }

    notice = Notice.INCIDENT_CLOSED if closed else Notice.INCIDENT_DECLARED
    return _notify(notice, incident, "incident", context)


def _subscribers(notice: Outage | Incident) -> list[NoticeSubscription]:
    subscriptions = NoticeSubscription.objects.select_related("person", "employer")
    if not notice.all_eservices:
        subscriptions = subscriptions.filter(employer__in=employers_using(notice.eservice_codes))
    return list(subscriptions.order_by("pk"))


def _notify(
    notice: Notice,
    subject: Outage | Incident,
    object_type: str,
    context: Callable[[], dict[str, Any]],
) -> int:
    subscriptions = _subscribers(subject)
    if not subscriptions:
        return 0
    addresses = administrator_addresses({s.employer_id for s in subscriptions})
    by_language: dict[str, dict[str, Any]] = {}
    sent = 0
    for subscription in subscriptions:
        person, employer = subscription.person, subscription.employer
        address = addresses.get((employer.pk, person.pk))
        # Decided now: an administrator who has left (or whose employer has) gets nothing.
        if not address or not can(person, SUBSCRIBE, employer=employer):
            continue
        language = subscription.language
        if language not in by_language:
            with translation.override(language):
                by_language[language] = context()
        try:
            outbox_enqueue(
                template=notice.template,
                to_email=address,
                to_person=person,
                context={
                    **by_language[language],
                    "employer": employer.name,
                    "subscription_link": settings.BASE_URL
                    + reverse("notices:subscription", kwargs={"public_id": employer.public_id}),
                },
                language=language,
                related_object_type=object_type,
                related_object_id=str(subject.public_id),
                # One message per notice and subscription, however often this runs.
                idempotency_key=f"notices:{notice.value}:{subject.public_id}:{subscription.pk}",
            )
        except InvalidRecipient:
            # Refused before anything was written; the others still get theirs.
            logger.warning(
                "notice_recipient_invalid", subscription=subscription.pk, notice=notice.value
            )
            continue
        sent += 1
    return sent
