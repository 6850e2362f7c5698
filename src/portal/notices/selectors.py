"""Reads for the service status: each e-service's status now, the planned outages and the
incidents (R15). Everything here is public: none of it names a person."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language

from portal.eservices import registry
from portal.eservices.registry import EService, EServiceStatus, all_eservices
from portal.notices.models import Incident, Outage

#: How long closed incidents stay listed on the status page and in the API.
RECENT_INCIDENTS = timedelta(days=14)
#: How far back the feeds go: outages and incidents that ended longer ago are left out.
FEED_HISTORY = timedelta(days=30)
#: Retry-After for an e-service closed by an incident, which has no known end.
INCIDENT_RETRY_SECONDS = 300
#: The banner is read from the cache (shared by the processes when Redis is configured), so that
#: pages do not query for it; a change forgets it at once, and it is read again at least this often.
BANNER_CACHE_KEY = "notices:banner:v1"
BANNER_CACHE_SECONDS = 60

logger = structlog.get_logger(__name__)


class Disruption:
    """Why an e-service is not working as usual right now."""

    PLANNED_OUTAGE = "planned_outage"
    INCIDENT = "incident"


@dataclass(frozen=True)
class PlannedOutage:
    starts_at: datetime
    ends_at: datetime
    title: str
    eservice_codes: tuple[str, ...]
    public_id: str = ""
    title_sv: str = ""
    title_en: str = ""
    description: str = ""
    all_eservices: bool = False
    in_progress: bool = False
    eservice_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class IncidentNotice:
    public_id: str
    title: str
    title_sv: str
    title_en: str
    description: str
    eservice_codes: tuple[str, ...]
    all_eservices: bool
    started_at: datetime
    closed_at: datetime | None
    closes_eservices: bool
    eservice_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class EServiceState:
    """One e-service's status now: the registry's status, made ``maintenance`` by a planned outage
    in progress and ``closed`` by an incident that closes it."""

    eservice: EService
    status: str
    disruption: str | None = None
    until: datetime | None = None
    title: str = ""

    @property
    def code(self) -> str:
        return self.eservice.code

    @property
    def name(self) -> str:
        return str(self.eservice.name)


@dataclass(frozen=True)
class ServiceStatus:
    eservices: list[EService]
    planned_outages: list[PlannedOutage]
    states: list[EServiceState] = field(default_factory=list)
    incidents: list[IncidentNotice] = field(default_factory=list)
    recent_incidents: list[IncidentNotice] = field(default_factory=list)
    #: The outages and incidents could not be read (the database does not answer).
    notices_unavailable: bool = False

    @property
    def all_open(self) -> bool:
        if self.states:
            return all(
                state.status == EServiceStatus.OPEN and state.disruption is None
                for state in self.states
            )
        return all(eservice.status == EServiceStatus.OPEN for eservice in self.eservices)


@dataclass(frozen=True)
class Closure:
    """An e-service closed right now, and until when (None: not known)."""

    title: str
    until: datetime | None

    def retry_after(self, now: datetime) -> int:
        if self.until is None:
            return INCIDENT_RETRY_SECONDS
        return max(1, math.ceil((self.until - now).total_seconds()))


def planned_outage(outage: Outage, now: datetime) -> PlannedOutage:
    return PlannedOutage(
        starts_at=outage.starts_at,
        ends_at=outage.ends_at,
        title=outage.title,
        eservice_codes=tuple(outage.affected_codes),
        public_id=str(outage.public_id),
        title_sv=outage.title_sv,
        title_en=outage.title_en,
        description=outage.description,
        all_eservices=outage.all_eservices,
        in_progress=outage.in_progress(now),
        eservice_names=tuple(outage.eservice_names),
    )


def incident_notice(incident: Incident) -> IncidentNotice:
    return IncidentNotice(
        public_id=str(incident.public_id),
        title=incident.title,
        title_sv=incident.title_sv,
        title_en=incident.title_en,
        description=incident.description,
        eservice_codes=tuple(incident.affected_codes),
        all_eservices=incident.all_eservices,
        started_at=incident.started_at,
        closed_at=incident.closed_at,
        closes_eservices=incident.closes_eservices,
        eservice_names=tuple(incident.eservice_names),
    )


def upcoming_outages(now: datetime | None = None) -> list[Outage]:
    """Planned outages in progress or still to come, soonest first."""
    now = now or timezone.now()
    return list(Outage.objects.filter(cancelled_at__isnull=True, ends_at__gt=now))


def open_incidents() -> list[Incident]:
    return list(Incident.objects.filter(closed_at__isnull=True))


def recent_closed_incidents(now: datetime | None = None) -> list[Incident]:
    now = now or timezone.now()
    return list(Incident.objects.filter(closed_at__gte=now - RECENT_INCIDENTS))


@dataclass(frozen=True)
class BannerItem:
    """A planned outage or an open incident as the banner shows it (kept in the cache, so plain
    data; the texts are chosen in the language of the page when it is shown)."""

    kind: str
    title_sv: str
    title_en: str
    eservice_codes: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime | None = None
    #: An incident that closes the e-services it affects (a planned outage always does).
    closes_eservices: bool = False

    @property
    def title(self) -> str:
        return self.title_en if get_language() == "en" and self.title_en else self.title_sv

    @property
    def all_eservices(self) -> bool:
        return not self.eservice_codes

    def affects(self, code: str) -> bool:
        return self.all_eservices or code in self.eservice_codes

    @property
    def eservice_names(self) -> list[str]:
        names = []
        for code in self.eservice_codes:
            eservice = registry.get(code)
            names.append(str(eservice.name) if eservice else code)
        return names

    @property
    def is_outage(self) -> bool:
        return self.kind == Disruption.PLANNED_OUTAGE


def banner(now: datetime | None = None) -> list[BannerItem]:
    """What the banner on every page shows now: planned outages from ``OUTAGE_BANNER_DAYS`` days
    before they start until they end, and open incidents. Cached; see ``forget_banner``."""
    now = now or timezone.now()
    shown_from = now + timedelta(days=settings.OUTAGE_BANNER_DAYS)
    return [
        item
        for item in _disruptions(now)
        if not item.is_outage
        or (item.starts_at <= shown_from and item.ends_at is not None and item.ends_at > now)
    ]


def _disruptions(now: datetime) -> list[BannerItem]:
    """The planned outages that end after ``now`` and start within the banner's days (and the
    cache's lifetime), and the open incidents: from the cache, read again when it has expired or
    a change has dropped it (``forget_banner``). Whoever uses them compares the times with the
    moment they ask about, so an outage begins and ends on the second whatever the cache holds."""
    items: list[BannerItem] | None = cache.get(BANNER_CACHE_KEY)
    if items is None:
        # Cached with everything that may enter the window before the cache expires.
        horizon = now + timedelta(days=settings.OUTAGE_BANNER_DAYS, seconds=BANNER_CACHE_SECONDS)
        items = [
            BannerItem(
                kind=Disruption.PLANNED_OUTAGE,
                title_sv=outage.title_sv,
                title_en=outage.title_en,
                eservice_codes=tuple(outage.eservice_codes),
                starts_at=outage.starts_at,
                ends_at=outage.ends_at,
            )
            for outage in Outage.objects.filter(
                cancelled_at__isnull=True, ends_at__gt=now, starts_at__lte=horizon
            )
        ] + [
            BannerItem(
                kind=Disruption.INCIDENT,
                title_sv=incident.title_sv,
                title_en=incident.title_en,
                eservice_codes=tuple(incident.eservice_codes),
                starts_at=incident.started_at,
                closes_eservices=incident.closes_eservices,
            )
            for incident in open_incidents()
        ]
        cache.set(BANNER_CACHE_KEY, items, BANNER_CACHE_SECONDS)
    return items


def forget_banner() -> None:
    """Drop the cached banner (after a change, and again when the change is committed)."""
    cache.delete(BANNER_CACHE_KEY)


def closure(code: str, now: datetime | None = None) -> Closure | None:
    """Whether the e-service ``code`` is closed right now by a planned outage in progress, or by an
    open incident that closes e-services. Asked on every request to an e-service, so answered
    from the banner's cache (``_disruptions``): a change made through ``notices.services`` drops
    it at once (in every process when the cache is Redis, as in production)."""
    now = now or timezone.now()
    items = _disruptions(now)
    for item in items:
        if (
            item.is_outage
            and item.starts_at <= now
            and item.ends_at is not None
            and item.ends_at > now
            and item.affects(code)
        ):
            return Closure(title=item.title, until=item.ends_at)
    for item in items:
        if (
            not item.is_outage
            and item.closes_eservices
            and item.starts_at <= now
            and item.affects(code)
        ):
            return Closure(title=item.title, until=None)
    return None


def _state(
    eservice: EService, outages: list[Outage], incidents: list[Incident], now: datetime
) -> EServiceState:
    for outage in outages:
        if outage.in_progress(now) and outage.affects(eservice.code):
            return EServiceState(
                eservice,
                status=EServiceStatus.MAINTENANCE,
                disruption=Disruption.PLANNED_OUTAGE,
                until=outage.ends_at,
                title=outage.title,
            )
    for incident in incidents:
        if incident.affects(eservice.code):
            return EServiceState(
                eservice,
                status=EServiceStatus.CLOSED if incident.closes_eservices else eservice.status,
                disruption=Disruption.INCIDENT,
                title=incident.title,
            )
    return EServiceState(eservice, status=eservice.status)


def service_status(now: datetime | None = None) -> ServiceStatus:
    """The status now. Without a database it still answers, with the registry's statuses only."""
    now = now or timezone.now()
    eservices = all_eservices()
    try:
        outages = upcoming_outages(now)
        incidents = open_incidents()
        recent = recent_closed_incidents(now)
    except DatabaseError:
        logger.warning("service_status_without_notices")
        return ServiceStatus(
            eservices=eservices,
            planned_outages=[],
            states=[EServiceState(eservice, status=eservice.status) for eservice in eservices],
            notices_unavailable=True,
        )
    return ServiceStatus(
        eservices=eservices,
        planned_outages=[planned_outage(outage, now) for outage in outages],
        states=[_state(eservice, outages, incidents, now) for eservice in eservices],
        incidents=[incident_notice(incident) for incident in incidents],
        recent_incidents=[incident_notice(incident) for incident in recent],
    )


def feed_outages(now: datetime | None = None) -> list[Outage]:
    """Outages for the feeds: those not long over, cancelled ones included."""
    now = now or timezone.now()
    return list(Outage.objects.filter(ends_at__gte=now - FEED_HISTORY).order_by("starts_at"))


def feed_incidents(now: datetime | None = None) -> list[Incident]:
    now = now or timezone.now()
    return list(
        Incident.objects.filter(
            Q(closed_at__isnull=True) | Q(closed_at__gte=now - FEED_HISTORY)
        ).order_by("-started_at")
    )
