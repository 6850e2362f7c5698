"""Versions of the terms and who accepted which version for which employer (R5, R6, R16)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

#: The newest published version, kept in the cache for the banner every administrator's page
#: asks about (``terms.services.latest_published``); every saved or deleted version drops it.
LATEST_CACHE_KEY = "terms:latest-published"


def forget_latest() -> None:
    """Drop the cached newest published version (at a change, and again at its commit)."""
    cache.delete(LATEST_CACHE_KEY)


class TermsVersion(models.Model):
    """One version of the terms, in Swedish and English. Published versions are never edited:
    a change is a new version, with its own effective date."""

    version = models.SlugField(_("version"), max_length=32, unique=True)
    title_sv = models.CharField(_("rubrik (svenska)"), max_length=200)
    title_en = models.CharField(_("rubrik (engelska)"), max_length=200)
    text_sv = models.TextField(_("text (svenska)"))
    text_en = models.TextField(_("text (engelska)"))
    changes_sv = models.TextField(_("ändringar (svenska)"), blank=True)
    changes_en = models.TextField(_("ändringar (engelska)"), blank=True)
    published_at = models.DateTimeField(_("publicerad"), null=True, blank=True)
    effective_from = models.DateField(_("gäller från"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("villkorsversion")
        verbose_name_plural = _("villkorsversioner")
        ordering = ["-effective_from", "-id"]

    def __str__(self) -> str:
        return self.version

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        forget_latest()
        transaction.on_commit(forget_latest)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        deleted = super().delete(*args, **kwargs)
        forget_latest()
        transaction.on_commit(forget_latest)
        return deleted

    @property
    def title(self) -> str:
        return self.title_en if get_language() == "en" else self.title_sv

    @property
    def text(self) -> str:
        return self.text_en if get_language() == "en" else self.text_sv

    @property
    def changes(self) -> str:
        return self.changes_en if get_language() == "en" else self.changes_sv

    @property
    def paragraphs(self) -> list[str]:
        return [part.strip() for part in self.text.split("\n\n") if part.strip()]

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def is_in_force(self) -> bool:
        return self.is_published and self.effective_from <= timezone.localdate()


class TermsAcceptance(models.Model):
    """An employer's acceptance of a terms version: by signing the enrolment with e-ID, on the
    paper form, or by an administrator acknowledging a change."""

    class Channel(models.TextChoices):
        ESERVICE = "eservice", _("e-tjänsten Anslut ditt företag")
        PAPER = "paper", _("blankett")
        ACKNOWLEDGEMENT = "acknowledgement", _("bekräftelse av ändrade villkor")

    employer = models.ForeignKey(
        "employers.Employer", on_delete=models.PROTECT, related_name="terms_acceptances"
    )
    terms_version = models.ForeignKey(
        TermsVersion, on_delete=models.PROTECT, related_name="acceptances"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField(default=timezone.now)
    signature = models.ForeignKey(
        "identity.Signature", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("godkännande av villkor")
        verbose_name_plural = _("godkännanden av villkor")
        ordering = ["-accepted_at"]
        constraints = [
            # Each connection accepts the version in force again (a re-connected employer signs
            # anew), but a change is acknowledged once per employer.
            models.UniqueConstraint(
                fields=["employer", "terms_version"],
                condition=models.Q(channel="acknowledgement"),
                name="terms_change_acknowledged_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employer_id} {self.terms_version_id}"
