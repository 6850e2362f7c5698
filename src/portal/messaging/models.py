"""The outbox: every e-mail the portal sends, decided inside the change that causes it.

A row is written in the caller's transaction with its subject and body already rendered, so that
what is sent is exactly what was decided at the time, and nothing is sent for a change that was
rolled back. A background task sends it after commit and records the outcome here.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """One message to one recipient, and how far it has come."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("e-post")

    class Language(models.TextChoices):
        SWEDISH = "sv", _("svenska")
        ENGLISH = "en", _("engelska")

    class Status(models.TextChoices):
        QUEUED = "queued", _("i kö")
        SENDING = "sending", _("skickas")
        SENT = "sent", _("skickat")
        FAILED = "failed", _("misslyckades")

    public_id = models.UUIDField(_("publikt id"), default=uuid.uuid4, unique=True, editable=False)
    channel = models.CharField(
        _("kanal"), max_length=16, choices=Channel.choices, default=Channel.EMAIL
    )
    recipient_email = models.EmailField(_("mottagarens e-postadress"))
    recipient_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("mottagare"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # A code from portal.messaging.templates; no database choices, so that another app can add a
    # message type without a migration of this table.
    template = models.CharField(_("meddelandetyp"), max_length=64)
    context = models.JSONField(_("uppgifter"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    language = models.CharField(
        _("språk"), max_length=8, choices=Language.choices, default=Language.SWEDISH
    )
    subject = models.CharField(_("ämne"), max_length=255)
    body_text = models.TextField(_("text"))
    body_html = models.TextField(_("HTML"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("försök"), default=0)
    # Written by the sending task for operators: the error's class and the server's reply, with
    # e-mail addresses and personal identity numbers taken out.
    last_error = models.CharField(_("senaste fel"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("skapat"), default=timezone.now, editable=False)
    #: The earliest time of the next attempt: the first one, or the next retry after a failure.
    send_after = models.DateTimeField(_("skickas tidigast"), default=timezone.now)
    #: When a worker last claimed the message; a claim far in the past means a worker crashed.
    last_attempt_at = models.DateTimeField(_("senaste försök"), null=True, blank=True)
    sent_at = models.DateTimeField(_("skickat"), null=True, blank=True)
    # What the message concerns, as a type name and id (as in the audit log), so that any app can
    # refer to its own objects without a foreign key per app.
    related_object_type = models.CharField(_("objekttyp"), max_length=64, blank=True)
    related_object_id = models.CharField(_("objekt-id"), max_length=64, blank=True)
    # Chosen by the caller for one logical message (e.g. "invitation:<id>:sent"), so that a
    # repeated request or a retried job enqueues it once. NULLs do not collide in a unique index.
    idempotency_key = models.CharField(
        _("idempotensnyckel"), max_length=200, unique=True, null=True, blank=True
    )

    class Meta:
        verbose_name = _("utgående meddelande")
        verbose_name_plural = _("utgående meddelanden")
        ordering = ["id"]
        indexes = [
            # The safety net looks for messages left behind in these states.
            models.Index(fields=["status", "send_after"], name="outbox_status_due"),
            models.Index(
                fields=["related_object_type", "related_object_id"], name="outbox_related"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False),
                name="outbox_sent_has_sent_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} {self.status} {self.created_at:%Y-%m-%d %H:%M}"
