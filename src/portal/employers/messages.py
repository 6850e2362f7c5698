"""The e-mails about connecting an employer (sent through the outbox)."""

from __future__ import annotations

from portal.messaging.templates import register_template

register_template(
    "enrolment_co_sign",
    "employers/mail/enrolment_co_sign_subject.txt",
    "employers/mail/enrolment_co_sign_body.txt",
    required_context=("employer", "initiator", "expires", "link"),
)
register_template(
    "enrolment_completed",
    "employers/mail/enrolment_completed_subject.txt",
    "employers/mail/enrolment_completed_body.txt",
    required_context=("employer", "number", "terms_version"),
)
register_template(
    "deregistration_confirmed",
    "employers/mail/deregistration_confirmed_subject.txt",
    "employers/mail/deregistration_confirmed_body.txt",
    required_context=("employer", "number", "received_on", "letter"),
)
register_template(
    "terms_changed",
    "employers/mail/terms_changed_subject.txt",
    "employers/mail/terms_changed_body.txt",
    required_context=("employer", "version", "effective_from", "link"),
)
register_template(
    "termination_notified",
    "employers/mail/termination_notified_subject.txt",
    "employers/mail/termination_notified_body.txt",
    required_context=("employer", "number", "effective_on", "reason"),
)
