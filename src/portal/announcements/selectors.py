"""Reads of announcements: what a page shows to whom, the public archive and the staff's lists.

Who is in an announcement's audience follows from the e-services the reader can use, and that
is asked of ``access.selectors.eservices_for`` (the one place that knows grants), never of the
access models themselves. The announcements in force at any moment are few, so the audience
rule is applied in Python on one query's rows, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from portal.access.selectors import UsableEService, eservices_for
from portal.announcements.constants import Audience, Severity
from portal.announcements.models import SHOWN_CACHE_KEY, Announcement
from portal.employers.models import Employer
from portal.identity.models import Person

#: How long the announcements in force are kept in the cache (see ``in_force``).
SHOWN_CACHE_SECONDS = 60
#: How many announcements the public archive and feed list at most.
ARCHIVE_LIMIT = 100
#: How many ended and withdrawn announcements the back-office lists.
STAFF_LIST_LIMIT = 50


def _ordered(announcements: Iterable[Announcement]) -> list[Announcement]:
    """Important ones first, then the newest first."""
    return sorted(
        announcements,
        key=lambda a: (a.severity != Severity.WARNING, -a.starts_at.timestamp(), -a.pk),
    )


def shown_to_everyone(now: datetime | None = None) -> list[Announcement]:
    """The announcements in force for everyone (the public start page)."""
    return _ordered(a for a in in_force(now) if a.for_everyone)


def in_force(now: datetime | None = None) -> list[Announcement]:
    """The announcements shown at ``now`` (``AnnouncementQuerySet.shown``). Asked on every
    employer's page, so kept in the cache with those that start before it expires, and compared
    with the moment here: an announcement appears and goes on the second whatever the cache holds,
    and a new or changed one drops it (``models.forget_shown``). A moment given is answered from
    the database."""
    if now is not None:
        return list(Announcement.objects.shown(now))
    moment = timezone.now()
    candidates: list[Announcement] | None = cache.get(SHOWN_CACHE_KEY)
    if candidates is None:
        horizon = moment + timedelta(seconds=SHOWN_CACHE_SECONDS)
        candidates = list(
            Announcement.objects.standing()
            .filter(withdrawn_at__isnull=True, starts_at__lte=horizon)
            .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=moment))
        )
        cache.set(SHOWN_CACHE_KEY, candidates, SHOWN_CACHE_SECONDS)
    return [
        a for a in candidates if a.starts_at <= moment and (a.ends_at is None or a.ends_at > moment)
    ]


def shown_to_users_of(codes: Iterable[str], now: datetime | None = None) -> list[Announcement]:
    """The announcements in force for everyone and for the users of any of ``codes``."""
    wanted = frozenset(codes)
    return _ordered(a for a in in_force(now) if a.reaches(wanted))


def shown_at_employer(
    person: Person,
    employer: Employer,
    *,
    usable: Iterable[UsableEService] | None = None,
    now: datetime | None = None,
) -> list[Announcement]:
    """What ``person`` sees on ``employer``'s page: the announcements for everyone, and those for
    the e-services the person has a grant in force for there. ``usable`` is
    ``access.selectors.eservices_for(person, employer)`` when the caller has it already."""
    services = eservices_for(person, employer) if usable is None else usable
    return shown_to_users_of((eservice.code for eservice in services), now)


def shown_to_person(
    person: Person, employers: Iterable[Employer], now: datetime | None = None
) -> list[Announcement]:
    """What ``person`` sees on their overview: for everyone, and for the e-services they can use
    at any of ``employers`` (the employers they act for)."""
    codes: set[str] = set()
    for employer in employers:
        codes.update(eservice.code for eservice in eservices_for(person, employer))
    return shown_to_users_of(codes, now)


def archive(now: datetime | None = None) -> tuple[list[Announcement], list[Announcement]]:
    """The public archive: those in force now, and those that have ended (newest first).
    Withdrawn and not yet started announcements are not listed; earlier versions neither."""
    moment = now or timezone.now()
    current = _ordered(Announcement.objects.shown(moment))
    past = list(Announcement.objects.past(moment).order_by("-ends_at", "-pk")[:ARCHIVE_LIMIT])
    return current, past


def feed_entries(now: datetime | None = None) -> list[Announcement]:
    """The announcements for everyone that have started (in force or ended), newest first."""
    moment = now or timezone.now()
    return list(
        Announcement.objects.standing()
        .filter(audience=Audience.EVERYONE, withdrawn_at__isnull=True, starts_at__lte=moment)
        .order_by("-starts_at", "-pk")[:ARCHIVE_LIMIT]
    )


@dataclass(frozen=True)
class StaffLists:
    current: list[Announcement]
    upcoming: list[Announcement]
    past: list[Announcement]
    withdrawn: list[Announcement]


def staff_lists(now: datetime | None = None) -> StaffLists:
    """Every announcement's standing version, in the four lists of the back-office: all current
    and upcoming ones, the latest ``STAFF_LIST_LIMIT`` ended and withdrawn ones (three queries)."""
    moment = now or timezone.now()
    rows = Announcement.objects.standing().select_related("created_by", "withdrawn_by")
    open_rows = rows.filter(withdrawn_at__isnull=True).filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=moment)
    )
    in_order = list(open_rows.order_by("starts_at", "pk"))
    return StaffLists(
        current=_ordered(a for a in in_order if a.starts_at <= moment),
        upcoming=[a for a in in_order if a.starts_at > moment],
        past=list(
            Announcement.objects.past(moment)
            .select_related("created_by")
            .order_by("-ends_at", "-pk")[:STAFF_LIST_LIMIT]
        ),
        withdrawn=list(
            rows.filter(withdrawn_at__isnull=False).order_by("-withdrawn_at", "-pk")[
                :STAFF_LIST_LIMIT
            ]
        ),
    )


def standing(public_id: str) -> Announcement | None:
    return Announcement.objects.standing().filter(public_id=public_id).first()


def by_public_id(public_id: str) -> Announcement | None:
    return Announcement.objects.select_related("created_by").filter(public_id=public_id).first()


def history(announcement: Announcement) -> list[Announcement]:
    """Every version of the announcement, the newest first."""
    return list(
        Announcement.objects.filter(series=announcement.series)
        .select_related("created_by", "withdrawn_by")
        .order_by("-version")
    )
