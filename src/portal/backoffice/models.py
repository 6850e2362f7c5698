"""The agency's staff and their roles.

A staff member logs in with e-ID like everyone else; what they may do in the back-office comes
from their roles, each granted by a staff administrator (or, for the first one, from the command
line) and revocable. A staff member acts as an employer's user only through an ordinary
membership, never through a staff role.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class StaffRole(models.Model):
    class Role(models.TextChoices):
        CASE_WORKER = "case_worker", _("handläggare")
        PARTNER_SUPPORT = "partner_support", _("kundcenter för partner")
        TERMS_EDITOR = "terms_editor", _("villkorsredaktör")
        OPERATIONS = "operations", _("drift")
        AUDITOR = "auditor", _("granskare")
        STAFF_ADMINISTRATOR = "staff_administrator", _("administratör för personal")

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff_roles"
    )
    role = models.CharField(_("roll"), max_length=32, choices=Role.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    granted_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("personalroll")
        verbose_name_plural = _("personalroller")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "role"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_active_staff_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.role}"
