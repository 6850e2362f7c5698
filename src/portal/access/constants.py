"""The catalogue of permissions: ``<scope>:<resource>:<action>``, no magic strings."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    # An employer's own people
    EMPLOYER_VIEW = "employers:employer:view"
    EMPLOYER_DEREGISTER = "employers:employer:deregister"
    TERMS_ACKNOWLEDGE = "terms:acceptance:create"
    # Access administration (administrators only: the role gives administration, not e-services)
    ACCESS_VIEW = "access:membership:view"
    ACCESS_MANAGE = "access:membership:manage"
    # The employer's activity in the audit log (administrators only)
    ACTIVITY_VIEW = "audit:event:view"
    # Using an e-service: needs a user membership and a grant for that e-service in force
    ESERVICE_VIEW = "eservices:eservice:view"
    ESERVICE_SUBMIT = "eservices:eservice:submit"
    # The agency's staff (from their staff roles, never from memberships)
    BACKOFFICE_EMPLOYER_VIEW = "backoffice:employer:view"
    BACKOFFICE_EMPLOYER_TERMINATE = "backoffice:employer:terminate"
    BACKOFFICE_DEREGISTRATION_REGISTER = "backoffice:deregistration:register"
    BACKOFFICE_ENROLMENT_REGISTER = "backoffice:enrolment:register"
    BACKOFFICE_ENROLMENT_APPROVE = "backoffice:enrolment:approve"
    BACKOFFICE_TERMS_PUBLISH = "backoffice:terms:publish"
    BACKOFFICE_ANNOUNCEMENT_PUBLISH = "backoffice:announcement:publish"
    BACKOFFICE_INQUIRY_CREATE = "backoffice:inquiry:create"
    # The back-office start page: every staff member (it lists what their roles allow)
    BACKOFFICE_HOME = "backoffice:home:view"
    # Staff administration: granting and revoking staff roles
    BACKOFFICE_STAFF_MANAGE = "backoffice:staff:manage"
    # Support (R11): looking a person up, and sending a confirmation again
    BACKOFFICE_PERSON_VIEW = "backoffice:person:view"
    BACKOFFICE_CONFIRMATION_RESEND = "backoffice:confirmation:resend"
    # Planned outages and incidents (R15)
    BACKOFFICE_AVAILABILITY_MANAGE = "backoffice:availability:manage"
    # Work queues with due dates (the page; each queue also needs the permission for its kind)
    BACKOFFICE_QUEUE_VIEW = "backoffice:queue:view"
    # Every queue, whatever the kinds one may handle (oversight: the auditor)
    BACKOFFICE_QUEUE_OVERSEE = "backoffice:queue:oversee"


#: What an active access administrator of a connected employer may do for it.
ADMINISTRATOR_PERMISSIONS = frozenset(
    {
        Permission.EMPLOYER_VIEW,
        Permission.EMPLOYER_DEREGISTER,
        Permission.TERMS_ACKNOWLEDGE,
        Permission.ACCESS_VIEW,
        Permission.ACCESS_MANAGE,
        Permission.ACTIVITY_VIEW,
    }
)
#: What an active user (with or without grants) may do for the employer.
USER_PERMISSIONS = frozenset({Permission.EMPLOYER_VIEW})
#: What a grant's level allows in its e-service (and only there).
LEVEL_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "view": frozenset({Permission.ESERVICE_VIEW}),
    "submit": frozenset({Permission.ESERVICE_VIEW, Permission.ESERVICE_SUBMIT}),
}
ESERVICE_PERMISSIONS = frozenset({Permission.ESERVICE_VIEW, Permission.ESERVICE_SUBMIT})

#: What each staff role may do (role values of backoffice.StaffRole.Role).
STAFF_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "case_worker": frozenset(
        {
            Permission.BACKOFFICE_EMPLOYER_VIEW,
            Permission.BACKOFFICE_EMPLOYER_TERMINATE,
            Permission.BACKOFFICE_DEREGISTRATION_REGISTER,
            Permission.BACKOFFICE_ENROLMENT_REGISTER,
            Permission.BACKOFFICE_ENROLMENT_APPROVE,
            Permission.BACKOFFICE_INQUIRY_CREATE,
            Permission.BACKOFFICE_PERSON_VIEW,
            Permission.BACKOFFICE_CONFIRMATION_RESEND,
            Permission.BACKOFFICE_QUEUE_VIEW,
        }
    ),
    # The partner customer centre looks up and resends confirmations; it never changes access.
    "partner_support": frozenset(
        {
            Permission.BACKOFFICE_EMPLOYER_VIEW,
            Permission.BACKOFFICE_PERSON_VIEW,
            Permission.BACKOFFICE_CONFIRMATION_RESEND,
        }
    ),
    "terms_editor": frozenset(
        {Permission.BACKOFFICE_TERMS_PUBLISH, Permission.BACKOFFICE_ANNOUNCEMENT_PUBLISH}
    ),
    "auditor": frozenset(
        {
            Permission.BACKOFFICE_EMPLOYER_VIEW,
            Permission.BACKOFFICE_PERSON_VIEW,
            Permission.BACKOFFICE_QUEUE_VIEW,
            Permission.BACKOFFICE_QUEUE_OVERSEE,
        }
    ),
    "staff_administrator": frozenset({Permission.BACKOFFICE_STAFF_MANAGE}),
    "operations": frozenset({Permission.BACKOFFICE_AVAILABILITY_MANAGE}),
}
#: Every staff role reaches the back-office start page.
STAFF_ROLES = (
    "case_worker",
    "partner_support",
    "terms_editor",
    "operations",
    "auditor",
    "staff_administrator",
)
STAFF_PERMISSIONS = {
    role: STAFF_PERMISSIONS.get(role, frozenset()) | {Permission.BACKOFFICE_HOME}
    for role in STAFF_ROLES
}
STAFF_ONLY = frozenset().union(*STAFF_PERMISSIONS.values())
