"""The catalogue of audit event types: ``<scope>:<resource>:<action>``, no magic strings.

Each issue that adds a capability adds its event types here; a test checks the form and that no two
members share a value. Values are stored in the log, so a value is never changed once released.
"""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    # identity: logins and sessions (R2, R14)
    LOGIN_STARTED = "identity:login:start"
    LOGIN_SUCCEEDED = "identity:login:succeed"
    LOGIN_FAILED = "identity:login:fail"
    LOGIN_CANCELLED = "identity:login:cancel"
    LOGIN_REFUSED = "identity:login:refuse"
    SESSION_ENDED = "identity:session:end"
    SESSION_EXPIRED = "identity:session:expire"
    SESSIONS_ENDED_EVERYWHERE = "identity:session:end-everywhere"
    SIGNATURE_STARTED = "identity:signature:start"
    SIGNATURE_COMPLETED = "identity:signature:complete"
    SIGNATURE_FAILED = "identity:signature:fail"
    SIGNATURE_CANCELLED = "identity:signature:cancel"
    # An order id that is unknown, belongs to another browser session or was already used.
    EID_ORDER_REFUSED = "identity:eid-order:refuse"
    # employers: connection and its end (R6, R7, R17)
    EMPLOYER_STATE_CHANGED = "employers:employer:change-state"
    ENROLMENT_STARTED = "employers:enrolment:start"
    ENROLMENT_SIGNED = "employers:enrolment:sign"
    ENROLMENT_COMPLETED = "employers:enrolment:complete"
    ENROLMENT_EXPIRED = "employers:enrolment:expire"
    ENROLMENT_REFUSED = "employers:enrolment:refuse"
    DEREGISTRATION_REQUESTED = "employers:deregistration:request"
    DEREGISTRATION_REFUSED = "employers:deregistration:refuse"
    DEREGISTRATION_PROCESSED = "employers:deregistration:process"
    DEREGISTRATION_RELEASED = "employers:deregistration:release"
    TERMINATION_NOTIFIED = "employers:termination:notify"
    TERMINATION_WITHDRAWN = "employers:termination:withdraw"
    TERMINATION_TOOK_EFFECT = "employers:termination:take-effect"
    # terms (R16)
    TERMS_ACCEPTED = "terms:acceptance:create"
    TERMS_PUBLISHED = "terms:version:publish"
    # access: memberships, grants, and every denial (R3, R8, R14)
    MEMBERSHIP_CREATED = "access:membership:create"
    MEMBERSHIP_ENDED = "access:membership:end"
    MEMBERSHIP_CHANGED = "access:membership:change"
    MEMBERSHIP_SUSPENDED = "access:membership:suspend"
    MEMBERSHIP_REFUSED = "access:membership:refuse"
    GRANT_CREATED = "access:grant:create"
    GRANT_REVOKED = "access:grant:revoke"
    GRANT_EXPIRED = "access:grant:expire"
    ACCESS_REMOVED_ALL = "access:person:remove-all"
    ACCESS_EXPORTED = "access:export:create"
    ACCESS_IMPORT_PREVIEWED = "access:import:preview"
    ACCESS_IMPORT_APPLIED = "access:import:apply"
    ACCESS_IMPORT_DISCARDED = "access:import:discard"
    REVIEW_SCHEDULED = "access:review:schedule"
    REVIEW_DECIDED = "access:review:decide"
    REVIEW_COMPLETED = "access:review:complete"
    REVIEW_REMINDED = "access:review:remind"
    ACCESS_DENIED = "access:request:deny"
    # reads of personal data (R14): who looked at whom
    EMPLOYER_VIEWED = "employers:employer:view"
    ACCESS_PEOPLE_VIEWED = "access:people:view"
    ACCESS_PERSON_VIEWED = "access:person:view"
    REVIEW_VIEWED = "access:review:view"
    ACTIVITY_VIEWED = "audit:activity:view"
    BACKOFFICE_EMPLOYER_VIEWED = "backoffice:employer:view"
    BACKOFFICE_ENROLMENT_VIEWED = "backoffice:enrolment:view"
    BACKOFFICE_DEREGISTRATION_VIEWED = "backoffice:deregistration:view"
    # e-services (R4)
    SUBMISSION_RECEIVED = "eservices:submission:receive"
    SUBMISSION_VIEWED = "eservices:submission:view"
    SUBMISSIONS_LISTED = "eservices:submission:list"
    DRAFTS_PURGED = "eservices:draft:purge"
    INTAKE_CLIENT_CREATED = "eservices:intake-client:create"
    INTAKE_READ = "eservices:intake:read"
    INTAKE_ACKNOWLEDGED = "eservices:intake:acknowledge"
    INQUIRY_CREATED = "eservices:inquiry:create"
    INQUIRY_ANSWERED = "eservices:inquiry:answer"
    INQUIRY_REMINDED = "eservices:inquiry:remind"
    INQUIRY_VIEWED = "eservices:inquiry:view"
    INQUIRIES_LISTED = "eservices:inquiry:list"
    REGISTER_EXTRACT_MADE = "privacy:register-extract:create"
    RETENTION_PURGED = "privacy:retention:purge"
    ATTACHMENT_UPLOADED = "eservices:attachment:upload"
    ATTACHMENT_REFUSE = "eservices:attachment:refuse"
    ATTACHMENT_REMOVED = "eservices:attachment:remove"
    ATTACHMENT_VIEWED = "eservices:attachment:view"
    # the agency's staff
    STAFF_ROLE_GRANTED = "backoffice:staff-role:grant"
    STAFF_ROLE_REVOKED = "backoffice:staff-role:revoke"
    BACKOFFICE_STAFF_VIEWED = "backoffice:staff:view"
    BACKOFFICE_PERSON_VIEWED = "backoffice:person:view"
    BACKOFFICE_QUEUES_VIEWED = "backoffice:queue:view"
    CONFIRMATION_RESENT = "backoffice:confirmation:resend"
    BACKOFFICE_LOOKUP = "backoffice:employer:look-up"
    ANNOUNCEMENT_PUBLISHED = "backoffice:announcement:publish"
    ANNOUNCEMENT_REVISED = "backoffice:announcement:revise"
    ANNOUNCEMENT_WITHDRAWN = "backoffice:announcement:withdraw"
    OUTAGE_PLANNED = "backoffice:outage:plan"
    OUTAGE_CANCELLED = "backoffice:outage:cancel"
    INCIDENT_DECLARED = "backoffice:incident:declare"
    INCIDENT_CLOSED = "backoffice:incident:close"
    # notices: administrators' e-mail subscriptions to the availability notices (R15)
    NOTICE_SUBSCRIBED = "notices:subscription:create"
    NOTICE_UNSUBSCRIBED = "notices:subscription:end"
    # system: the portal's own housekeeping
    SYSTEM_DEMO_DATA_LOADED = "system:demo-data:load"
    AUDIT_PURGED = "system:audit-log:purge"
    # audit: reading the log itself (an export takes the employer's activity out of the portal)
    ACTIVITY_EXPORTED = "audit:activity:export"


class ActorKind(StrEnum):
    """Who caused an event: a person acting for an employer or themselves, one of the agency's
    staff in the back-office, or the portal itself (a background task, a command)."""

    PERSON = "person"
    STAFF = "staff"
    SYSTEM = "system"


class Outcome(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"
    FAILURE = "failure"


def outcome_of(event_type: EventType) -> Outcome:
    """An event's outcome follows from its action: refusals and denials are ``denied``, failures
    ``failure``, everything else happened as asked."""
    action = str(event_type).rsplit(":", 1)[-1]
    if action in {"deny", "refuse"}:
        return Outcome.DENIED
    if action == "fail":
        return Outcome.FAILURE
    return Outcome.SUCCESS
