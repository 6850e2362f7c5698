"""Announcements and instructions from the agency to the employers' people (R5).

An announcement is never deleted nor edited in place: each row is one immutable version, and a
revision is a new row that ``replaces`` the one before it (the two share a ``series``). The row
that nothing replaces is the announcement as it stands; the rows behind it are its history. A
withdrawal only stamps the standing row (``withdrawn_at``/``withdrawn_by``): it stays in the
history, it is just no longer shown.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from portal.announcements.constants import TITLE_MAX_LENGTH, Audience, Kind, Severity
from portal.eservices import registry

#: The announcements in force and about to start, kept in the cache for the pages that show them
#: (``announcements.selectors.in_force``); every new or changed row drops it.
SHOWN_CACHE_KEY = "announcements:shown"


def forget_shown() -> None:
    """Drop the cached announcements (at a change, and again when the change is committed)."""
    cache.delete(SHOWN_CACHE_KEY)


class State(StrEnum):
    """Where an announcement stands at a given moment (for the staff list and the archive)."""

    CURRENT = "current"
    UPCOMING = "upcoming"
    PAST = "past"
    WITHDRAWN = "withdrawn"


def english() -> bool:
    """Whether the page is being rendered in English (anything else falls back to Swedish)."""
    return (get_language() or "sv").split("-")[0] == "en"


class AnnouncementQuerySet(models.QuerySet["Announcement"]):
    def standing(self) -> AnnouncementQuerySet:
        """The latest version of each announcement (the rows no revision replaces)."""
        return self.filter(replaced_by__isnull=True)

    def shown(self, now: datetime | None = None) -> AnnouncementQuerySet:
        """Announcements to show at ``now``: standing, started, not ended, not withdrawn."""
        moment = now or timezone.now()
        return (
            self.standing()
            .filter(withdrawn_at__isnull=True, starts_at__lte=moment)
            .filter(models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=moment))
        )

    def upcoming(self, now: datetime | None = None) -> AnnouncementQuerySet:
        moment = now or timezone.now()
        return self.standing().filter(withdrawn_at__isnull=True, starts_at__gt=moment)

    def past(self, now: datetime | None = None) -> AnnouncementQuerySet:
        moment = now or timezone.now()
        return self.standing().filter(withdrawn_at__isnull=True, ends_at__lte=moment)

    def withdrawn(self) -> AnnouncementQuerySet:
        return self.standing().filter(withdrawn_at__isnull=False)


class Announcement(models.Model):
    """One version of an announcement or instruction, in Swedish and (optionally) English, for
    everyone or for the users of chosen e-services, shown from ``starts_at`` until ``ends_at``
    (or until further notice). Rows are written once; see the module docstring."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    #: Shared by every version of the same announcement.
    series = models.UUIDField(default=uuid.uuid4, db_index=True, editable=False)
    version = models.PositiveIntegerField(default=1)
    replaces = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
    )
    kind = models.CharField(
        _("typ"), max_length=16, choices=Kind.choices, default=Kind.ANNOUNCEMENT
    )
    severity = models.CharField(
        _("allvarlighet"), max_length=16, choices=Severity.choices, default=Severity.INFO
    )
    title_sv = models.CharField(_("rubrik (svenska)"), max_length=TITLE_MAX_LENGTH)
    text_sv = models.TextField(_("text (svenska)"))
    title_en = models.CharField(_("rubrik (engelska)"), max_length=TITLE_MAX_LENGTH, blank=True)
    text_en = models.TextField(_("text (engelska)"), blank=True)
    audience = models.CharField(
        _("mottagare"), max_length=16, choices=Audience.choices, default=Audience.EVERYONE
    )
    #: The e-service codes (``eservices.registry``) whose users see it, when aimed at some.
    eservices = models.JSONField(_("e-tjänster"), default=list, blank=True)
    starts_at = models.DateTimeField(_("visas från"))
    ends_at = models.DateTimeField(_("visas till"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = AnnouncementQuerySet.as_manager()

    class Meta:
        verbose_name = _("meddelande")
        verbose_name_plural = _("meddelanden")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["series", "version"], name="announcement_version_once"),
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True)
                | models.Q(ends_at__gt=models.F("starts_at")),
                name="announcement_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title_sv} (v{self.version})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        forget_shown()
        transaction.on_commit(forget_shown)

    # --- the text in the reader's language -------------------------------------------------

    @property
    def has_english(self) -> bool:
        return bool(self.title_en and self.text_en)

    @property
    def in_swedish_only(self) -> bool:
        """Shown in Swedish to a reader who asked for English (the page says so)."""
        return english() and not self.has_english

    @property
    def language(self) -> str:
        """The language of the text as shown (for the ``lang`` attribute)."""
        return "en" if english() and self.has_english else "sv"

    @property
    def title(self) -> str:
        return self.title_en if self.language == "en" else self.title_sv

    @property
    def text(self) -> str:
        return self.text_en if self.language == "en" else self.text_sv

    @property
    def paragraphs(self) -> list[str]:
        return [part.strip() for part in self.text.split("\n\n") if part.strip()]

    # --- who sees it and when ---------------------------------------------------------------

    @property
    def for_everyone(self) -> bool:
        return self.audience == Audience.EVERYONE

    @property
    def eservice_names(self) -> list[str | Promise]:
        names: list[str | Promise] = []
        for code in self.eservices:
            eservice = registry.get(code)
            names.append(eservice.name if eservice else code)
        return names

    def reaches(self, codes: set[str] | frozenset[str]) -> bool:
        """Whether a reader who can use the e-services ``codes`` is in the audience."""
        return self.for_everyone or bool(codes & set(self.eservices))

    def state(self, now: datetime | None = None) -> State:
        moment = now or timezone.now()
        if self.withdrawn_at is not None:
            return State.WITHDRAWN
        if self.starts_at > moment:
            return State.UPCOMING
        if self.ends_at is not None and self.ends_at <= moment:
            return State.PAST
        return State.CURRENT
