"""The e-mails of the inquiries (sent through the outbox): a new inquiry, and the reminders."""

from __future__ import annotations

from portal.messaging.templates import register_template

register_template(
    "inquiry_received",
    "eservices/inquiries/mail/received_subject.txt",
    "eservices/inquiries/mail/received_body.txt",
    required_context=("employer", "reference", "kind", "due_date", "link"),
)
register_template(
    "inquiry_reminder",
    "eservices/inquiries/mail/reminder_subject.txt",
    "eservices/inquiries/mail/reminder_body.txt",
    required_context=("employer", "reference", "kind", "due_date", "overdue", "link"),
)
