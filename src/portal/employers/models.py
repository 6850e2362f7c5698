"""Employers and how they connect (R6, R7, R17)."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.employers.constants import CONNECTED_STATES, EmployerState


class Employer(models.Model):
    """An employer: a company, association or sole trader, identified by its organisation number
    (a sole trader by the personal identity number).

    There is one row per organisation number for the employer's whole life, through connection,
    de-registration and re-connection; its ``state`` is changed only by
    ``portal.employers.state.transition``.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation_number = models.CharField(_("organisationsnummer"), max_length=12, unique=True)
    name = models.CharField(_("namn"), max_length=200)
    legal_form = models.CharField(_("företagsform"), max_length=32, blank=True)
    state = models.CharField(
        _("status"),
        max_length=32,
        choices=EmployerState.choices,
        default=EmployerState.NOT_CONNECTED,
    )
    state_changed_at = models.DateTimeField(_("status ändrad"), auto_now_add=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("arbetsgivare")
        verbose_name_plural = _("arbetsgivare")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.formatted_number})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # ``state`` is written only by the state machine (portal.employers.state.transition), with
        # a compare-and-set update; an ordinary save of an existing row never writes it.
        if not self._state.adding:
            fields = kwargs.get("update_fields") or [
                field.name for field in self._meta.concrete_fields if not field.primary_key
            ]
            kwargs["update_fields"] = [name for name in fields if name not in _STATE_FIELDS]
        super().save(*args, **kwargs)

    @property
    def formatted_number(self) -> str:
        number = self.organisation_number
        if len(number) == 10:  # noqa: PLR2004
            return f"{number[:6]}-{number[6:]}"
        return f"{number[:8]}-{number[8:]}"

    @property
    def is_connected(self) -> bool:
        return self.state in CONNECTED_STATES


_STATE_FIELDS = frozenset({"state", "state_changed_at"})


class Enrolment(models.Model):
    """A request to connect an employer: through the e-service "Anslut ditt företag" (signed with
    e-ID by the signatories the register requires) or on the paper form, entered by staff."""

    class Channel(models.TextChoices):
        ESERVICE = "eservice", _("e-tjänst")
        PAPER = "paper", _("blankett")

    class State(models.TextChoices):
        AWAITING_SIGNATURES = "awaiting_signatures", _("väntar på underskrifter")
        AWAITING_APPROVAL = "awaiting_approval", _("väntar på granskning")
        COMPLETED = "completed", _("klar")
        EXPIRED = "expired", _("förfallen")
        CANCELLED = "cancelled", _("avbruten")

    class Kind(models.TextChoices):
        # Connect an employer that is not connected, accepting the terms.
        CONNECT = "connect", _("anslutning")
        # A signatory of a connected employer names another access administrator (for example
        # when none is left): the employer stays as it is.
        ADMINISTRATOR = "administrator", _("ny behörighetsadministratör")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="enrolments")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    kind = models.CharField(
        max_length=16, choices=Kind.choices, default=Kind.CONNECT, db_default=Kind.CONNECT
    )
    state = models.CharField(
        max_length=24, choices=State.choices, default=State.AWAITING_SIGNATURES
    )
    initiated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    terms_version = models.ForeignKey(
        "terms.TermsVersion", on_delete=models.PROTECT, related_name="+"
    )
    # The first access administrator: the initiator or another person, named by number and e-mail.
    administrator_personal_number = models.CharField(max_length=12)
    administrator_email = models.EmailField()
    #: The signatory rule as the register gave it when the enrolment started (JSON), so that the
    #: decision can be explained later even if the register changes.
    signatory_rule = models.JSONField(default=dict)
    company_snapshot = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    # Paper enrolment.
    received_on = models.DateField(null=True, blank=True)
    case_number = models.CharField(max_length=64, blank=True)
    scan_reference = models.CharField(max_length=200, blank=True)
    #: The staff member who entered a paper enrolment; another one must approve it (four eyes).
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("anslutning")
        verbose_name_plural = _("anslutningar")
        ordering = ["-created_at"]
        constraints = [
            # One open enrolment per employer: a double submit or two signatories starting at the
            # same moment end with one.
            models.UniqueConstraint(
                fields=["employer"],
                condition=models.Q(state__in=["awaiting_signatures", "awaiting_approval"]),
                name="one_open_enrolment_per_employer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employer_id} {self.state}"

    @property
    def is_open(self) -> bool:
        return self.state in {self.State.AWAITING_SIGNATURES, self.State.AWAITING_APPROVAL}


class EnrolmentSignature(models.Model):
    """One signatory's e-ID signature of an enrolment (and with it, of the terms version)."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="signatures")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signature = models.OneToOneField(
        "identity.Signature", on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("underskrift av anslutning")
        verbose_name_plural = _("underskrifter av anslutningar")
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "person"], name="one_signature_per_signatory"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrolment_id} {self.person_id}"


class DeregistrationRequest(models.Model):
    """An employer's request to be de-registered (R17): made in the portal and signed with e-ID by
    an access administrator, or received in writing and registered by staff. Once received it is
    processed by a background task, unless staff flag it to be handled by hand."""

    class Channel(models.TextChoices):
        ESERVICE = "eservice", _("e-tjänst, underskriven med e-legitimation")
        WRITTEN = "written", _("skriftlig begäran")

    class State(models.TextChoices):
        RECEIVED = "received", _("mottagen")
        HELD = "held", _("väntar på handläggare")
        PROCESSED = "processed", _("avregistrerad")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    employer = models.ForeignKey(
        Employer, on_delete=models.PROTECT, related_name="deregistration_requests"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RECEIVED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requester_email = models.EmailField(blank=True)
    signature = models.OneToOneField(
        "identity.Signature", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    received_on = models.DateField()
    case_number = models.CharField(max_length=64, blank=True)
    #: The staff member who registered a written request.
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("begäran om avregistrering")
        verbose_name_plural = _("begäranden om avregistrering")
        constraints = [
            models.UniqueConstraint(
                fields=["employer"],
                condition=models.Q(state__in=["received", "held"]),
                name="one_open_deregistration_per_employer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employer_id} {self.state}"


class Termination(models.Model):
    """The agency's termination of an employer's connection, with notice (R17)."""

    class State(models.TextChoices):
        NOTIFIED = "notified", _("uppsägningstid löper")
        WITHDRAWN = "withdrawn", _("återkallad")
        TERMINATED = "terminated", _("genomförd")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="terminations")
    state = models.CharField(max_length=16, choices=State.choices, default=State.NOTIFIED)
    reason = models.TextField(_("skäl"))
    notified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    notified_at = models.DateTimeField(auto_now_add=True)
    effective_on = models.DateField(_("upphör den"))
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    terminated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("uppsägning")
        verbose_name_plural = _("uppsägningar")
        constraints = [
            models.UniqueConstraint(
                fields=["employer"],
                condition=models.Q(state="notified"),
                name="one_running_termination",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employer_id} {self.state} {self.effective_on}"
