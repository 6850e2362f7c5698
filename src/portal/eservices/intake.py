"""The intake feed: how the agency's case-handling systems receive what employers submitted.

Each received submission gets an ``IntakeMessage`` in the submission's own transaction (an
outbox: there is never a submission without its message, nor a message for one that rolled back).
The publisher (``intake_publish``, a background task after each submission, and run again before
every read) gives committed messages the next positions in one ordered feed. A reader asks for
the messages after a position and acknowledges how far it has processed; a reader that was down
resumes from its acknowledgement, so nothing is lost and nothing is skipped.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.db import connection, transaction
from django.db.models import Max

from portal import audit
from portal.audit.constants import EventType
from portal.common.errors import ApplicationError
from portal.eservices.models import IntakeClient, IntakeMessage

MAX_BATCH = 500


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def intake_client_create(*, name: str) -> tuple[IntakeClient, str]:
    """A new reading system and its secret (shown once; only its hash is kept)."""
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        client = IntakeClient.objects.create(name=name, secret_hash=secret_hash(secret))
        audit.record(
            EventType.INTAKE_CLIENT_CREATED,
            actor=None,
            object_type="intake-client",
            object_id=client.pk,
            data={"name": name},
        )
    return client, secret


def intake_client_for(secret: str) -> IntakeClient | None:
    if not secret:
        return None
    return IntakeClient.objects.filter(secret_hash=secret_hash(secret), active=True).first()


def intake_publish() -> int:
    """Give committed, unpublished messages the next positions (in id order). Returns how many."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [0x696E74616B65])  # "intake"
        last = IntakeMessage.objects.aggregate(last=Max("position"))["last"] or 0
        waiting = list(
            IntakeMessage.objects.filter(position__isnull=True)
            .order_by("id")
            .values_list("id", flat=True)[:5000]
        )
        for offset, message_id in enumerate(waiting, start=1):
            IntakeMessage.objects.filter(pk=message_id).update(position=last + offset)
    return len(waiting)


def intake_read(*, client: IntakeClient, after: int | None, limit: int) -> list[IntakeMessage]:
    """The messages after ``after`` (default: the client's acknowledgement), in feed order."""
    intake_publish()
    start = client.acknowledged if after is None else after
    return list(
        IntakeMessage.objects.filter(position__gt=start)
        .order_by("position")
        .select_related("submission__employer")[: max(1, min(limit, MAX_BATCH))]
    )


class BeyondTheFeed(ApplicationError):
    status = 422  # type: ignore[assignment]
    code = "beyond-the-feed"


def intake_acknowledge(*, client: IntakeClient, position: int) -> IntakeClient:
    """The client has processed everything up to ``position``; acknowledgements never go back."""
    with transaction.atomic():
        locked = IntakeClient.objects.select_for_update().get(pk=client.pk)
        last = IntakeMessage.objects.aggregate(last=Max("position"))["last"] or 0
        if position > last:
            raise BeyondTheFeed(f"The feed ends at position {last}.", extra={"last": last})
        if position > locked.acknowledged:
            locked.acknowledged = position
            locked.save(update_fields=["acknowledged"])
            audit.record(
                EventType.INTAKE_ACKNOWLEDGED,
                actor=None,
                object_type="intake-client",
                object_id=locked.pk,
                data={"client": locked.name, "position": position},
            )
    return locked


def message_payload(message: IntakeMessage) -> dict[str, Any]:
    submission = message.submission
    return {
        "position": message.position,
        "reference": submission.reference,
        "eservice": submission.eservice,
        "case_id": str(submission.case_id),
        "version": submission.version,
        "kind": submission.kind,
        "received_at": submission.submitted_at.isoformat(),
        "employer": {
            "organisation_number": submission.employer.organisation_number,
            "name": submission.employer.name,
        },
        "flags": submission.flags,
        "content": submission.content,
    }
