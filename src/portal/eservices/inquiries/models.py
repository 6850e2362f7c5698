"""The agency's inquiries to an employer about an employee, and the link to their answers.

An inquiry is created by the agency's staff (in the back-office) or by one of its case-handling
systems (the intake API). The employer's users with a grant for ``inquiries`` answer it; the
answer is an ordinary, immutable ``Submission`` of the ``inquiries`` e-service, linked here in the
same transaction. An inquiry is never deleted.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Inquiry(models.Model):
    """A question from the agency to an employer about one employee, with a due date."""

    class Kind(models.TextChoices):
        INCOME = "income", _("inkomst")
        ABSENCE = "absence", _("frånvaro")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(_("referensnummer"), max_length=24, unique=True)
    employer = models.ForeignKey(
        "employers.Employer", on_delete=models.PROTECT, related_name="inquiries"
    )
    kind = models.CharField(_("gäller"), max_length=16, choices=Kind.choices)
    employee_personal_number = models.CharField(_("den anställdas personnummer"), max_length=12)
    # The period the agency asks about (absence inquiries only), both days inclusive.
    period_from = models.DateField(_("perioden från"), null=True, blank=True)
    period_to = models.DateField(_("perioden till och med"), null=True, blank=True)
    question = models.TextField(_("fråga"), max_length=2000, blank=True)
    due_date = models.DateField(_("svara senast"))
    created_at = models.DateTimeField(default=timezone.now)
    created_by_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by_client = models.ForeignKey(
        "eservices.IntakeClient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inquiries",
    )
    # The case system's Idempotency-Key: a retry of the same request finds this row.
    idempotency_key = models.CharField(max_length=128, blank=True)
    # The first version of the answer (a correction is a later version of the same case).
    answer = models.OneToOneField(
        "eservices.Submission",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inquiry",
    )
    reminder_before_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_after_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("förfrågan")
        verbose_name_plural = _("förfrågningar")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(created_by_staff__isnull=False, created_by_client__isnull=True)
                | models.Q(created_by_staff__isnull=True, created_by_client__isnull=False),
                name="inquiry_has_one_creator",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="income", period_from__isnull=True, period_to__isnull=True)
                | models.Q(
                    kind="absence",
                    period_from__isnull=False,
                    period_to__isnull=False,
                    period_from__lte=models.F("period_to"),
                ),
                name="inquiry_period_fits_kind",
            ),
            models.UniqueConstraint(
                fields=["created_by_client", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="one_inquiry_per_client_key",
            ),
        ]
        indexes = [
            models.Index(fields=["employer", "due_date"], name="inquiry_employer_due"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def answered(self) -> bool:
        return self.answer_id is not None
