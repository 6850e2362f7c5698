"""The catalogue of message types: registering from another app, rendering text and HTML, the
system check, and the immediate task backend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.utils import translation

from portal.messaging import templates
from portal.messaging.checks import check_message_templates
from portal.messaging.models import OutboxMessage
from portal.messaging.services import outbox_enqueue
from portal.messaging.templates import register_template, render
from tests.messaging.smtp_sink import SmtpSink


@pytest.fixture
def own_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registrations made by the test are forgotten after it."""
    monkeypatch.setattr(templates, "_registry", dict(templates._registry))


@pytest.fixture
def template_dir(settings: Any, tmp_path: Path) -> Callable[[str, str], None]:
    """A template directory of the test's own, searched first; returns a writer of templates."""
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**engine, "DIRS": [tmp_path, *engine["DIRS"]]}]

    def write(name: str, text: str) -> None:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    return write


def test_another_app_registers_its_own_type_with_an_html_body(
    own_registry: None,
    template_dir: Callable[[str, str], None],
    smtp_sink: SmtpSink,
    run_tasks: Callable[[], None],
    django_capture_on_commit_callbacks: Any,
    db: Any,
) -> None:
    template_dir("employers/mail/invitation_subject.txt", "Inbjudan från {{ employer }}\n")
    template_dir(
        "employers/mail/invitation.txt",
        "{{ employer }} har bjudit in dig.\n\n\n\nÖppna {{ url }}\n",
    )
    template_dir(
        "employers/mail/invitation.html",
        '<p>{{ employer }} har bjudit in dig.</p><p><a href="{{ url }}">Öppna</a></p>',
    )
    register_template(
        "employers-invitation",
        "employers/mail/invitation_subject.txt",
        "employers/mail/invitation.txt",
        html_template="employers/mail/invitation.html",
        required_context=["employer", "url"],
    )
    assert check_message_templates() == []
    context = {"employer": "Bygg & Betong <AB>", "url": "https://portal.example.se/inbjudan/1"}

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        message = outbox_enqueue(
            template="employers-invitation", to_email="bo@example.se", context=context
        )
    run_tasks()

    # Text as written (no HTML escaping, at most one empty line), HTML escaped.
    assert message.subject == "Inbjudan från Bygg & Betong <AB>"
    assert message.body_text == (
        "Bygg & Betong <AB> har bjudit in dig.\n\nÖppna https://portal.example.se/inbjudan/1\n"
    )
    assert message.body_html == (
        "<p>Bygg &amp; Betong &lt;AB&gt; har bjudit in dig.</p>"
        '<p><a href="https://portal.example.se/inbjudan/1">Öppna</a></p>'
    )
    [mail] = smtp_sink.messages
    assert mail.message.get_content_type() == "multipart/alternative"
    assert mail.message["Subject"] == "Inbjudan från Bygg & Betong <AB>"
    assert mail.text == message.body_text
    assert mail.html == message.body_html
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.SENT


def test_template_names_default_to_messaging_code(own_registry: None) -> None:
    entry = register_template("employers-reminder")
    assert entry.subject_template == "messaging/employers-reminder/subject.txt"
    assert entry.body_template == "messaging/employers-reminder/body.txt"
    assert entry.html_template is None
    # The same registration again (a module imported twice) is harmless.
    assert register_template("employers-reminder") == entry


def test_a_taken_code_cannot_be_registered_with_other_templates(own_registry: None) -> None:
    with pytest.raises(ValueError, match="already registered"):
        register_template("notice", "other/subject.txt", "other/body.txt")
    assert templates.get_template("notice").subject_template == "messaging/notice/subject.txt"


@pytest.mark.parametrize("code", ["", "Notice", "with space", "ä-type", "-x", "x" * 65])
def test_a_code_must_be_a_short_lowercase_slug(own_registry: None, code: str) -> None:
    with pytest.raises(ValueError, match="must be lowercase"):
        register_template(code)


def test_the_system_check_reports_a_type_whose_templates_are_missing(
    own_registry: None, template_dir: Callable[[str, str], None]
) -> None:
    template_dir("messaging/broken/subject.txt", "{% if %}\n")
    register_template("broken")

    problems = check_message_templates()

    assert [(problem.id, problem.msg) for problem in problems] == [
        ("messaging.E002", problems[0].msg),
        (
            "messaging.E001",
            "message type 'broken': template 'messaging/broken/body.txt' does not exist",
        ),
    ]
    assert "messaging/broken/subject.txt" in problems[0].msg


def test_the_built_in_notice_passes_the_system_check() -> None:
    assert check_message_templates() == []


def test_rendering_does_not_change_the_active_language(english_frame: None) -> None:
    with translation.override("sv"):
        rendered = render(
            "notice", context={"subject": "Hello", "paragraphs": ["Text"]}, language="en"
        )
        assert translation.get_language() == "sv"
    assert rendered.body_text.startswith("Hello,\n\nText\n\nKind regards,\n")


def test_with_the_immediate_backend_the_message_is_sent_at_commit(
    settings: Any,
    smtp_sink: SmtpSink,
    django_capture_on_commit_callbacks: Any,
    db: Any,
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        outbox_enqueue(
            template="notice",
            to_email="bo@example.se",
            context={"subject": "Ämne", "paragraphs": ["Text."]},
        )
        assert smtp_sink.messages == []

    [mail] = smtp_sink.messages
    assert mail.message["Subject"] == "Ämne"
    assert OutboxMessage.objects.get().status == OutboxMessage.Status.SENT
