"""The outbox end to end: enqueued in a transaction, sent after commit by the task worker over real
SMTP, retried with backoff while the server is away, given up after the last attempt, and
rescued by the safety net when a task is lost."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connections, transaction
from django.utils import translation
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from portal.messaging.models import OutboxMessage
from portal.messaging.services import (
    IdempotencyKeyReused,
    InvalidRecipient,
    OutboxOutsideTransaction,
    outbox_enqueue,
    outbox_flush,
)
from portal.messaging.tasks import retry_delay
from portal.messaging.templates import InvalidContext, UnknownTemplate
from tests.messaging.conftest import Clock
from tests.messaging.smtp_sink import SmtpSink

pytestmark = pytest.mark.django_db

TASK_PATH = "portal.messaging.tasks.send_outbox_message"
RECIPIENT = "anna.andersson@example.se"

SWEDISH = {
    "subject": "Din anmälan har kommit in",
    "paragraphs": [
        "Vi har tagit emot sjukanmälan för Kalle Karlsson.",
        "Du får besked inom två veckor & senast den 1 maj.",
    ],
}
SWEDISH_BODY = """\
Hej!

Vi har tagit emot sjukanmälan för Kalle Karlsson.

Du får besked inom två veckor & senast den 1 maj.

Med vänliga hälsningar
Demomyndigheten

Det här meddelandet går inte att svara på. Har du frågor kan du kontakta kundcenter för partner hos Demomyndigheten:
Telefon: 0771-00 00 00 (vardagar 8–16)
E-post: arbetsgivare@example.se

Skicka aldrig personnummer eller uppgifter om hälsa med vanlig e-post.
"""

ENGLISH = {
    "subject": "Your report has been received",
    "paragraphs": ["We have received the sick report for Kalle Karlsson."],
}
ENGLISH_BODY = """\
Hello,

We have received the sick report for Kalle Karlsson.

Kind regards,
Demomyndigheten

You cannot reply to this message. If you have questions, contact the partner customer centre at Demomyndigheten:
Phone: 0771-00 00 00 (vardagar 8–16)
Email: arbetsgivare@example.se

Never send personal identity numbers or health information by ordinary email.
"""


@pytest.fixture
def enqueue(django_capture_on_commit_callbacks: Any) -> Callable[..., OutboxMessage]:
    """``outbox_enqueue`` in a transaction that commits (its on-commit callbacks run)."""

    def enqueue(**arguments: Any) -> OutboxMessage:
        arguments = {
            "template": "notice",
            "to_email": RECIPIENT,
            "context": SWEDISH,
            **arguments,
        }
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            return outbox_enqueue(**arguments)

    return enqueue


def send_tasks() -> list[DBTaskResult[Any, Any]]:
    return list(DBTaskResult.objects.filter(task_path=TASK_PATH).order_by("enqueued_at"))


def log_events(caplog: pytest.LogCaptureFixture, event: str) -> list[dict[str, Any]]:
    """The structlog event dicts of ``event`` (structlog hands them to the standard library)."""
    return [
        record.msg
        for record in caplog.records
        if isinstance(record.msg, dict) and record.msg.get("event") == event
    ]


# --- Sent after commit ---------------------------------------------------------------------------


def test_a_committed_message_is_sent_once_with_its_subject_body_sender_and_headers(
    smtp_sink: SmtpSink,
    run_tasks: Callable[[], None],
    person: Any,
    django_capture_on_commit_callbacks: Any,
    enqueued_tasks: list[str],
) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = outbox_enqueue(
            template="notice",
            to_email=RECIPIENT,
            to_person=person,
            context=SWEDISH,
            related_object_type="sick-report",
            related_object_id=42,
        )
        # Handed to the task backend at commit, not before.
        assert enqueued_tasks == []
    assert enqueued_tasks == [str(message.public_id)]

    stored = OutboxMessage.objects.get()
    assert stored.public_id == message.public_id
    assert stored.status == OutboxMessage.Status.QUEUED
    assert stored.subject == "Din anmälan har kommit in"
    assert stored.body_text == SWEDISH_BODY
    assert stored.body_html == ""
    assert stored.recipient_person == person
    assert (stored.related_object_type, stored.related_object_id) == ("sick-report", "42")
    assert stored.context == SWEDISH
    # Queued after commit, not sent by the request itself.
    assert [task.args_kwargs["args"] for task in send_tasks()] == [[str(message.public_id)]]
    assert smtp_sink.messages == []

    run_tasks()

    [mail] = smtp_sink.messages
    assert mail.mail_from == "noreply@portal.example.se"
    assert mail.rcpt_tos == [RECIPIENT]
    sent = mail.message
    assert sent["Subject"] == "Din anmälan har kommit in"
    assert sent["To"] == RECIPIENT
    assert sent["From"].addresses[0].display_name == "E-tjänster för arbetsgivare"
    assert sent["From"].addresses[0].addr_spec == "noreply@portal.example.se"
    assert sent["Message-ID"] == f"<outbox.{message.public_id}@portal.example.se>"
    assert sent["Auto-Submitted"] == "auto-generated"
    assert sent["X-Auto-Response-Suppress"] == "All"
    assert sent["Content-Language"] == "sv"
    assert sent.get_content_type() == "text/plain"
    # Plain text: "&" is not HTML-escaped.
    assert mail.text == SWEDISH_BODY

    stored.refresh_from_db()
    assert stored.status == OutboxMessage.Status.SENT
    assert stored.sent_at is not None
    assert stored.attempts == 1
    assert stored.last_error == ""

    # Running the worker again sends nothing more.
    run_tasks()
    assert len(smtp_sink.messages) == 1


def test_a_message_is_rendered_and_sent_in_the_recipients_language(
    smtp_sink: SmtpSink,
    run_tasks: Callable[[], None],
    enqueue: Callable[..., OutboxMessage],
    english_frame: None,
) -> None:
    # The request is in Swedish; the recipient reads English.
    with translation.override("sv"):
        english = enqueue(context=ENGLISH, language="en", to_email="john@example.com")
        swedish = enqueue(context=SWEDISH, language="sv")
        assert translation.get_language() == "sv"

    assert english.subject == "Your report has been received"
    assert english.body_text == ENGLISH_BODY
    assert swedish.body_text == SWEDISH_BODY

    run_tasks()

    received = {mail.rcpt_tos[0]: mail for mail in smtp_sink.messages}
    assert sorted(received) == [RECIPIENT, "john@example.com"]
    assert received["john@example.com"].message["Subject"] == "Your report has been received"
    assert received["john@example.com"].message["Content-Language"] == "en"
    assert received["john@example.com"].text == ENGLISH_BODY
    assert received[RECIPIENT].message["Subject"] == "Din anmälan har kommit in"
    assert received[RECIPIENT].message["Content-Language"] == "sv"
    assert received[RECIPIENT].text == SWEDISH_BODY


def test_nothing_is_queued_or_sent_when_the_transaction_rolls_back(
    smtp_sink: SmtpSink,
    run_tasks: Callable[[], None],
    django_capture_on_commit_callbacks: Any,
    enqueued_tasks: list[str],
) -> None:
    class ChangeFailedError(Exception):
        pass

    def change_that_fails() -> None:
        with transaction.atomic():
            outbox_enqueue(template="notice", to_email=RECIPIENT, context=SWEDISH)
            assert OutboxMessage.objects.count() == 1
            raise ChangeFailedError

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ChangeFailedError),
    ):
        change_that_fails()

    assert callbacks == []
    assert not OutboxMessage.objects.exists()
    # Not even handed to the backend (a backend outside the database could not take it back).
    assert enqueued_tasks == []
    assert send_tasks() == []
    run_tasks()
    assert smtp_sink.messages == []


def test_the_same_idempotency_key_twice_makes_one_message_and_one_mail(
    smtp_sink: SmtpSink, run_tasks: Callable[[], None], enqueue: Callable[..., OutboxMessage]
) -> None:
    first = enqueue(idempotency_key="sick-report:42:received")
    second = enqueue(idempotency_key="sick-report:42:received")
    assert second.pk == first.pk
    assert OutboxMessage.objects.count() == 1
    assert len(send_tasks()) == 1

    run_tasks()
    # And once more after it was sent: still the same message, nothing new to send.
    third = enqueue(idempotency_key="sick-report:42:received")
    run_tasks()

    assert third.pk == first.pk
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.SENT
    assert len(smtp_sink.messages) == 1
    assert len(send_tasks()) == 1


@pytest.mark.parametrize(("key", "savepoints"), [(None, 0), ("sick-report:42:received", 1)])
def test_only_a_message_with_a_key_is_written_in_a_savepoint(
    key: str | None, savepoints: int
) -> None:
    """A key can collide with another transaction's (the savepoint keeps the caller's
    transaction usable when it does); a message without one cannot, and saves two statements."""
    from django.db import connection  # noqa: PLC0415
    from django.test.utils import CaptureQueriesContext  # noqa: PLC0415

    with transaction.atomic(), CaptureQueriesContext(connection) as asked:
        message = outbox_enqueue(
            template="notice", to_email=RECIPIENT, context=SWEDISH, idempotency_key=key
        )
    assert sum(query["sql"].startswith("SAVEPOINT") for query in asked) == savepoints
    assert OutboxMessage.objects.get().pk == message.pk


def test_a_message_without_a_key_is_stored_as_one_with_a_key() -> None:
    """The written-out INSERT (no key) stores what the ORM's does (with a key)."""
    with transaction.atomic():
        plain = outbox_enqueue(template="notice", to_email=RECIPIENT, context=SWEDISH)
        keyed = outbox_enqueue(
            template="notice", to_email=RECIPIENT, context=SWEDISH, idempotency_key="k-1"
        )
    differ = {"id", "public_id", "idempotency_key", "created_at", "send_after"}

    def stored(message: OutboxMessage) -> dict[str, Any]:
        row = OutboxMessage.objects.get(pk=message.pk)
        return {
            field.attname: getattr(row, field.attname)
            for field in OutboxMessage._meta.concrete_fields
            if field.attname not in differ
        }

    assert stored(plain) == stored(keyed)
    assert OutboxMessage.objects.get(pk=plain.pk).public_id == plain.public_id
    assert OutboxMessage.objects.get(pk=plain.pk).context == SWEDISH


def test_an_idempotency_key_cannot_be_reused_for_another_recipient(
    enqueue: Callable[..., OutboxMessage],
) -> None:
    enqueue(idempotency_key="sick-report:42:received")
    with pytest.raises(IdempotencyKeyReused):
        enqueue(idempotency_key="sick-report:42:received", to_email="someone.else@example.se")
    assert OutboxMessage.objects.count() == 1


def test_a_message_with_send_after_waits_until_then(
    smtp_sink: SmtpSink,
    run_tasks: Callable[[], None],
    enqueue: Callable[..., OutboxMessage],
    clock: Clock,
) -> None:
    message = enqueue(send_after=clock.now() + timedelta(hours=2))
    [task] = send_tasks()
    assert task.run_after == message.send_after

    run_tasks()
    assert smtp_sink.messages == []

    clock.advance(timedelta(hours=2))
    run_tasks()
    assert len(smtp_sink.messages) == 1


# --- Refused before anything is written ----------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "not-an-address",
        "anna@",
        "@example.se",
        "Anna <anna@example.se>",
        "anna@example.se\nBcc: everyone@example.se",
        "anna@example.se, bertil@example.se",
        # Valid for Django's validator (up to 320 characters), too long for a mailbox (254).
        "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 59 + ".se",
    ],
)
def test_an_invalid_address_is_refused_before_anything_is_written(
    address: str, django_capture_on_commit_callbacks: Any
) -> None:
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(InvalidRecipient, match="E-postadressen är inte giltig"),
        transaction.atomic(),
    ):
        outbox_enqueue(template="notice", to_email=address, context=SWEDISH)
    assert callbacks == []
    assert not OutboxMessage.objects.exists()
    assert send_tasks() == []


def test_an_unknown_message_type_is_refused_before_anything_is_written(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(UnknownTemplate, match="no message type 'no-such-type'"),
        transaction.atomic(),
    ):
        outbox_enqueue(template="no-such-type", to_email=RECIPIENT, context={})
    assert callbacks == []
    assert not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    ("context", "problem"),
    [
        ({"subject": "Hej"}, "needs paragraphs"),
        ({"paragraphs": ["Text"]}, "needs subject"),
        ({"subject": "", "paragraphs": ["Text"]}, "subject of 0 characters"),
        ({"subject": "x" * 256, "paragraphs": ["Text"]}, "subject of 256 characters"),
        ({"subject": "Hej", "paragraphs": [object()]}, "cannot be stored as JSON"),
    ],
)
def test_a_context_the_type_cannot_use_is_refused(context: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidContext, match=problem), transaction.atomic():
        outbox_enqueue(template="notice", to_email=RECIPIENT, context=context)
    assert not OutboxMessage.objects.exists()


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="language 'de'"), transaction.atomic():
        outbox_enqueue(template="notice", to_email=RECIPIENT, context=SWEDISH, language="de")
    assert not OutboxMessage.objects.exists()


def test_enqueue_refuses_to_run_outside_a_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    # The test itself runs in a transaction; pretend it does not, as a caller without atomic would.
    monkeypatch.setattr(connections["default"], "in_atomic_block", False)
    with pytest.raises(OutboxOutsideTransaction):
        outbox_enqueue(template="notice", to_email=RECIPIENT, context=SWEDISH)
    monkeypatch.undo()
    assert not OutboxMessage.objects.exists()


# --- Retries -------------------------------------------------------------------------------------


def test_retries_wait_1_2_4_8_minutes_and_at_most_an_hour() -> None:
    assert [retry_delay(attempts) for attempts in range(1, 10)] == [
        timedelta(minutes=minutes) for minutes in (1, 2, 4, 8, 16, 32, 60, 60, 60)
    ]


def test_while_the_server_is_down_the_attempt_is_recorded_and_retried_later_then_sent(
    smtp_sink: SmtpSink,
    run_tasks: Callable[[], None],
    enqueue: Callable[..., OutboxMessage],
    clock: Clock,
) -> None:
    smtp_sink.stop()  # nothing listens on its port now: connections are refused
    message = enqueue()

    run_tasks()

    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.QUEUED
    assert message.attempts == 1
    assert message.last_error.startswith("ConnectionRefusedError: ")
    assert message.last_attempt_at is not None
    # A minute after the failure (which came a moment after the attempt began).
    assert (message.send_after - message.last_attempt_at) // timedelta(seconds=1) == 60
    first, retry = send_tasks()
    assert first.status == TaskResultStatus.SUCCESSFUL
    assert first.return_value == "retry"
    assert retry.status == TaskResultStatus.READY
    assert retry.run_after == message.send_after
    assert retry.args_kwargs["args"] == [str(message.public_id)]

    # Not before its time.
    run_tasks()
    message.refresh_from_db()
    assert message.attempts == 1

    smtp_sink.start()
    clock.advance(timedelta(minutes=1))
    run_tasks()

    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.attempts == 2
    [mail] = smtp_sink.messages
    assert mail.message["Message-ID"] == f"<outbox.{message.public_id}@portal.example.se>"
    assert mail.text == SWEDISH_BODY


def test_after_the_last_attempt_the_message_fails_and_an_error_is_logged_without_personal_data(
    smtp_sink: SmtpSink,
    run_tasks: Callable[[], None],
    enqueue: Callable[..., OutboxMessage],
    clock: Clock,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.OUTBOX_MAX_ATTEMPTS = 3
    # A temporary refusal whose reply quotes the address and a personal identity number.
    smtp_sink.refuse(RECIPIENT, f"450 4.2.1 {RECIPIENT} (19121212-1212) is over quota")
    message = enqueue()

    delays = []
    for _attempt in range(3):
        run_tasks()
        message.refresh_from_db()
        if message.status == OutboxMessage.Status.QUEUED:
            assert message.last_attempt_at is not None
            delays.append((message.send_after - message.last_attempt_at) // timedelta(seconds=1))
            clock.advance(message.send_after - clock.now())

    assert delays == [60, 120]
    assert message.status == OutboxMessage.Status.FAILED
    assert message.attempts == 3
    assert message.sent_at is None
    assert message.last_error == (
        "SMTPRecipientsRefused: 450 4.2.1 <address> (19121212-****) is over quota"
    )
    # No further attempt is queued, and no mail went out.
    assert [task.status for task in send_tasks()] == [TaskResultStatus.SUCCESSFUL] * 3
    clock.advance(timedelta(hours=2))
    run_tasks()
    assert smtp_sink.messages == []

    [failed] = log_events(caplog, "outbox_message_failed")
    assert failed["public_id"] == str(message.public_id)
    assert failed["attempts"] == 3
    assert failed["level"] == "error"
    # The portal's own lines (the test's SMTP server logs addresses, as mail servers do).
    logged = " ".join(
        str(record.msg) for record in caplog.records if record.name.startswith("portal.")
    )
    assert "outbox_message_failed" in logged
    assert "1212-1212" not in logged
    assert RECIPIENT not in logged
    assert len(log_events(caplog, "outbox_send_retry")) == 2


def test_a_permanent_refusal_fails_at_once(
    smtp_sink: SmtpSink, run_tasks: Callable[[], None], enqueue: Callable[..., OutboxMessage]
) -> None:
    smtp_sink.refuse(RECIPIENT, "550 5.1.1 No such mailbox")
    message = enqueue()

    run_tasks()

    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED
    assert message.attempts == 1
    assert message.last_error == "SMTPRecipientsRefused: 550 5.1.1 No such mailbox"
    assert len(send_tasks()) == 1


# --- The safety net ------------------------------------------------------------------------------


def test_flush_re_enqueues_a_message_whose_task_was_lost(
    smtp_sink: SmtpSink,
    run_tasks: Callable[[], None],
    clock: Clock,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # Committed, but the process died before the task was enqueued: the callback never ran.
    with django_capture_on_commit_callbacks(execute=False), transaction.atomic():
        message = outbox_enqueue(template="notice", to_email=RECIPIENT, context=SWEDISH)
    assert send_tasks() == []

    clock.advance(timedelta(minutes=14))
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_flush() == 0
    clock.advance(timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_flush() == 1
    assert len(send_tasks()) == 1

    run_tasks()

    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert len(smtp_sink.messages) == 1


def test_flush_re_enqueues_a_message_a_crashed_worker_left_sending(
    smtp_sink: SmtpSink,
    run_tasks: Callable[[], None],
    enqueue: Callable[..., OutboxMessage],
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    message = enqueue()

    class WorkerDiedError(Exception):
        pass

    def die(*args: Any, **kwargs: Any) -> None:
        raise WorkerDiedError

    # The worker dies while talking to the server (here: a bug); the task fails, the row stays.
    with monkeypatch.context() as patch:
        patch.setattr("django.core.mail.EmailMultiAlternatives.send", die)
        run_tasks()
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENDING
    assert message.attempts == 1
    [task] = send_tasks()
    assert task.status == TaskResultStatus.FAILED

    # Another worker is not to take it over while it may still be sending.
    assert outbox_flush() == 0
    clock.advance(timedelta(minutes=16))
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("outbox_flush", stdout=out)
    assert out.getvalue() == "Outbox: 1 stuck messages re-enqueued.\n"
    assert [task.status for task in send_tasks()] == [
        TaskResultStatus.FAILED,
        TaskResultStatus.READY,
    ]
    run_tasks()

    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.attempts == 2
    assert len(smtp_sink.messages) == 1


def test_flush_leaves_sent_failed_and_not_yet_due_messages_alone(
    enqueue: Callable[..., OutboxMessage], clock: Clock
) -> None:
    enqueue(send_after=clock.now() + timedelta(hours=1), idempotency_key="later")
    sent = enqueue(idempotency_key="sent")
    failed = enqueue(idempotency_key="failed")
    OutboxMessage.objects.filter(pk=sent.pk).update(
        status=OutboxMessage.Status.SENT, sent_at=clock.now()
    )
    OutboxMessage.objects.filter(pk=failed.pk).update(status=OutboxMessage.Status.FAILED)
    clock.advance(timedelta(minutes=30))
    assert outbox_flush() == 0


def test_a_message_that_keeps_crashing_the_worker_fails_after_the_last_attempt(
    run_tasks: Callable[[], None],
    enqueue: Callable[..., OutboxMessage],
    settings: Any,
) -> None:
    # Claimed once already, by a worker that died; flush put it back.
    settings.OUTBOX_MAX_ATTEMPTS = 1
    message = enqueue()
    OutboxMessage.objects.filter(pk=message.pk).update(attempts=1, last_error="WorkerDiedError")
    run_tasks()
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED
    assert message.attempts == 1
    assert message.last_error == "WorkerDiedError"
