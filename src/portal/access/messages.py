"""The e-mails about access: changes told to the other administrators, expired grants, and
reminders of access reviews."""

from __future__ import annotations

from portal.messaging.templates import register_template

register_template(
    "access_changed",
    "access/mail/access_changed_subject.txt",
    "access/mail/access_changed_body.txt",
    required_context=("employer", "person", "changes", "by", "link"),
)
register_template(
    "access_grant_expired",
    "access/mail/access_grant_expired_subject.txt",
    "access/mail/access_grant_expired_body.txt",
    required_context=("employer", "eservice", "valid_until"),
)
register_template(
    "access_review_reminder",
    "access/mail/review_reminder_subject.txt",
    "access/mail/review_reminder_body.txt",
    required_context=("employer", "due_on", "days", "suspends_on", "link"),
)
