"""Writes to the outbox: enqueuing a message in the caller's transaction, and the safety net that
re-enqueues messages a crashed or lost task left behind."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.common.errors import ApplicationError
from portal.common.rows import insert
from portal.identity.models import Person
from portal.messaging.models import OutboxMessage
from portal.messaging.tasks import schedule_send_on_commit
from portal.messaging.templates import InvalidContext, render

logger = structlog.get_logger(__name__)

#: A message still queued this long after it was due, or "sending" this long after a worker
#: claimed it, was lost (a worker crash, an enqueue that failed after commit).
STUCK_AFTER = timedelta(minutes=15)
_MAX_IDEMPOTENCY_KEY_LENGTH = 200
_MAX_ADDRESS_LENGTH = 254
_MAX_RELATED_LENGTH = 64


class OutboxOutsideTransaction(RuntimeError):
    """``outbox_enqueue`` was called outside a transaction: the message could be sent for a change
    that is then rolled back, or be lost while the change is kept."""


class InvalidRecipient(ApplicationError):
    """The recipient's e-mail address is not a valid address."""

    code = "invalid-email"


class IdempotencyKeyReused(ValueError):
    """The idempotency key already belongs to a message of another type or to another
    recipient: two different messages were given the same key."""


def _validate_language(language: str) -> str:
    known = {code for code, _name in settings.LANGUAGES}
    if language not in known or language not in OutboxMessage.Language.values:
        msg = f"language {language!r} is not one of {sorted(known)}"
        raise ValueError(msg)
    return language


def _validate_recipient(to_email: str) -> str:
    address = to_email.strip()
    try:
        validate_email(address)
    except ValidationError:
        raise InvalidRecipient(_("E-postadressen är inte giltig.")) from None
    # The validator allows 320 characters; a mailbox (and the column) has at most 254 (RFC 5321).
    if len(address) > _MAX_ADDRESS_LENGTH:
        raise InvalidRecipient(_("E-postadressen är inte giltig."))
    return address


def _validate_context(context: dict[str, Any]) -> None:
    # The context is stored as JSON; something that cannot be stored must fail here, before the
    # row is written, not half-way through it.
    try:
        json.dumps(context, cls=DjangoJSONEncoder)
    except (TypeError, ValueError) as error:
        msg = f"the context cannot be stored as JSON: {error}"
        raise InvalidContext(msg) from None


def _existing(
    key: str, *, template: str, to_email: str, to_person: Person | None
) -> OutboxMessage | None:
    message = OutboxMessage.objects.filter(idempotency_key=key).first()
    if message is None:
        return None
    if (message.template, message.recipient_email, message.recipient_person_id) != (
        template,
        to_email,
        to_person.pk if to_person is not None else None,
    ):
        msg = f"idempotency key {key!r} is already used by another message"
        raise IdempotencyKeyReused(msg)
    return message


def outbox_enqueue(
    *,
    template: str,
    to_email: str,
    to_person: Person | None = None,
    context: dict[str, Any],
    language: str = "sv",
    related_object_type: str = "",
    related_object_id: str | int = "",
    idempotency_key: str | None = None,
    send_after: datetime | None = None,
) -> OutboxMessage:
    """Put an e-mail in the outbox, in the caller's transaction, to be sent after it commits.

    The subject and body are rendered now, in ``language``, and stored: what is sent is what was
    decided. Nothing is sent if the caller's transaction rolls back. With an ``idempotency_key``
    that is already in the outbox, the existing message is returned and nothing new is queued.

    Raises ``OutboxOutsideTransaction`` outside ``transaction.atomic``, ``InvalidRecipient`` for
    an invalid address, ``UnknownTemplate`` for an unregistered message type and
    ``InvalidContext`` for a context the type cannot be rendered with, all before anything is
    written.
    """
    if not connection.in_atomic_block:
        raise OutboxOutsideTransaction(
            f"outbox message {template!r} must be enqueued inside the change's transaction"
        )
    address = _validate_recipient(to_email)
    _validate_language(language)
    _validate_context(context)
    if send_after is not None and timezone.is_naive(send_after):
        msg = "send_after must be an aware datetime"
        raise ValueError(msg)
    key = idempotency_key or None
    if key is not None and len(key) > _MAX_IDEMPOTENCY_KEY_LENGTH:
        msg = f"an idempotency key has at most {_MAX_IDEMPOTENCY_KEY_LENGTH} characters"
        raise ValueError(msg)
    related_id = str(related_object_id)
    if max(len(related_object_type), len(related_id)) > _MAX_RELATED_LENGTH:
        msg = f"related_object_type and related_object_id have at most {_MAX_RELATED_LENGTH} characters"
        raise ValueError(msg)
    rendered = render(template, context=context, language=language)

    if key is not None:
        existing = _existing(key, template=template, to_email=address, to_person=to_person)
        if existing is not None:
            return existing
    now = timezone.now()
    fields = {
        "channel": OutboxMessage.Channel.EMAIL,
        "recipient_email": address,
        "recipient_person": to_person,
        "template": template,
        "context": context,
        "language": language,
        "subject": rendered.subject,
        "body_text": rendered.body_text,
        "body_html": rendered.body_html,
        "created_at": now,
        "send_after": max(send_after, now) if send_after is not None else now,
        "related_object_type": related_object_type,
        "related_object_id": related_id,
        "idempotency_key": key,
    }
    if key is None:
        # Nothing can collide without a key: no savepoint (two statements fewer), and the
        # INSERT written out (``rows.insert``, as ``save()`` writes it).
        message = insert(OutboxMessage(**fields))
    else:
        try:
            # A savepoint, so that losing a race for the key leaves the caller's transaction
            # usable.
            with transaction.atomic():
                message = OutboxMessage.objects.create(**fields)
        except IntegrityError:
            # Another transaction enqueued the same key and committed first.
            existing = _existing(key, template=template, to_email=address, to_person=to_person)
            if existing is None:
                raise
            return existing
    schedule_send_on_commit(str(message.public_id), at=message.send_after)
    return message


def outbox_flush(*, stuck_after: timedelta = STUCK_AFTER, limit: int = 1000) -> int:
    """Re-enqueue messages left behind: queued and overdue by ``stuck_after``, or claimed by a
    worker longer ago than that and never finished. Returns how many were re-enqueued (at most
    ``limit``, oldest first; the next run takes the rest).

    Run periodically (``portal outbox_flush``). A message whose task was merely slow gets a second
    task; that is harmless, the second one finds it sent or being sent and does nothing.
    """
    now = timezone.now()
    cutoff = now - stuck_after
    stuck = Q(status=OutboxMessage.Status.QUEUED, send_after__lte=cutoff) | Q(
        status=OutboxMessage.Status.SENDING, last_attempt_at__lte=cutoff
    )
    requeued = 0
    with transaction.atomic():
        # skip_locked: a message a worker holds right now is not stuck.
        messages = OutboxMessage.objects.select_for_update(skip_locked=True).filter(stuck)
        for message in messages.order_by("id")[:limit]:
            previous = message.status
            message.status = OutboxMessage.Status.QUEUED
            # Due now, and not stuck again for another stuck_after: a run of this function soon
            # after (the worker still down) does not pile up more tasks for the same message.
            message.send_after = now
            message.save(update_fields=["status", "send_after"])
            schedule_send_on_commit(str(message.public_id))
            logger.warning(
                "outbox_message_requeued",
                public_id=str(message.public_id),
                template=message.template,
                previous_status=previous,
                attempts=message.attempts,
            )
            requeued += 1
    return requeued
