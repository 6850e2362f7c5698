"""Reading an employer's activity from the audit log: filters and keyset pagination.

An employer's events are those recorded with its public id in ``employer_ref``. Every read is one
walk backwards along the index ``(employer_ref, id)`` from a point: the employer's events with an
id below the last one shown, newest first, ``LIMIT n``. A page deep in ten million events costs
what the first page costs. There is no OFFSET and no COUNT anywhere: both read every row before
the page.

The statement says ``employer_ref >= %s AND employer_ref <= %s ... ORDER BY employer_ref DESC,
id DESC`` rather than ``employer_ref = %s ... ORDER BY id DESC``, which means the same. With the
equality PostgreSQL drops ``employer_ref`` from the ordering and may walk the primary key
backwards instead, filtering out other employers' rows on the way, betting that the employer's
events are spread evenly through the log: for an employer with half the events, all of them older
than another's, that walk reads every newer event of the other first (measured: 50 000 rows
for a page of 51). Ordered by both columns of the index, only that index gives the order without
sorting every match, so it is always the one used (tests/audit/test_activity.py checks the plan).

The people an event is about (``"person"`` or ``"membership"`` in its data) are loaded for a whole
page in one query, and only among the employer's own people, so the number of queries is the same
whatever the page holds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.access.models import Membership
from portal.audit.constants import ActorKind, EventType, Outcome, outcome_of
from portal.audit.labels import OUTCOME_LABELS, event_label
from portal.audit.models import AuditEvent
from portal.employers.models import Employer
from portal.eservices import registry
from portal.identity.eidas_identifiers import (
    is_valid_eidas_identifier,
    looks_like_eidas_identifier,
    normalise_eidas_identifier,
    person_masked,
)
from portal.identity.models import Person
from portal.identity.numbers import InvalidPersonalNumber, normalise_personal_number

PAGE_SIZE = 50
EXPORT_CHUNK = 2000
#: Fewer digits than this match too many numbers to mean anyone in particular.
MIN_NUMBER_DIGITS = 4
# Dates outside these are "no bound" (and would not survive the conversion to UTC at the edges
# of what datetime can hold).
_EARLIEST = date(1900, 1, 1)
_LATEST = date(9999, 1, 1)


@dataclass(frozen=True)
class ActivityFilter:
    """What the administrator asked to see. Empty values do not filter."""

    person: str = ""
    action: str = ""
    outcome: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def audit_data(self) -> dict[str, str]:
        """The filters as they go into the export's own audit event: no identity numbers there,
        so a searched number is kept only in its masked form."""
        data: dict[str, str] = {}
        if self.person:
            data["person"] = masked_search(self.person)
        if self.action:
            data["action"] = self.action
        if self.outcome:
            data["outcome"] = self.outcome
        if self.date_from:
            data["from"] = self.date_from.isoformat()
        if self.date_to:
            data["to"] = self.date_to.isoformat()
        return data


def masked_search(text: str) -> str:
    """A person search as it may be written down: a full number masked like everywhere else, and
    every digit of a partial number hidden (which part of a number it is, nobody knows)."""
    number = _full_number(text)
    if number:
        return f"{number[:8]}-****"
    return "".join("*" if ch.isdigit() else ch for ch in text)


@dataclass(frozen=True)
class PersonShown:
    """A person as the activity view shows them: the name and the masked number on the page, the
    full number only in the administrator's export, and only for the employer's own people (who
    are in its access list anyway); ``number`` is the masked one for anyone else."""

    name: str
    masked: str
    number: str


@dataclass(frozen=True)
class ActivityRow:
    id: int
    occurred_at: datetime
    event_type: str
    label: str
    outcome: str
    outcome_label: str
    actor_kind: str
    actor: PersonShown | None
    actor_label: str
    subject: PersonShown | None
    detail: str
    request_id: str
    ip_address: str


@dataclass(frozen=True)
class ActivityPage:
    rows: list[ActivityRow]
    #: The ``fore`` of the next page of older events, or None on the last page.
    older: int | None


# --- the query -----------------------------------------------------------------------------------


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isascii() and ch.isdigit())


def _full_number(text: str) -> str | None:
    if len(_digits(text)) < 10:  # noqa: PLR2004 (YYMMDDNNNC at the least)
        return None
    try:
        return normalise_personal_number(text)
    except InvalidPersonalNumber:
        return None


def _person_match(text: str, prefix: str = "") -> Q:
    """People whose name, personal number or eIDAS identifier matches ``text`` (every word must
    match)."""
    number = _full_number(text)
    if number:
        return Q(**{f"{prefix}personal_number": number})
    if looks_like_eidas_identifier(text) and is_valid_eidas_identifier(text):
        return Q(**{f"{prefix}eidas_identifier": normalise_eidas_identifier(text)})
    condition = Q()
    for word in text.split():
        digits = _digits(word)
        matches = Q(**{f"{prefix}given_name__icontains": word}) | Q(
            **{f"{prefix}surname__icontains": word}
        )
        if len(digits) >= MIN_NUMBER_DIGITS:
            matches |= Q(**{f"{prefix}personal_number__contains": digits})
        if "/" in word or len(digits) >= MIN_NUMBER_DIGITS:
            # A fragment of a foreign e-ID's eIDAS identifier (DE/SE/..., or its digits).
            matches |= Q(**{f"{prefix}eidas_identifier__contains": word})
        condition &= matches
    return condition


def _person_condition(employer: Employer, text: str) -> Q:
    """Events a matching person did, or that are about a matching person of the employer.

    Staff are never matched by name: their names are not shown, so finding them by name would
    tell what the page does not. The people an event is about are always the employer's own
    (the events name their membership), so only those are looked up, in one bounded query.
    """
    condition = Q(
        actor_kind=ActorKind.PERSON,
        actor__in=Person.objects.filter(_person_match(text)).values("pk"),
    )
    memberships = list(
        Membership.objects.filter(employer=employer)
        .filter(_person_match(text, "person__"))
        .values_list("pk", "person_id")
    )
    if memberships:
        condition |= Q(data__person__in=sorted({person for _pk, person in memberships}))
        condition |= Q(data__membership__in=[pk for pk, _person in memberships])
    return condition


def _day_start(day: date) -> datetime:
    # Midnight in Stockholm always exists (summer time changes at 02:00 and 03:00).
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def activity_events(employer: Employer, filters: ActivityFilter) -> QuerySet[AuditEvent]:
    """The employer's events that match ``filters``, in no particular order."""
    ref = str(employer.public_id)
    # A range of one value, not an equality: see the module's docstring.
    events = AuditEvent.objects.filter(employer_ref__gte=ref, employer_ref__lte=ref)
    if filters.action:
        events = events.filter(event_type=filters.action)
    if filters.outcome:
        # Events from before the outcome column have none: theirs follows from the event type.
        implied = [member.value for member in EventType if outcome_of(member) == filters.outcome]
        events = events.filter(
            Q(outcome=filters.outcome) | Q(outcome__isnull=True, event_type__in=implied)
        )
    if filters.date_from and filters.date_from >= _EARLIEST:
        events = events.filter(occurred_at__gte=_day_start(filters.date_from))
    if filters.date_to and filters.date_to < _LATEST:
        events = events.filter(occurred_at__lt=_day_start(filters.date_to + timedelta(days=1)))
    if filters.person:
        events = events.filter(_person_condition(employer, filters.person))
    return events


def keyset(events: QuerySet[AuditEvent], before: int | None, size: int) -> QuerySet[AuditEvent]:
    """``size`` of one employer's ``events`` older than event ``before`` (or the newest), newest
    first: ``id < before ORDER BY employer_ref DESC, id DESC LIMIT size``, a walk backwards along
    the index (employer_ref, id)."""
    if before is not None:
        events = events.filter(id__lt=before)
    return events.select_related("actor").order_by("-employer_ref", "-id")[:size]


def activity_page(
    employer: Employer,
    filters: ActivityFilter,
    *,
    before: int | None = None,
    size: int = PAGE_SIZE,
) -> ActivityPage:
    """One page of matching events, newest first, older than event ``before`` if given."""
    events = list(keyset(activity_events(employer, filters), before, size + 1))
    older = events[size - 1].pk if len(events) > size else None
    return ActivityPage(rows=_rows(employer, events[:size]), older=older)


def activity_all(
    employer: Employer, filters: ActivityFilter, *, chunk: int = EXPORT_CHUNK
) -> Iterator[ActivityRow]:
    """Every matching event, newest first, read in keyset chunks (never all at once), with the
    full numbers of the employer's own people."""
    events = activity_events(employer, filters)
    before: int | None = None
    while True:
        batch = list(keyset(events, before, chunk))
        yield from _rows(employer, batch, full_numbers=True)
        if len(batch) < chunk:
            return
        before = batch[-1].pk


# --- what a row shows ----------------------------------------------------------------------------


def _int_of(data: Any, key: str) -> int | None:
    value = data.get(key) if isinstance(data, dict) else None
    # bool is an int in Python; a flag is never a key.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _shown(person: Person, *, full: bool) -> PersonShown:
    if person.personal_number:
        number = f"{person.personal_number[:8]}-{person.personal_number[8:]}"
    else:
        number = person.eidas_identifier or ""
    masked = person_masked(person)
    return PersonShown(
        name=person.full_name or _("Namn saknas"),
        masked=masked,
        number=number if full else masked,
    )


def _rows(
    employer: Employer, events: Sequence[AuditEvent], *, full_numbers: bool = False
) -> list[ActivityRow]:
    if not events:
        return []
    person_ids = {pk for event in events if (pk := _int_of(event.data, "person")) is not None}
    membership_ids = {
        pk
        for event in events
        if _int_of(event.data, "person") is None
        and (pk := _int_of(event.data, "membership")) is not None
    }
    # One query for everyone the page is about, and only among the employer's own people: an
    # id in an event's data never shows anyone from elsewhere.
    people: dict[int, Person] = {}
    by_membership: dict[int, Person] = {}
    own: set[int] = set()
    if person_ids or membership_ids or full_numbers:
        actor_ids = {event.actor_id for event in events if event.actor_id is not None}
        wanted = Q(person_id__in=person_ids) | Q(pk__in=membership_ids)
        if full_numbers:
            wanted |= Q(person_id__in=actor_ids)
        for membership in Membership.objects.filter(wanted, employer=employer).select_related(
            "person"
        ):
            people[membership.person_id] = membership.person
            by_membership[membership.pk] = membership.person
            own.add(membership.person_id)
    rows = []
    for event in events:
        subject_id = _int_of(event.data, "person")
        membership_id = _int_of(event.data, "membership")
        subject = people.get(subject_id) if subject_id is not None else None
        if subject is None and subject_id is None and membership_id is not None:
            subject = by_membership.get(membership_id)
        rows.append(
            _row(
                event,
                subject=_shown(subject, full=full_numbers) if subject else None,
                full_actor=full_numbers and event.actor_id in own,
            )
        )
    return rows


def _row(event: AuditEvent, *, subject: PersonShown | None, full_actor: bool) -> ActivityRow:
    outcome = event.outcome or _implied_outcome(event.event_type)
    actor: PersonShown | None = None
    if event.actor_kind == ActorKind.SYSTEM:
        actor_label = _("Portalen")
    elif event.actor_kind == ActorKind.STAFF:
        # The agency's staff act for the agency: the employer sees that the agency acted, and
        # asks the agency (with the request id) if it needs to know more.
        actor_label = _("Myndighetens personal")
    elif event.actor is not None:
        actor = _shown(event.actor, full=full_actor)
        actor_label = actor.name
    else:
        actor_label = _("Okänd")
    eservice = event.data.get("eservice") if isinstance(event.data, dict) else None
    found = registry.get(eservice) if isinstance(eservice, str) else None
    return ActivityRow(
        id=event.pk,
        occurred_at=timezone.localtime(event.occurred_at),
        event_type=event.event_type,
        label=event_label(event.event_type),
        outcome=outcome,
        outcome_label=_outcome_label(outcome),
        actor_kind=event.actor_kind,
        actor=actor,
        actor_label=actor_label,
        subject=subject,
        detail=str(found.name) if found else "",
        request_id=event.request_id,
        ip_address=event.ip_address or "",
    )


def _outcome_label(outcome: str) -> str:
    known = {member.value: member for member in Outcome}
    return str(OUTCOME_LABELS[known[outcome]]) if outcome in known else outcome


def _implied_outcome(code: str) -> str:
    try:
        return outcome_of(EventType(code)).value
    except ValueError:
        return ""
