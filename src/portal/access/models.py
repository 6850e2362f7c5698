"""Who may act for an employer (R3, R8): memberships as access administrator or user, grants per
e-service with a level and optional dates, and the periodic access reviews.

An access administrator administers access and nothing else; using an e-service needs a user
membership with a grant for that e-service. Nothing here is ever deleted: ending a membership or a
grant sets its end time, so that who could do what, when, can always be answered.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.eservices import registry

if TYPE_CHECKING:
    from portal.employers.models import Employer
    from portal.identity.models import Person


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", _("behörighetsadministratör")
    USER = "user", _("användare")


class Level(models.TextChoices):
    VIEW = "view", _("se uppgifter")
    SUBMIT = "submit", _("se och lämna uppgifter")


class MembershipQuerySet(models.QuerySet["Membership"]):
    def active(self) -> MembershipQuerySet:
        """In force now: not ended, not suspended by an overdue access review, within its dates."""
        now = timezone.now()
        return self.filter(
            ended_at__isnull=True, suspended_at__isnull=True, valid_from__lte=now
        ).filter(models.Q(valid_until__isnull=True) | models.Q(valid_until__gt=now))

    def open(self) -> MembershipQuerySet:
        """Not ended (possibly suspended): what an administrator sees and reviews."""
        return self.filter(ended_at__isnull=True)


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
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    end_reason = models.CharField(_("skäl för avslut"), max_length=500, blank=True)
    last_reviewed_at = models.DateTimeField(_("senast granskad"), null=True, blank=True)
    # Set when an access review was overdue past its grace period and the policy is on; cleared
    # when an administrator confirms the access.
    suspended_at = models.DateTimeField(_("vilande sedan"), null=True, blank=True)

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

    @property
    def contact_email(self) -> str:
        """Where to write to the person about this access: the address given for it, or the
        person's own."""
        return self.email or self.person.email


#: The employer's administrators in force with their people, by membership, as
#: ``Membership.objects.active().filter(employer=..., role=ADMINISTRATOR).select_related("person")
#: .order_by("pk")`` (``.exclude(person=...)`` with the last condition); every change of access
#: asks it, to tell the others (tests/access/test_layout_queries.py holds it to the ORM). The
#: role is written in (``rows.constant``): administrators are few, and with the role a parameter
#: PostgreSQL planned the statement anew on every run.
_ADMINISTRATORS_SQL = (
    "SELECT {m}, {p} FROM access_membership m JOIN identity_person p ON p.id = m.person_id"
    " WHERE m.employer_id = %s AND m.role = {administrator}"
    " AND m.ended_at IS NULL AND m.suspended_at IS NULL AND m.valid_from <= %s"
    " AND (m.valid_until IS NULL OR m.valid_until > %s){leaving_out}"
    " ORDER BY m.id"
)


def administrators_reachable(
    employer: Employer, *, leaving_out: Person | None = None
) -> list[Membership]:
    """The employer's active administrators who have an e-mail address (optionally without the
    person who made the change), with their people loaded."""
    from django.db import connection  # noqa: PLC0415

    from portal.common.rows import column_list, constant, instances  # noqa: PLC0415

    person_model = Membership.person.field.related_model
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params: list[object] = [employer.pk, now, now]
    if leaving_out is not None:
        params.append(leaving_out.pk)
    sql = _ADMINISTRATORS_SQL.format(
        m=column_list(Membership, "m"),
        p=column_list(person_model, "p"),
        administrator=constant(Role.ADMINISTRATOR),
        leaving_out=" AND m.person_id <> %s" if leaving_out is not None else "",
    )
    found = []
    for membership, person in instances(sql, params, Membership, person_model):
        membership.person = person
        if membership.contact_email:
            found.append(membership)
    return found


class GrantQuerySet(models.QuerySet["Grant"]):
    def open(self) -> GrantQuerySet:
        """Not revoked (possibly not yet started, or past its end date)."""
        return self.filter(ended_at__isnull=True)

    def in_force(self, on: date | None = None) -> GrantQuerySet:
        """Not revoked and within its dates on ``on`` (today)."""
        day = on or timezone.localdate()
        return self.filter(ended_at__isnull=True, valid_from__lte=day).filter(
            models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=day)
        )


class Grant(models.Model):
    """A user's access to one e-service at one level, between two dates (both inclusive).

    Expiry needs no job to take effect: the dates are part of every authorisation decision. A daily
    task only records the expiry in the audit log and tells the person.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="grants")
    eservice = models.CharField(_("e-tjänst"), max_length=32)
    level = models.CharField(_("nivå"), max_length=8, choices=Level.choices)
    valid_from = models.DateField(_("gäller från"), default=timezone.localdate)
    valid_until = models.DateField(_("gäller till och med"), null=True, blank=True)
    reason = models.CharField(_("skäl"), max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ended_at = models.DateTimeField(_("återkallad"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    end_reason = models.CharField(_("skäl för återkallelse"), max_length=500, blank=True)
    expiry_recorded_at = models.DateTimeField(null=True, blank=True)

    objects = GrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("behörighet till e-tjänst")
        verbose_name_plural = _("behörigheter till e-tjänster")
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "eservice"],
                condition=models.Q(ended_at__isnull=True),
                name="one_open_grant_per_eservice",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="grant_ends_after_it_starts",
            ),
            models.CheckConstraint(
                condition=models.Q(level__in=["view", "submit"]), name="grant_level_is_known"
            ),
        ]
        indexes = [models.Index(fields=["membership", "eservice"], name="grant_lookup")]

    def __str__(self) -> str:
        return f"{self.membership_id} {self.eservice} {self.level}"

    @property
    def eservice_name(self) -> str:
        eservice = registry.get(self.eservice)
        return str(eservice.name) if eservice else self.eservice

    def in_force(self, on: date | None = None) -> bool:
        day = on or timezone.localdate()
        return (
            self.ended_at is None
            and self.valid_from <= day
            and (self.valid_until is None or self.valid_until >= day)
        )


class AccessReview(models.Model):
    """One round of an employer's periodic access review (R8): by the due date the administrators
    confirm or remove each person's access. A completed round schedules the next."""

    employer = models.ForeignKey(
        "employers.Employer", on_delete=models.PROTECT, related_name="access_reviews"
    )
    due_on = models.DateField(_("senast"))
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(_("klar"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The reminders already sent, by days before the due date ("14", "3"), and when the
    # suspension policy was applied; so that the daily task acts once.
    reminders_sent = models.JSONField(default=list, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("behörighetsgranskning")
        verbose_name_plural = _("behörighetsgranskningar")
        constraints = [
            models.UniqueConstraint(
                fields=["employer"],
                condition=models.Q(completed_at__isnull=True),
                name="one_open_review_per_employer",
            )
        ]

    def __str__(self) -> str:
        return f"{self.employer_id} {self.due_on}"


class ReviewDecision(models.Model):
    """An administrator's decision on one membership in a review round."""

    class Decision(models.TextChoices):
        CONFIRM = "confirm", _("behålls")
        REMOVE = "remove", _("tas bort")

    review = models.ForeignKey(AccessReview, on_delete=models.PROTECT, related_name="decisions")
    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(_("beslut"), max_length=8, choices=Decision.choices)
    decided_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("granskningsbeslut")
        verbose_name_plural = _("granskningsbeslut")
        constraints = [
            models.UniqueConstraint(fields=["review", "membership"], name="one_decision_per_review")
        ]

    def __str__(self) -> str:
        return f"{self.review_id} {self.membership_id} {self.decision}"


class AccessImport(models.Model):
    """An uploaded CSV of access, validated and shown as a preview; applied as a whole or not at
    all. The parsed rows are kept so that what is applied is exactly what was previewed."""

    class State(models.TextChoices):
        PREVIEWED = "previewed", _("granskas")
        APPLIED = "applied", _("genomförd")
        DISCARDED = "discarded", _("avbruten")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    employer = models.ForeignKey(
        "employers.Employer", on_delete=models.PROTECT, related_name="access_imports"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    filename = models.CharField(max_length=255, blank=True)
    rows = models.JSONField(default=list)
    errors = models.JSONField(default=list)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PREVIEWED)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import av behörigheter")
        verbose_name_plural = _("importer av behörigheter")

    def __str__(self) -> str:
        return f"{self.employer_id} {self.uploaded_at:%Y-%m-%d %H:%M}"
