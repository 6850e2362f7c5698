"""Planning and cancelling outages, declaring and closing incidents: each audited in its own
transaction (R15), with the e-mails to the subscribing administrators (``notices.subscriptions``).
A refused change stores nothing, sends nothing and says why, in Swedish."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import audit
from portal.audit.constants import EventType
from portal.common.errors import ApplicationError, ConflictError
from portal.eservices import registry
from portal.identity.models import Person
from portal.notices.models import Incident, Outage
from portal.notices.selectors import forget_banner
from portal.notices.subscriptions import incident_notify, outage_notify

#: The longest planned outage that can be entered; longer work is planned as several outages.
MAX_OUTAGE = timedelta(days=7)
#: An arbitrary, fixed key for PostgreSQL's advisory lock that serialises the overlap check.
_OUTAGE_LOCK_KEY = 815_015


class InvalidNotice(ApplicationError):
    """A planned outage or incident that cannot be stored; ``field`` names the form field."""

    status = 422  # type: ignore[assignment]
    code = "invalid-notice"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, extra={"field": field} if field else None)
        self.field = field


def _clean_codes(codes: list[str]) -> list[str]:
    cleaned = sorted(set(codes))
    unknown = [code for code in cleaned if registry.get(code) is None]
    if unknown:
        raise InvalidNotice(
            _("Okänd e-tjänst: %(codes)s.") % {"codes": ", ".join(unknown)},
            field="eservice_codes",
        )
    return cleaned


def _require_title(title_sv: str) -> str:
    title = title_sv.strip()
    if not title:
        raise InvalidNotice(_("Ange en rubrik på svenska."), field="title_sv")
    return title


def _lock_outages() -> None:
    """Two staff members planning at the same moment must not both pass the overlap check."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_OUTAGE_LOCK_KEY])


def _check_window(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if ends_at <= starts_at:
        raise InvalidNotice(_("Avbrottet måste sluta efter att det har börjat."), field="ends_at")
    if starts_at < now:
        raise InvalidNotice(
            _("Avbrottet kan inte börja i det förflutna. Ange en tid framåt."), field="starts_at"
        )
    if ends_at - starts_at > MAX_OUTAGE:
        raise InvalidNotice(
            _("Ett planerat avbrott får vara högst %(days)s dygn. Dela upp längre arbeten.")
            % {"days": MAX_OUTAGE.days},
            field="ends_at",
        )


def overlapping_outage(starts_at: datetime, ends_at: datetime, codes: list[str]) -> Outage | None:
    """A planned (not cancelled) outage that shares time and an e-service with the window."""
    candidates = Outage.objects.filter(
        cancelled_at__isnull=True, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    for outage in candidates:
        if outage.overlaps(starts_at, ends_at, codes):
            return outage
    return None


def outage_plan(
    *,
    eservice_codes: list[str],
    starts_at: datetime,
    ends_at: datetime,
    title_sv: str,
    title_en: str = "",
    description_sv: str = "",
    description_en: str = "",
    actor: Person,
    request: HttpRequest | None = None,
) -> Outage:
    """Plan an outage of the given e-services (none: all of them)."""
    title = _require_title(title_sv)
    codes = _clean_codes(eservice_codes)
    _check_window(starts_at, ends_at, timezone.now())
    with transaction.atomic():
        _lock_outages()
        clash = overlapping_outage(starts_at, ends_at, codes)
        if clash is not None:
            raise InvalidNotice(
                _(
                    "Avbrottet överlappar ett annat planerat avbrott för samma e-tjänst: "
                    "”%(title)s” %(start)s–%(end)s."
                )
                % {
                    "title": clash.title_sv,
                    "start": timezone.localtime(clash.starts_at).strftime("%Y-%m-%d %H:%M"),
                    "end": timezone.localtime(clash.ends_at).strftime("%Y-%m-%d %H:%M"),
                },
                field="starts_at",
            )
        outage = Outage.objects.create(
            eservice_codes=codes,
            starts_at=starts_at,
            ends_at=ends_at,
            title_sv=title,
            title_en=title_en.strip(),
            description_sv=description_sv.strip(),
            description_en=description_en.strip(),
            created_by=actor,
        )
        audit.record(
            EventType.OUTAGE_PLANNED,
            actor=actor,
            request=request,
            object_type="outage",
            object_id=str(outage.public_id),
            data=_outage_data(outage),
        )
        outage_notify(outage)
        _changed()
    return outage


def outage_cancel(*, outage: Outage, actor: Person, request: HttpRequest | None = None) -> Outage:
    """Cancel a planned outage (one in progress ends at once and the e-services open again)."""
    with transaction.atomic():
        locked = Outage.objects.select_for_update().get(pk=outage.pk)
        if locked.is_cancelled:
            raise ConflictError(_("Avbrottet är redan inställt."))
        now = timezone.now()
        if locked.ends_at <= now:
            raise ConflictError(_("Avbrottet är redan över och kan inte ställas in."))
        locked.cancelled_at = now
        locked.cancelled_by = actor
        locked.save(update_fields=["cancelled_at", "cancelled_by"])
        audit.record(
            EventType.OUTAGE_CANCELLED,
            actor=actor,
            request=request,
            object_type="outage",
            object_id=str(locked.public_id),
            data={**_outage_data(locked), "in_progress": locked.starts_at <= now},
        )
        outage_notify(locked, cancelled=True)
        _changed()
    return locked


def incident_declare(
    *,
    eservice_codes: list[str],
    title_sv: str,
    title_en: str = "",
    description_sv: str = "",
    description_en: str = "",
    closes_eservices: bool = False,
    started_at: datetime | None = None,
    actor: Person,
    request: HttpRequest | None = None,
) -> Incident:
    """Declare an unplanned incident, from ``started_at`` (default: now)."""
    title = _require_title(title_sv)
    codes = _clean_codes(eservice_codes)
    now = timezone.now()
    if started_at is not None and started_at > now:
        raise InvalidNotice(
            _("En driftstörning kan inte börja i framtiden. Planera ett avbrott i stället."),
            field="started_at",
        )
    with transaction.atomic():
        incident = Incident.objects.create(
            eservice_codes=codes,
            title_sv=title,
            title_en=title_en.strip(),
            description_sv=description_sv.strip(),
            description_en=description_en.strip(),
            closes_eservices=closes_eservices,
            started_at=started_at or now,
            created_by=actor,
        )
        audit.record(
            EventType.INCIDENT_DECLARED,
            actor=actor,
            request=request,
            object_type="incident",
            object_id=str(incident.public_id),
            data={
                "title": incident.title_sv,
                "eservices": codes or "all",
                "closes_eservices": closes_eservices,
                "started_at": incident.started_at.isoformat(),
            },
        )
        incident_notify(incident)
        _changed()
    return incident


def incident_close(
    *, incident: Incident, actor: Person, request: HttpRequest | None = None
) -> Incident:
    """Close an incident: it is over (and e-services it closed open again)."""
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if not locked.is_open:
            raise ConflictError(_("Driftstörningen är redan avslutad."))
        locked.closed_at = timezone.now()
        locked.closed_by = actor
        locked.save(update_fields=["closed_at", "closed_by"])
        audit.record(
            EventType.INCIDENT_CLOSED,
            actor=actor,
            request=request,
            object_type="incident",
            object_id=str(locked.public_id),
            data={"title": locked.title_sv, "closed_at": locked.closed_at.isoformat()},
        )
        incident_notify(locked, closed=True)
        _changed()
    return locked


def _changed() -> None:
    """The banner shows the change at once, in this process and (with Redis) in every other."""
    forget_banner()
    transaction.on_commit(forget_banner)


def _outage_data(outage: Outage) -> dict[str, Any]:
    return {
        "title": outage.title_sv,
        "eservices": outage.eservice_codes or "all",
        "starts_at": outage.starts_at.isoformat(),
        "ends_at": outage.ends_at.isoformat(),
    }
