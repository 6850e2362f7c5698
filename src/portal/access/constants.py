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
        }
    ),
    "partner_support": frozenset({Permission.BACKOFFICE_EMPLOYER_VIEW}),
    "terms_editor": frozenset({Permission.BACKOFFICE_TERMS_PUBLISH}),
    "auditor": frozenset({Permission.BACKOFFICE_EMPLOYER_VIEW}),
}
STAFF_ONLY = frozenset().union(*STAFF_PERMISSIONS.values())
