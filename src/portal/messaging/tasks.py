"""Sending outbox messages in the background, with retries.

``send_outbox_message`` runs in the task worker after the enqueuing transaction has committed. It
claims the message in a short transaction, talks to the mail server outside any transaction (so
that a slow server never holds a database lock, which on SQLite would block every writer), and
records the outcome in another short transaction. Delivery is at least once: a worker that dies
after the server accepted a message but before the outcome was written sends it again later, with
the same Message-ID so that mail systems can tell it is the same message.
"""

from __future__ import annotations

import re
import smtplib
from datetime import datetime, timedelta
from email.utils import parseaddr
from enum import StrEnum

import structlog
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from portal.common.logging import mask_identity_numbers
from portal.messaging.models import OutboxMessage

logger = structlog.get_logger(__name__)

#: The first retry waits this long; each further one twice as long as the one before ...
RETRY_BASE_DELAY = timedelta(minutes=1)
#: ... but never longer than this.
RETRY_MAX_DELAY = timedelta(hours=1)
DEFAULT_MAX_ATTEMPTS = 8
_MAX_ERROR_LENGTH = 255
_PERMANENT_REPLY = 500
_EMAIL_ADDRESS = re.compile(r"[^\s<>()\[\],;:\"']+@[^\s<>()\[\],;:\"']+")


class Outcome(StrEnum):
    """What one run of the task did (its return value, kept in the task's result)."""

    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    SKIPPED = "skipped"
    NOT_DUE = "not-due"
    MISSING = "missing"


def max_attempts() -> int:
    """``OUTBOX_MAX_ATTEMPTS``: attempts in all, the first included, before a message fails."""
    return max(1, int(getattr(settings, "OUTBOX_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS)))


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: 1, 2, 4, 8 ... minutes, at most
    an hour."""
    # The exponent is bounded so that a large count cannot overflow timedelta.
    delay = RETRY_BASE_DELAY * (1 << min(max(attempts, 1) - 1, 16))
    return min(delay, RETRY_MAX_DELAY)


def schedule_send(public_id: str, *, at: datetime | None = None) -> None:
    """Enqueue ``send_outbox_message`` for one message, not before ``at``.

    Called after commit. A backend that cannot defer tasks (the immediate backend) gets the task
    now: the task itself leaves a message that is not yet due, and ``outbox_flush`` picks it up.
    """
    task_ = send_outbox_message
    if at is not None and at > timezone.now() and task_.get_backend().supports_defer:
        task_ = task_.using(run_after=at)
    task_.enqueue(public_id)


def schedule_send_on_commit(public_id: str, *, at: datetime | None = None) -> None:
    """``schedule_send`` once the current transaction commits; never for one rolled back.

    Robust: once the change is committed, a failure to enqueue the task must not become the
    caller's error. It is logged, the message waits in the outbox, and ``outbox_flush`` sends it.
    """

    # A named function, not functools.partial: Django names the callback when it logs a failure.
    def send_outbox_message_after_commit() -> None:
        schedule_send(public_id, at=at)

    transaction.on_commit(send_outbox_message_after_commit, robust=True)


def _message_id(message: OutboxMessage) -> str:
    # Stable across retries: every attempt sends the same message. The domain is the sender's,
    # in its ASCII form, as a Message-ID must be.
    _name, address = parseaddr(str(settings.DEFAULT_FROM_EMAIL))
    domain = address.rpartition("@")[2] or "localhost"
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        domain = "localhost"
    return f"<outbox.{message.public_id}@{domain}>"


def _email(message: OutboxMessage) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient_email],
        headers={
            "Message-ID": _message_id(message),
            # RFC 3834: sent by a machine, so that out-of-office replies are not sent back.
            "Auto-Submitted": "auto-generated",
            # Outlook and Exchange ignore Auto-Submitted and need this for the same purpose.
            "X-Auto-Response-Suppress": "All",
            "Content-Language": message.language,
        },
        connection=get_connection(fail_silently=False),
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    return email


def _describe(error: BaseException) -> str:
    """A short description of a sending error for operators, without addresses or identity
    numbers (a server's reply may quote the recipient)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused) and error.recipients:
        code, reply = next(iter(error.recipients.values()))
        text = f"{type(error).__name__}: {code} {reply.decode('utf-8', 'replace')}"
    elif isinstance(error, smtplib.SMTPResponseException):
        smtp_reply = error.smtp_error
        reply_text = (
            smtp_reply.decode("utf-8", "replace")
            if isinstance(smtp_reply, bytes)
            else str(smtp_reply)
        )
        text = f"{type(error).__name__}: {error.smtp_code} {reply_text}"
    else:
        text = f"{type(error).__name__}: {error}"
    text = mask_identity_numbers(_EMAIL_ADDRESS.sub("<address>", " ".join(text.split())))
    return text[:_MAX_ERROR_LENGTH]


def _is_permanent(error: BaseException) -> bool:
    """A 5xx reply about this message itself (every recipient refused, the content rejected)
    will not change on a retry. Other errors, the server unreachable or refusing us as a
    client (authentication, relaying), are the server's or the configuration's and may pass."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(
            code >= _PERMANENT_REPLY for code, _reply in error.recipients.values()
        )
    return isinstance(error, smtplib.SMTPDataError) and error.smtp_code >= _PERMANENT_REPLY


def _claim(public_id: str) -> OutboxMessage | Outcome:
    """The message, now "sending" and its attempt counted; or the outcome if it is not to be
    sent now."""
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().filter(public_id=public_id).first()
        if message is None:
            return Outcome.MISSING
        if message.status != OutboxMessage.Status.QUEUED:
            # Sent or failed already, or another worker is sending it right now.
            return Outcome.SKIPPED
        now = timezone.now()
        if message.send_after > now:
            # Run early (a backend without deferral, a duplicate task); a task for the right time
            # exists, or outbox_flush enqueues one.
            return Outcome.NOT_DUE
        if message.attempts >= max_attempts():
            # Claimed and lost as often as allowed (a worker crashing on it): give up.
            _fail(message, error=message.last_error or "no attempts left")
            return Outcome.FAILED
        message.status = OutboxMessage.Status.SENDING
        message.attempts += 1
        message.last_attempt_at = now
        message.save(update_fields=["status", "attempts", "last_attempt_at"])
        return message


def _fail(message: OutboxMessage, *, error: str) -> None:
    message.status = OutboxMessage.Status.FAILED
    message.last_error = error
    message.save(update_fields=["status", "last_error"])
    # No recipient address or identity number: the public id leads an operator to the row.
    logger.error(
        "outbox_message_failed",
        public_id=str(message.public_id),
        template=message.template,
        attempts=message.attempts,
        error=error,
    )


def _record_failure(message: OutboxMessage, error: BaseException) -> Outcome:
    description = _describe(error)
    with transaction.atomic():
        locked = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        if locked.status == OutboxMessage.Status.SENT:
            return Outcome.SENT  # another worker sent it meanwhile
        if _is_permanent(error) or locked.attempts >= max_attempts():
            _fail(locked, error=description)
            return Outcome.FAILED
        now = timezone.now()
        locked.status = OutboxMessage.Status.QUEUED
        locked.last_error = description
        locked.send_after = now + retry_delay(locked.attempts)
        locked.save(update_fields=["status", "last_error", "send_after"])
        # After commit, as for the first attempt: a retry must never run before its row says so.
        schedule_send_on_commit(str(locked.public_id), at=locked.send_after)
    logger.warning(
        "outbox_send_retry",
        public_id=str(locked.public_id),
        template=locked.template,
        attempts=locked.attempts,
        retry_at=locked.send_after.isoformat(),
        error=description,
    )
    return Outcome.RETRY


@task()
def send_outbox_message(public_id: str) -> str:
    """Send one outbox message; on a mail server or network error, retry later with backoff."""
    message = _claim(public_id)
    if isinstance(message, Outcome):
        if message == Outcome.MISSING:
            logger.warning("outbox_message_missing", public_id=public_id)
        return message
    try:
        _email(message).send()
    except (smtplib.SMTPException, OSError) as error:
        return _record_failure(message, error)
    # Any other exception is a bug: it fails the task and leaves the message "sending", where
    # outbox_flush finds it and tries again, up to the maximum number of attempts.
    with transaction.atomic():
        OutboxMessage.objects.filter(pk=message.pk).exclude(
            status=OutboxMessage.Status.SENT
        ).update(status=OutboxMessage.Status.SENT, sent_at=timezone.now())
    logger.info(
        "outbox_message_sent",
        public_id=public_id,
        template=message.template,
        attempts=message.attempts,
    )
    return Outcome.SENT
