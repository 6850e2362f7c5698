"""Publishing, revising and withdrawing announcements (R5). Each write records its audit event in
the same transaction; nothing is ever deleted (see ``announcements.models``)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import audit
from portal.announcements.constants import (
    ESERVICES_MAX,
    TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Audience,
    Kind,
    Severity,
)
from portal.announcements.models import Announcement
from portal.audit.constants import EventType
from portal.common.errors import ApplicationError, ConflictError
from portal.eservices import registry
from portal.identity.models import Person

OBJECT_TYPE = "announcement"


class AnnouncementInvalid(ApplicationError):
    """The content of an announcement breaks a rule; ``errors`` names the fields and why."""

    code = "announcement-invalid"

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(_("Meddelandet har fel och har inte sparats."), extra={"errors": errors})
        self.errors = errors


@dataclass(frozen=True)
class AnnouncementContent:
    """What a staff member writes: the texts, who it is for and when it is shown."""

    title_sv: str
    text_sv: str
    title_en: str = ""
    text_en: str = ""
    kind: str = Kind.ANNOUNCEMENT
    severity: str = Severity.INFO
    audience: str = Audience.EVERYONE
    eservices: tuple[str, ...] = field(default_factory=tuple)
    #: None: from now.
    starts_at: datetime | None = None
    #: None: until further notice.
    ends_at: datetime | None = None

    @classmethod
    def of(cls, announcement: Announcement) -> AnnouncementContent:
        return cls(
            title_sv=announcement.title_sv,
            text_sv=announcement.text_sv,
            title_en=announcement.title_en,
            text_en=announcement.text_en,
            kind=announcement.kind,
            severity=announcement.severity,
            audience=announcement.audience,
            eservices=tuple(announcement.eservices),
            starts_at=announcement.starts_at,
            ends_at=announcement.ends_at,
        )


def _text(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


Errors = dict[str, list[str]]


def _refuse(errors: Errors, name: str, message: str) -> None:
    errors.setdefault(name, []).append(message)


def _check_texts(content: AnnouncementContent, errors: Errors) -> None:
    if not content.title_sv:
        _refuse(
            errors, "title_sv", _("Skriv en rubrik på svenska. Den svenska texten krävs alltid.")
        )
    if not content.text_sv:
        _refuse(errors, "text_sv", _("Skriv texten på svenska. Den svenska texten krävs alltid."))
    for name, limit, message in (
        (
            "title_sv",
            TITLE_MAX_LENGTH,
            _("Rubriken får vara högst %(max)s tecken lång, nu är den %(length)s."),
        ),
        (
            "title_en",
            TITLE_MAX_LENGTH,
            _("Rubriken får vara högst %(max)s tecken lång, nu är den %(length)s."),
        ),
        (
            "text_sv",
            TEXT_MAX_LENGTH,
            _("Texten får vara högst %(max)s tecken lång, nu är den %(length)s."),
        ),
        (
            "text_en",
            TEXT_MAX_LENGTH,
            _("Texten får vara högst %(max)s tecken lång, nu är den %(length)s."),
        ),
    ):
        length = len(getattr(content, name))
        if length > limit:
            _refuse(errors, name, message % {"max": limit, "length": length})
    if content.title_en and not content.text_en:
        _refuse(
            errors,
            "text_en",
            _("Skriv texten på engelska också, eller ta bort den engelska rubriken."),
        )
    if content.text_en and not content.title_en:
        _refuse(
            errors,
            "title_en",
            _("Skriv rubriken på engelska också, eller ta bort den engelska texten."),
        )


def _check_choices(content: AnnouncementContent, errors: Errors) -> None:
    if content.kind not in Kind.values:
        _refuse(errors, "kind", _("Välj om det är ett meddelande eller en instruktion."))
    if content.severity not in Severity.values:
        _refuse(errors, "severity", _("Välj om meddelandet är information eller viktigt."))
    if content.audience not in Audience.values:
        _refuse(errors, "audience", _("Välj vem meddelandet är till."))
    elif content.audience == Audience.ESERVICES:
        unknown = [code for code in content.eservices if registry.get(code) is None]
        if unknown:
            _refuse(
                errors,
                "eservices",
                _("Det finns ingen e-tjänst med koden %(codes)s.")
                % {"codes": ", ".join(sorted(unknown))},
            )
        elif not content.eservices:
            _refuse(
                errors, "eservices", _("Välj minst en e-tjänst vars användare ska se meddelandet.")
            )
        elif len(content.eservices) > ESERVICES_MAX:
            _refuse(
                errors, "eservices", _("Välj högst %(max)s e-tjänster.") % {"max": ESERVICES_MAX}
            )


def _check_window(content: AnnouncementContent, errors: Errors, moment: datetime) -> None:
    if content.ends_at is None or content.starts_at is None:
        return
    if content.ends_at <= content.starts_at:
        _refuse(errors, "ends_at", _("Slutet måste ligga efter starten."))
    elif content.ends_at <= moment:
        _refuse(
            errors, "ends_at", _("Slutet har redan passerat, så meddelandet skulle aldrig visas.")
        )


def announcement_validate(
    content: AnnouncementContent, *, now: datetime | None = None
) -> AnnouncementContent:
    """The content cleaned (whitespace, line ends, start time, e-service codes), or
    ``AnnouncementInvalid`` with every rule it breaks."""
    moment = now or timezone.now()
    cleaned = replace(
        content,
        title_sv=_text(content.title_sv),
        text_sv=_text(content.text_sv),
        title_en=_text(content.title_en),
        text_en=_text(content.text_en),
        eservices=()
        if content.audience == Audience.EVERYONE
        else tuple(dict.fromkeys(code.strip() for code in content.eservices if code.strip())),
        starts_at=content.starts_at or moment,
    )
    errors: Errors = {}
    _check_texts(cleaned, errors)
    _check_choices(cleaned, errors)
    _check_window(cleaned, errors, moment)
    if errors:
        raise AnnouncementInvalid(errors)
    return cleaned


def _event_data(announcement: Announcement) -> dict[str, Any]:
    return {
        "version": announcement.version,
        "public_id": str(announcement.public_id),
        "title_sv": announcement.title_sv,
        "kind": announcement.kind,
        "severity": announcement.severity,
        "audience": announcement.audience,
        "eservices": list(announcement.eservices),
        "starts_at": announcement.starts_at.isoformat(),
        "ends_at": announcement.ends_at.isoformat() if announcement.ends_at else None,
        "english": announcement.has_english,
    }


def _fields(content: AnnouncementContent) -> dict[str, Any]:
    return {
        "title_sv": content.title_sv,
        "text_sv": content.text_sv,
        "title_en": content.title_en,
        "text_en": content.text_en,
        "kind": content.kind,
        "severity": content.severity,
        "audience": content.audience,
        "eservices": list(content.eservices),
        "starts_at": content.starts_at,
        "ends_at": content.ends_at,
    }


def announcement_publish(
    *, content: AnnouncementContent, actor: Person, request: HttpRequest | None = None
) -> Announcement:
    """Publish a new announcement (its first version)."""
    cleaned = announcement_validate(content)
    with transaction.atomic():
        announcement = Announcement.objects.create(**_fields(cleaned), created_by=actor)
        audit.record(
            EventType.ANNOUNCEMENT_PUBLISHED,
            actor=actor,
            request=request,
            object_type=OBJECT_TYPE,
            object_id=str(announcement.series),
            data=_event_data(announcement),
        )
    return announcement


def _lock_standing(announcement: Announcement) -> Announcement:
    locked = Announcement.objects.select_for_update().get(pk=announcement.pk)
    if Announcement.objects.filter(replaces=locked).exists():
        raise ConflictError(
            _("Meddelandet har redan ändrats av någon annan. Utgå från den senaste versionen."),
            code="announcement-replaced",
        )
    return locked


def announcement_revise(
    *,
    announcement: Announcement,
    content: AnnouncementContent,
    actor: Person,
    request: HttpRequest | None = None,
) -> Announcement:
    """Revise an announcement: a new version replaces the standing one, which stays as history."""
    cleaned = announcement_validate(content)
    with transaction.atomic():
        locked = _lock_standing(announcement)
        if locked.withdrawn_at is not None:
            raise ConflictError(
                _("Meddelandet är återkallat och kan inte ändras. Publicera ett nytt i stället."),
                code="announcement-withdrawn",
            )
        revision = Announcement.objects.create(
            **_fields(cleaned),
            series=locked.series,
            version=locked.version + 1,
            replaces=locked,
            created_by=actor,
        )
        audit.record(
            EventType.ANNOUNCEMENT_REVISED,
            actor=actor,
            request=request,
            object_type=OBJECT_TYPE,
            object_id=str(revision.series),
            data={**_event_data(revision), "replaces": str(locked.public_id)},
        )
    return revision


def announcement_withdraw(
    *, announcement: Announcement, actor: Person, request: HttpRequest | None = None
) -> Announcement:
    """Withdraw an announcement: it is no longer shown anywhere, but stays in the history."""
    with transaction.atomic():
        locked = _lock_standing(announcement)
        if locked.withdrawn_at is not None:
            raise ConflictError(
                _("Meddelandet är redan återkallat."), code="announcement-withdrawn"
            )
        locked.withdrawn_at = timezone.now()
        locked.withdrawn_by = actor
        locked.save(update_fields=["withdrawn_at", "withdrawn_by"])
        audit.record(
            EventType.ANNOUNCEMENT_WITHDRAWN,
            actor=actor,
            request=request,
            object_type=OBJECT_TYPE,
            object_id=str(locked.series),
            data={"version": locked.version, "public_id": str(locked.public_id)},
        )
    return locked
