"""Fixtures for the outbox: a real SMTP server, a clock that can be moved forward, the task worker
run in-process, and English texts for the message frame."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from django.core.management import call_command
from django.utils import timezone
from django_tasks import TaskResult
from django_tasks.signals import task_enqueued

from tests.messaging.smtp_sink import SmtpSink
from tests.support.server import free_port

#: English for the notice frame's texts that are new with the outbox. The portal's catalogue
#: (src/portal/locale/en) gets them with `make makemessages`; until then the tests bring their own.
NOTICE_FRAME_EN = {
    "Hej!": "Hello,",
    "Med vänliga hälsningar": "Kind regards,",
    "Det här meddelandet går inte att svara på. Har du frågor kan du kontakta kundcenter för partner hos %(agency_name)s:": "You cannot reply to this message. If you have questions, contact the partner customer centre at %(agency_name)s:",
}


@pytest.fixture
def smtp_sink(settings: Any) -> Iterator[SmtpSink]:
    """A running SMTP server on 127.0.0.1, and Django's SMTP backend pointed at it."""
    with SmtpSink() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = sink.host
        settings.EMAIL_PORT = sink.port
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 5
        settings.DEFAULT_FROM_EMAIL = "E-tjänster för arbetsgivare <noreply@portal.example.se>"
        yield sink


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: connecting is refused at once."""
    return free_port()


class Clock:
    """``timezone.now()`` for everyone (the portal, the task worker, Django's fields), moved
    forward by the test instead of waiting."""

    def __init__(self, real_now: Callable[[], datetime]) -> None:
        self._real_now = real_now
        self.offset = timedelta()

    def now(self) -> datetime:
        return self._real_now() + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(timezone.now)
    monkeypatch.setattr(timezone, "now", clock.now)
    return clock


@pytest.fixture
def run_tasks(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> Callable[[], None]:
    """Run ``portal db_worker --batch``: every task that is due now, then return.

    The worker runs in this process, inside the test's transaction, and the on-commit callbacks
    of what it runs (a retry enqueuing itself) are run as a real commit would run them.
    """
    # The worker drops "old" connections between tasks; the test's connection is inside its
    # transaction, and closing it would end the test's transaction on PostgreSQL.
    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )

    def run() -> None:
        # The worker installs its own signal handlers; pytest's (Ctrl-C) are put back after.
        saved = {number: signal.getsignal(number) for number in _WORKER_SIGNALS}
        try:
            with django_capture_on_commit_callbacks(execute=True):
                call_command(
                    "db_worker", batch=True, reload=False, startup_delay=False, verbosity=1
                )
        finally:
            for number, handler in saved.items():
                signal.signal(number, handler)

    return run


_WORKER_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)


@pytest.fixture
def english_frame(settings: Any, tmp_path: Path) -> None:
    """The English catalogue with the notice frame's new texts, ahead of the portal's own."""
    catalog = Catalog(locale="en", domain="django")
    for msgid, msgstr in NOTICE_FRAME_EN.items():
        catalog.add(msgid, msgstr)
    directory = tmp_path / "locale" / "en" / "LC_MESSAGES"
    directory.mkdir(parents=True)
    with (directory / "django.mo").open("wb") as file:
        write_mo(file, catalog)
    # Django drops its cached catalogues when LOCALE_PATHS changes (and again when it is reset).
    settings.LOCALE_PATHS = [tmp_path / "locale", *settings.LOCALE_PATHS]


@pytest.fixture(autouse=True)
def agency(settings: Any) -> None:
    """The frame's sign-off, the same whatever the environment running the tests says."""
    settings.AGENCY_NAME = "Demomyndigheten"
    settings.SUPPORT_PHONE = "0771-00 00 00"
    settings.SUPPORT_EMAIL = "arbetsgivare@example.se"
    settings.SUPPORT_HOURS = "vardagar 8–16"


@pytest.fixture
def enqueued_tasks() -> Iterator[list[str]]:
    """The ids of the messages whose sending task was handed to the task backend, as it happens:
    also those a rollback later removes from the database backend's table."""
    enqueued: list[str] = []

    def record(sender: Any, task_result: TaskResult[Any], **kwargs: Any) -> None:
        if task_result.task.name == "send_outbox_message":
            enqueued.extend(str(arg) for arg in task_result.args)

    task_enqueued.connect(record, dispatch_uid="tests.messaging.enqueued_tasks")
    yield enqueued
    task_enqueued.disconnect(dispatch_uid="tests.messaging.enqueued_tasks")
