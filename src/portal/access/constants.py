"""The catalogue of permissions: ``<scope>:<resource>:<action>``, no magic strings."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    # An employer's own people
    EMPLOYER_VIEW = "employers:employer:view"
    EMPLOYER_DEREGISTER = "employers:employer:deregister"
    TERMS_ACKNOWLEDGE = "terms:acceptance:create"


#: What an active access administrator of a connected employer may do for it.
ADMINISTRATOR_PERMISSIONS = frozenset(
    {Permission.EMPLOYER_VIEW, Permission.EMPLOYER_DEREGISTER, Permission.TERMS_ACKNOWLEDGE}
)
#: What an active user (with or without grants) may do for the employer.
USER_PERMISSIONS = frozenset({Permission.EMPLOYER_VIEW})
