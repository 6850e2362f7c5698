"""Request and response bodies of the access administration operations (``/api/v1/employers/
{employer_id}/access``).

Validation of the domain rules (personal numbers, e-service codes, dates, reasons) is left to
``portal.access.administration``, so that the API refuses exactly what the pages refuse, with the
same Swedish message (400). The schemas only check shapes and closed vocabularies (422).
Personal identity numbers are accepted in requests and never returned: responses carry the masked
form only.
"""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from ninja import Field, Schema
from pydantic import field_validator

RoleName = Literal["administrator", "user"]
LevelName = Literal["view", "submit"]

_REASON = (
    "Why the change is made, in a few words (at most 500 characters). Kept in the employer's "
    "audit log; never write personal identity numbers here."
)


class GrantOut(Schema):
    """A grant to one e-service (not revoked; possibly not yet started or past its last day)."""

    id: UUID = Field(description="The grant's public id.")
    eservice: str = Field(description="The e-service's code, as listed by GET /api/v1/status.")
    level: LevelName = Field(description="`view` (see) or `submit` (see and submit).")
    valid_from: date = Field(description="First day of the grant (inclusive).")
    valid_until: date | None = Field(
        description="Last day of the grant (inclusive); null for no end."
    )
    in_force: bool = Field(description="Whether the grant is within its dates today.")


class PersonAccessOut(Schema):
    """A person's access at the employer: their roles and grants now."""

    id: UUID = Field(description="The person's public id.")
    name: str = Field(
        description="Name from the person's e-ID; empty until they have logged in once."
    )
    masked_identifier: str = Field(
        description=(
            "The personal identity number with its last four digits hidden (19121212-****). The "
            "full number is never returned."
        )
    )
    email: str = Field(description="The e-mail address given for the person at this employer.")
    roles: list[RoleName] = Field(
        description="The person's open roles here; empty once all their access has ended."
    )
    suspended: bool = Field(
        description="Whether a role is suspended because an access review was not done in time."
    )
    grants: list[GrantOut] = Field(description="The person's grants (user role only).")


class AccessPageOut(Schema):
    """One page of the people with access at an employer, sorted as asked."""

    count: int = Field(description="How many people match the filters, on all pages.")
    page: int = Field(description="This page's number, from 1.")
    limit: int = Field(description="At most this many people per page.")
    items: list[PersonAccessOut]


class AccessQuery(Schema):
    """Filters and paging for the list of people with access."""

    search: str = Field(
        "",
        max_length=100,
        description=(
            "Words of the name, or at least four digits of the personal number (an address may "
            "be kept in proxies' logs: prefer names, or a fragment of the number)."
        ),
    )
    role: Literal["", "administrator", "user"] = Field("", description="Only people with a role.")
    eservice: str = Field(
        "", max_length=32, description="Only people with a grant to this e-service code."
    )
    status: Literal["", "active", "expiring", "suspended", "no-grants"] = Field(
        "",
        description=(
            "`active`: a role in force now; `expiring`: a grant ending within 30 days; "
            "`suspended`: a role suspended by an overdue review; `no-grants`: a user without "
            "grants."
        ),
    )
    sort: Literal["name", "added", "reviewed"] = Field(
        "name", description="By name, newest first, or least recently reviewed first."
    )
    page: int = Field(1, ge=1, description="Page number, from 1.")
    limit: int = Field(50, ge=1, le=200, description="People per page (1–200).")


class GrantIn(Schema):
    eservice: str = Field(max_length=32, description="An e-service code (see GET /api/v1/status).")
    level: LevelName = Field(description="`view` (see) or `submit` (see and submit).")
    valid_from: date | None = Field(None, description="First day (inclusive); today if omitted.")
    valid_until: date | None = Field(
        None, description="Last day (inclusive); no end if omitted. Not before valid_from."
    )


def _email(value: str) -> str:
    value = value.strip()
    if value:
        try:
            validate_email(value)
        except DjangoValidationError:
            msg = "not a valid e-mail address"
            raise ValueError(msg) from None
    return value


class PersonAddIn(Schema):
    personal_number: str = Field(
        "",
        max_length=20,
        description=(
            "Personal or coordination number, as YYYYMMDD-NNNN (other usual forms too). Give "
            "either this or `eidas_identifier`."
        ),
    )
    eidas_identifier: str = Field(
        "",
        max_length=256,
        description=(
            "For a person who logs in with a foreign e-ID through eIDAS and has no Swedish "
            "number: their eIDAS person identifier, e.g. `DE/SE/1234567890`."
        ),
    )
    email: str = Field(
        "", max_length=254, description="Where the portal writes to the person about this access."
    )
    administrator: bool = Field(default=False, description="Give the access administrator role.")
    user: bool = Field(default=False, description="Give the user role (needed for grants).")
    grants: list[GrantIn] = Field(
        default_factory=list, description="Grants to e-services (user role only)."
    )
    reason: str = Field(description=_REASON)

    @field_validator("email")
    @classmethod
    def email_is_valid(cls, value: str) -> str:
        return _email(value)


class GrantSetIn(GrantIn):
    reason: str = Field(description=_REASON)


class RoleAddIn(Schema):
    role: RoleName = Field(description="The role to give.")
    email: str = Field(
        "",
        max_length=254,
        description="E-mail for this role; the address of the person's other role if omitted.",
    )
    reason: str = Field(description=_REASON)

    @field_validator("email")
    @classmethod
    def email_is_valid(cls, value: str) -> str:
        return _email(value)


class ReasonIn(Schema):
    reason: str = Field(description=_REASON)
