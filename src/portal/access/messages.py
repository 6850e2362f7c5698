"""The e-mails about access: changes told to the other administrators, expired grants."""

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
