"""What users submit in the e-services (R4): submissions, immutable once received, and drafts.

A submission is never edited. A correction or a withdrawal is a new submission in the same case
(``case_id``) with the next version number; the newest version is what the case says now. The
database refuses updates and deletes of submissions, as it does for the audit log.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any, NoReturn

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Reference numbers: letters and digits that cannot be mistaken for each other when read aloud or
# typed from a printed receipt.
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_reference(prefix: str) -> str:
    body = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"{prefix}-{body[:4]}-{body[4:]}"


class SubmissionIsImmutable(Exception):
    """Raised for any attempt to change or remove a submission."""


class SubmissionQuerySet(models.QuerySet["Submission"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise SubmissionIsImmutable("submissions are never updated")

    def delete(self) -> NoReturn:
        raise SubmissionIsImmutable("submissions are never deleted")


class Submission(models.Model):
    """One version of what a user submitted for an employer in an e-service."""

    class Kind(models.TextChoices):
        ORIGINAL = "original", _("inskickad")
        CORRECTION = "correction", _("rättelse")
        WITHDRAWAL = "withdrawal", _("återkallelse")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(_("referensnummer"), max_length=24, unique=True)
    case_id = models.UUIDField(_("ärende"), default=uuid.uuid4, db_index=True)
    version = models.PositiveSmallIntegerField(default=1)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.ORIGINAL)
    eservice = models.CharField(_("e-tjänst"), max_length=32)
    employer = models.ForeignKey(
        "employers.Employer", on_delete=models.PROTECT, related_name="submissions"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="submissions"
    )
    submitted_at = models.DateTimeField(_("mottagen"), default=timezone.now)
    # Whom the submission is about (an employee's personal number), for finding earlier ones.
    subject = models.CharField(max_length=64, blank=True, db_index=True)
    content = models.JSONField(_("innehåll"), encoder=DjangoJSONEncoder)
    # Marks the e-service's rules set (for example "late"), shown on the receipt.
    flags = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    # The one-time token of the form (or the API's Idempotency-Key): a retry finds this row.
    idempotency_key = models.CharField(max_length=128)

    objects = SubmissionQuerySet.as_manager()

    class Meta:
        verbose_name = _("inskickad uppgift")
        verbose_name_plural = _("inskickade uppgifter")
        constraints = [
            models.UniqueConstraint(
                fields=["submitted_by", "idempotency_key"], name="one_submission_per_key"
            ),
            models.UniqueConstraint(fields=["case_id", "version"], name="one_version_per_number"),
        ]
        indexes = [
            models.Index(fields=["employer", "eservice", "subject"], name="submission_subject"),
            # An e-service's page lists the employer's newest cases first, a page at a time.
            models.Index(
                fields=["employer", "eservice", "-submitted_at"], name="submission_newest"
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise SubmissionIsImmutable("submissions are never updated")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise SubmissionIsImmutable("submissions are never deleted")


class Draft(models.Model):
    """What a person has filled in so far, saved at every step and resumable; removed when
    submitted, and purged after ``PORTAL_DRAFT_DAYS`` days untouched."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drafts"
    )
    employer = models.ForeignKey("employers.Employer", on_delete=models.CASCADE, related_name="+")
    eservice = models.CharField(max_length=32)
    # What the draft is for within the e-service ("" for its form; an inquiry's reference for
    # the answer to that inquiry), so that a person can have several drafts side by side.
    key = models.CharField(max_length=64, blank=True, default="")
    # The case being corrected, when the draft is a correction.
    corrects = models.ForeignKey(
        Submission, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    data = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    token = models.CharField(max_length=64, default=secrets.token_urlsafe)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("utkast")
        verbose_name_plural = _("utkast")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "employer", "eservice", "key"], name="one_draft_per_eservice_key"
            )
        ]

    def __str__(self) -> str:
        return " ".join(part for part in (self.eservice, self.key, str(self.person_id)) if part)


class IntakeClient(models.Model):
    """A case-handling system of the agency that reads the intake feed, with its credential (only
    the SHA-256 of the secret is stored) and how far it has acknowledged."""

    name = models.CharField(max_length=100, unique=True)
    secret_hash = models.CharField(max_length=64, unique=True)
    acknowledged = models.BigIntegerField(default=0)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("mottagande system")
        verbose_name_plural = _("mottagande system")

    def __str__(self) -> str:
        return self.name


class IntakeMessage(models.Model):
    """A received submission on its way to the agency's systems: written in the submission's
    transaction (an outbox), then given the next position in the feed by the publisher, so the
    feed's order never changes and a reader that resumes from a position misses nothing."""

    submission = models.OneToOneField(Submission, on_delete=models.PROTECT, related_name="+")
    position = models.BigIntegerField(null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("meddelande till handläggning")
        verbose_name_plural = _("meddelanden till handläggning")

    def __str__(self) -> str:
        return f"intake {self.position}"


class Attachment(models.Model):
    """A file attached to a form: uploaded to a draft, then part of the submission it was sent
    with (and of that case's later versions). The file is stored under ``PORTAL_UPLOAD_DIR``,
    outside the web root, under a name of its own; its type is read from its content, never from
    its name. Once part of a submission it is never changed or removed."""

    class ContentType(models.TextChoices):
        PDF = "application/pdf", "PDF"
        JPEG = "image/jpeg", "JPEG"
        PNG = "image/png", "PNG"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    employer = models.ForeignKey("employers.Employer", on_delete=models.PROTECT, related_name="+")
    eservice = models.CharField(max_length=32)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    draft = models.ForeignKey(
        Draft, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    submission = models.ForeignKey(
        Submission, null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    name = models.CharField(_("filnamn"), max_length=200)
    content_type = models.CharField(max_length=32, choices=ContentType.choices)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("bilaga")
        verbose_name_plural = _("bilagor")

    def __str__(self) -> str:
        return self.name

    def describe(self) -> dict[str, Any]:
        """How a submission's content refers to it."""
        return {
            "id": str(self.public_id),
            "name": self.name,
            "type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
        }


# The inquiries e-service's own model belongs to this app (its migrations are here).
from portal.eservices.inquiries.models import Inquiry  # noqa: E402, F401
