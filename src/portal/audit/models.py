"""The append-only audit log (R14).

Rows are only ever inserted. The model refuses updates and deletes in Python, its queryset refuses
bulk updates and deletes, and the database itself rejects UPDATE, DELETE and TRUNCATE with triggers
(migration 0002), so that not even a raw SQL statement from the application can rewrite history.
Tamper evidence for whoever controls the database (a hash chain and signed tree heads) builds on
this table.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditLogIsAppendOnly(Exception):
    """Raised for any attempt to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditLogIsAppendOnly("audit events are never updated")

    def delete(self) -> NoReturn:
        raise AuditLogIsAppendOnly("audit events are never deleted")

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditLogIsAppendOnly("audit events are never updated")


class AuditEvent(models.Model):
    """One thing that happened: who did what, to what, when, from where, and with which result."""

    occurred_at = models.DateTimeField(_("tidpunkt"), default=timezone.now, db_index=True)
    # Values of audit.constants.EventType; no database choices, so that adding a type needs no
    # migration of this table.
    event_type = models.CharField(_("händelse"), max_length=64)
    actor_kind = models.CharField(_("aktör"), max_length=16)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # What the event concerns, as a type name and id, so that the log can refer to objects of any
    # app without a foreign key per app (and survives the object's own retention rules).
    object_type = models.CharField(_("objekttyp"), max_length=64, blank=True)
    object_id = models.CharField(_("objekt-id"), max_length=64, blank=True)
    data = models.JSONField(_("uppgifter"), default=dict, encoder=DjangoJSONEncoder)
    request_id = models.CharField(_("begäran-id"), max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(_("IP-adress"), null=True, blank=True)
    # The columns below came later; they are nullable so that adding them never rewrites the
    # (append-only) table, and events from before them simply have none.
    # The employer acted for (its public id), so that its administrators can read its activity.
    employer_ref = models.CharField(  # noqa: DJ001 (nullable: added to an append-only table)
        _("arbetsgivare"), max_length=36, null=True, blank=True
    )
    # The e-ID login (identity.Login id) the request came from.
    login_id = models.BigIntegerField(_("inloggning"), null=True, blank=True)
    # success, denied or failure (audit.constants.Outcome).
    outcome = models.CharField(_("utfall"), max_length=16, null=True, blank=True)  # noqa: DJ001
    # SHA-256 of the browser's User-Agent header: enough to tell devices apart, not to track them.
    user_agent_hash = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("loggad händelse")
        verbose_name_plural = _("loggade händelser")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["actor", "occurred_at"], name="audit_actor_time"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            # The employer's activity view pages by id within an employer (keyset pagination).
            models.Index(fields=["employer_ref", "id"], name="audit_employer_id"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.event_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditLogIsAppendOnly("audit events are never updated")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditLogIsAppendOnly("audit events are never deleted")


class _AppendOnlyQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditLogIsAppendOnly("the log's tree is never updated")

    def delete(self) -> NoReturn:
        raise AuditLogIsAppendOnly("the log's tree is never deleted from")


class LogLeaf(models.Model):
    """An event's place in the log's Merkle tree (RFC 9162): leaf number ``seq`` (contiguous from 0,
    in the order the sequencer sealed the events) and the leaf hash of the event's canonical bytes."""

    seq = models.BigIntegerField(primary_key=True)
    # No database constraint: when old events are purged (retention), their leaves and hashes
    # stay, so that the tree still verifies; the leaf then names an event that is gone.
    event = models.OneToOneField(
        AuditEvent, on_delete=models.DO_NOTHING, db_constraint=False, related_name="leaf"
    )
    leaf_hash = models.BinaryField(max_length=32)

    objects = _AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("löv i loggens träd")
        verbose_name_plural = _("löv i loggens träd")

    def __str__(self) -> str:
        return f"leaf {self.seq}"


class LogNode(models.Model):
    """The hash of a complete subtree of the log's tree above the leaves: level L, index i covers
    leaves [i·2^L, (i+1)·2^L). Kept so that a proof needs a handful of rows, not the whole log."""

    pk = models.CompositePrimaryKey("level", "index")
    level = models.SmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    objects = _AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("nod i loggens träd")
        verbose_name_plural = _("noder i loggens träd")

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class TreeHead(models.Model):
    """A signed statement of the log's tree at a size: its root hash and when. Heads are never
    removed, not even when old events are purged, so that what remains still verifies."""

    size = models.BigIntegerField(unique=True)
    root_hash = models.BinaryField(max_length=32)
    signed_at = models.DateTimeField()
    signature = models.BinaryField(max_length=64)
    key_id = models.CharField(max_length=32)
    # The sequencer's state after this head: the roots of the perfect subtrees (hex, largest
    # first) and the highest event id sealed so far. Not part of what is signed.
    frontier = models.JSONField(default=list)
    max_event_id = models.BigIntegerField(default=0)

    objects = _AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("signerat trädhuvud")
        verbose_name_plural = _("signerade trädhuvuden")
        ordering = ["size"]

    def __str__(self) -> str:
        return f"tree head {self.size}"


class AuditPurge(models.Model):
    """Events older than the retention period removed, a whole month at a time: every leaf before
    ``up_to_seq`` has lost its event but kept its hash, and every tree head is kept, so the log
    still verifies. Each purge is also an event in the log."""

    before = models.DateField(_("händelser före"))
    up_to_seq = models.BigIntegerField()
    events = models.BigIntegerField()
    purged_at = models.DateTimeField(auto_now_add=True)

    objects = _AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("gallring av loggen")
        verbose_name_plural = _("gallringar av loggen")
        ordering = ["up_to_seq"]

    def __str__(self) -> str:
        return f"purge before {self.before}"
