"""Planned outages and unplanned incidents of the e-services (R15).

Both name the e-services they affect by code; an empty list means every e-service. Neither is ever
deleted: a planned outage that will not happen is cancelled (and stays in the feeds as cancelled),
an incident is closed.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from portal.eservices import registry


class _Notice(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    #: The codes of the affected e-services; empty: all of them.
    eservice_codes = models.JSONField(_("e-tjänster"), default=list, blank=True)
    title_sv = models.CharField(_("rubrik (svenska)"), max_length=200)
    title_en = models.CharField(_("rubrik (engelska)"), max_length=200, blank=True)
    description_sv = models.TextField(_("beskrivning (svenska)"), blank=True)
    description_en = models.TextField(_("beskrivning (engelska)"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def title(self) -> str:
        return self.title_en if get_language() == "en" and self.title_en else self.title_sv

    @property
    def description(self) -> str:
        if get_language() == "en" and self.description_en:
            return self.description_en
        return self.description_sv

    @property
    def all_eservices(self) -> bool:
        return not self.eservice_codes

    def affects(self, code: str) -> bool:
        return self.all_eservices or code in self.eservice_codes

    @property
    def affected_codes(self) -> list[str]:
        """The codes of the affected e-services, every registered one for "all"."""
        if self.all_eservices:
            return [eservice.code for eservice in registry.all_eservices()]
        return list(self.eservice_codes)

    @property
    def eservice_names(self) -> list[str]:
        names = []
        for code in self.affected_codes:
            eservice = registry.get(code)
            names.append(str(eservice.name) if eservice else code)
        return names


class Outage(_Notice):
    """A planned outage: the affected e-services are closed from ``starts_at`` to ``ends_at``."""

    starts_at = models.DateTimeField(_("börjar"))
    ends_at = models.DateTimeField(_("slutar"))
    cancelled_at = models.DateTimeField(_("inställt"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("planerat avbrott")
        verbose_name_plural = _("planerade avbrott")
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["ends_at", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="notices_outage_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return self.title_sv

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None

    def in_progress(self, now: datetime) -> bool:
        return not self.is_cancelled and self.starts_at <= now < self.ends_at

    def overlaps(self, starts_at: datetime, ends_at: datetime, codes: list[str]) -> bool:
        """Whether this outage shares time and at least one e-service with the given window."""
        if self.is_cancelled or not (self.starts_at < ends_at and starts_at < self.ends_at):
            return False
        return self.all_eservices or not codes or bool(set(codes) & set(self.eservice_codes))


class Incident(_Notice):
    """An unplanned incident, from when it was declared until it is closed. It may close the
    affected e-services while it lasts (``closes_eservices``)."""

    started_at = models.DateTimeField(_("började"))
    closed_at = models.DateTimeField(_("avslutad"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closes_eservices = models.BooleanField(_("stänger e-tjänsterna"), default=False)

    class Meta:
        verbose_name = _("driftstörning")
        verbose_name_plural = _("driftstörningar")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return self.title_sv

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class NoticeSubscription(models.Model):
    """An access administrator's wish to be told by e-mail when an e-service their employer uses
    is to be closed for a planned outage, or is disrupted.

    It only gives rise to mail while the person is still an active administrator of the employer
    (decided when a notice is sent, by ``access.can``); ending the subscription deletes it.
    """

    class Language(models.TextChoices):
        SWEDISH = "sv", _("svenska")
        ENGLISH = "en", _("engelska")

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_subscriptions"
    )
    employer = models.ForeignKey(
        "employers.Employer", on_delete=models.CASCADE, related_name="notice_subscriptions"
    )
    #: The language the notices are written in: the one the person used when subscribing.
    language = models.CharField(
        _("språk"), max_length=2, choices=Language.choices, default=Language.SWEDISH
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("prenumeration på driftmeddelanden")
        verbose_name_plural = _("prenumerationer på driftmeddelanden")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "employer"], name="notices_one_subscription_per_employer"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.employer_id}"
