"""Who may act for an employer: memberships as access administrator or user (R3, R8).

Grants per e-service, expiry and access reviews build on these memberships.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", _("behörighetsadministratör")
    USER = "user", _("användare")


class MembershipQuerySet(models.QuerySet["Membership"]):
    def active(self) -> MembershipQuerySet:
        now = timezone.now()
        return self.filter(ended_at__isnull=True, valid_from__lte=now).filter(
            models.Q(valid_until__isnull=True) | models.Q(valid_until__gt=now)
        )


class Membership(models.Model):
    """A person's role at an employer. An access administrator administers; using the e-services
    needs a user membership with grants."""

    employer = models.ForeignKey(
        "employers.Employer", on_delete=models.PROTECT, related_name="memberships"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("roll"), max_length=16, choices=Role.choices)
    email = models.EmailField(_("e-postadress"), blank=True)
    valid_from = models.DateTimeField(_("gäller från"), default=timezone.now)
    valid_until = models.DateTimeField(_("gäller till"), null=True, blank=True)
    reason = models.CharField(_("skäl"), max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ended_at = models.DateTimeField(_("avslutad"), null=True, blank=True)
    end_reason = models.CharField(_("skäl för avslut"), max_length=500, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("medlemskap")
        verbose_name_plural = _("medlemskap")
        constraints = [
            models.UniqueConstraint(
                fields=["employer", "person", "role"],
                condition=models.Q(ended_at__isnull=True),
                name="one_open_membership_per_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.role} {self.employer_id}"
