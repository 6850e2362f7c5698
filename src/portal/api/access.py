"""Access administration in the JSON API (R3, R8): the operations of the pages "Behörigheter",
under ``/api/v1/employers/{employer_id}/access``, so that an employer's HR system can keep access
in step with employments.

Authentication is the person's portal session for now (machine credentials come later), with
Django's CSRF check on every unsafe method. Authorisation is ``access.selectors.employer_for``
(an audited 403 for anyone who is not an active access administrator of the employer), and every
change is a service of ``access.administration``: the API decides nothing the pages do not.

Every change takes a ``reason`` in its JSON body, DELETE included. A reason is free text kept in
the audit log; in the query string it would end up in proxies' and servers' access logs and
browser histories, which the body does not.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Body, Query, Router, Status

from portal import audit
from portal.access import administration, selectors
from portal.access.constants import Permission
from portal.access.models import Grant, Membership, Role
from portal.api.access_schemas import (
    AccessPageOut,
    AccessQuery,
    GrantOut,
    GrantSetIn,
    PersonAccessOut,
    PersonAddIn,
    ReasonIn,
    RoleAddIn,
    RoleName,
)
from portal.api.schemas import ProblemOut
from portal.audit.constants import EventType
from portal.common.errors import NotFoundError
from portal.employers.models import Employer
from portal.identity.models import Person

router = Router(tags=["access"])

_PROBLEMS: dict[int, str] = {
    400: "The request breaks a rule (invalid personal number, unknown e-service, end before "
    "start, blank reason...). `detail` says which, in Swedish.",
    401: "Not logged in.",
    403: "Not an active access administrator of this employer (the refusal is logged), or a "
    "change without the session's CSRF token (send it in the X-CSRFToken header).",
    404: "No such employer, or no such person, grant or role at it.",
    409: "In conflict with the current access: the person already has it, or the change would "
    "leave the employer without an access administrator.",
    422: "The request does not have the documented shape; `errors` lists each field.",
}


def _responses(ok: dict[int, Any], *problems: int) -> dict[int, Any]:
    return {**ok, **dict.fromkeys(problems, ProblemOut)}


def _described(*problems: int) -> dict[str, Any]:
    """Say in the OpenAPI document what each problem response means for this API."""
    return {"responses": {status: {"description": _PROBLEMS[status]} for status in problems}}


def _actor(request: HttpRequest) -> Person:
    # SessionAuth let the request through, so there is a logged-in person.
    user = request.user
    assert isinstance(user, Person)  # noqa: S101 (a guard for the type checker)
    return user


# --- representation ------------------------------------------------------------------------


def _grant_out(grant: Grant) -> GrantOut:
    return GrantOut(
        id=grant.public_id,
        eservice=grant.eservice,
        level=grant.level,  # type: ignore[arg-type]  # the database constrains it to the two
        valid_from=grant.valid_from,
        valid_until=grant.valid_until,
        in_force=grant.in_force(timezone.localdate()),
    )


def _person_out(
    person: Person, memberships: Iterable[Membership], grants: Iterable[Grant]
) -> PersonAccessOut:
    """``memberships`` are the person's open memberships here, ``grants`` their open grants."""
    memberships = sorted(memberships, key=lambda m: m.role)
    return PersonAccessOut(
        id=person.public_id,
        name=person.full_name,
        masked_identifier=person.masked_identifier,
        email=next((m.email for m in memberships if m.email), ""),
        roles=[m.role for m in memberships],  # type: ignore[misc]
        suspended=any(m.suspended_at is not None for m in memberships),
        grants=[_grant_out(grant) for grant in grants],
    )


def _listed(person: Person) -> PersonAccessOut:
    """A person from ``selectors.people``, with their open memberships and grants prefetched."""
    memberships: list[Membership] = getattr(person, "open_memberships", [])
    grants = [
        grant
        for membership in memberships
        if membership.role == Role.USER
        for grant in membership.grants.all()
    ]
    return _person_out(person, memberships, grants)


def _one(employer: Employer, person: Person) -> PersonAccessOut:
    access = selectors.person_access(employer, person)
    open_memberships = [m for m in (access.administrator, access.user) if m is not None]
    return _person_out(person, open_memberships, access.grants)


# --- operations -----------------------------------------------------------------------------


@router.get(
    "/employers/{employer_id}/access",
    response=_responses({200: AccessPageOut}, 401, 403, 404, 422),
    summary="List everyone with access",
    description=(
        "Everyone with an open role at the employer (access administrators and users), with "
        "their roles and grants, one page at a time. The filters are those of the page "
        "“Behörigheter”. Needs the access administrator role."
    ),
    openapi_extra=_described(401, 403, 404, 422),
    operation_id="access_list",
)
def access_list(
    request: HttpRequest, employer_id: UUID, filters: Query[AccessQuery]
) -> AccessPageOut:
    employer = selectors.employer_for(request, employer_id, Permission.ACCESS_VIEW)
    people = selectors.people(
        employer,
        search=filters.search,
        role=filters.role,
        eservice=filters.eservice,
        status=filters.status,
        sort=filters.sort,
    )
    start = (filters.page - 1) * filters.limit
    listed = list(people[start : start + filters.limit])
    audit.record_read(
        EventType.ACCESS_PEOPLE_VIEWED,
        request=request,
        employer=employer,
        data={
            "searched": bool(filters.search),
            "page": filters.page,
            "people": [person.pk for person in listed],
        },
    )
    return AccessPageOut(
        count=people.count(),
        page=filters.page,
        limit=filters.limit,
        items=[_listed(person) for person in listed],
    )


@router.get(
    "/employers/{employer_id}/access/{person_id}",
    response=_responses({200: PersonAccessOut}, 401, 403, 404, 422),
    summary="Show one person's access",
    description=(
        "A person who has, or has had, access at the employer: their open roles and grants "
        "(both empty once all their access has ended). Needs the access administrator role."
    ),
    openapi_extra=_described(401, 403, 404, 422),
    operation_id="access_person",
)
def access_person(request: HttpRequest, employer_id: UUID, person_id: UUID) -> PersonAccessOut:
    employer = selectors.employer_for(request, employer_id, Permission.ACCESS_VIEW)
    person = selectors.person_at(request, employer, person_id)
    audit.record_read(
        EventType.ACCESS_PERSON_VIEWED,
        request=request,
        employer=employer,
        data={"person": person.pk},
    )
    return _one(employer, person)


@router.post(
    "/employers/{employer_id}/access",
    response=_responses({201: PersonAccessOut}, 400, 401, 403, 404, 409, 422),
    summary="Add a person",
    description=(
        "Give a person access: the access administrator role, the user role with grants, or "
        "both. The person need not have logged in before; their name is filled in at their "
        "first login. 409 if they already have access here (change it with the other "
        "operations; the problem's `person` is their id). The other administrators are told "
        "by e-mail."
    ),
    openapi_extra=_described(400, 401, 403, 404, 409, 422),
    operation_id="access_person_add",
)
def access_person_add(
    request: HttpRequest, employer_id: UUID, payload: PersonAddIn
) -> Status[PersonAccessOut]:
    employer = selectors.employer_for(request, employer_id, Permission.ACCESS_MANAGE)
    person = administration.person_add(
        employer=employer,
        actor=_actor(request),
        personal_number=payload.personal_number,
        eidas_identifier=payload.eidas_identifier,
        email=payload.email,
        administrator=payload.administrator,
        user=payload.user,
        grants=[
            administration.GrantSpec(
                eservice=grant.eservice,
                level=grant.level,
                valid_from=grant.valid_from,
                valid_until=grant.valid_until,
            )
            for grant in payload.grants
        ],
        reason=payload.reason,
        request=request,
    )
    return Status(201, _one(employer, person))


@router.post(
    "/employers/{employer_id}/access/{person_id}/grants",
    response=_responses({201: GrantOut}, 400, 401, 403, 404, 422),
    summary="Grant access to an e-service",
    description=(
        "Give a person with the user role access to one e-service at a level, between optional "
        "dates (inclusive). A grant they already have for the e-service is revoked and replaced, "
        "so that the history stays whole. 400 if the person does not have the user role."
    ),
    openapi_extra=_described(400, 401, 403, 404, 422),
    operation_id="access_grant_set",
)
def access_grant_set(
    request: HttpRequest, employer_id: UUID, person_id: UUID, payload: GrantSetIn
) -> Status[GrantOut]:
    employer = selectors.employer_for(request, employer_id, Permission.ACCESS_MANAGE)
    person = selectors.person_at(request, employer, person_id)
    grant = administration.grant_set(
        employer=employer,
        person=person,
        spec=administration.GrantSpec(
            eservice=payload.eservice,
            level=payload.level,
            valid_from=payload.valid_from,
            valid_until=payload.valid_until,
        ),
        reason=payload.reason,
        actor=_actor(request),
        request=request,
    )
    return Status(201, _grant_out(grant))


@router.delete(
    "/employers/{employer_id}/access/{person_id}/grants/{grant_id}",
    response=_responses({204: None}, 400, 401, 403, 404, 422),
    summary="Revoke a grant",
    description=(
        'Revoke one grant at once. The reason goes in a JSON body (`{"reason": "..."}`), not in '
        "the address, so that it stays out of access logs. Revoking a grant already revoked "
        "changes nothing."
    ),
    openapi_extra=_described(400, 401, 403, 404, 422),
    operation_id="access_grant_revoke",
)
def access_grant_revoke(
    request: HttpRequest,
    employer_id: UUID,
    person_id: UUID,
    grant_id: UUID,
    payload: Body[ReasonIn],
) -> Status[None]:
    employer = selectors.employer_for(request, employer_id, Permission.ACCESS_MANAGE)
    person = selectors.person_at(request, employer, person_id)
    grant = selectors.grant_at(request, employer, person, grant_id)
    administration.grant_revoke(
        grant=grant, reason=payload.reason, actor=_actor(request), request=request
    )
    return Status(204, None)


@router.post(
    "/employers/{employer_id}/access/{person_id}/roles",
    response=_responses({201: PersonAccessOut}, 400, 401, 403, 404, 409, 422),
    summary="Give a role",
    description=(
        "Give a person who has access here another role (access administrator or user). "
        "409 if they already have it. Answers with the person's access after the change."
    ),
    openapi_extra=_described(400, 401, 403, 404, 409, 422),
    operation_id="access_role_add",
)
def access_role_add(
    request: HttpRequest, employer_id: UUID, person_id: UUID, payload: RoleAddIn
) -> Status[PersonAccessOut]:
    employer = selectors.employer_for(request, employer_id, Permission.ACCESS_MANAGE)
    person = selectors.person_at(request, employer, person_id)
    administration.role_add(
        employer=employer,
        person=person,
        role=Role(payload.role),
        email=payload.email,
        reason=payload.reason,
        actor=_actor(request),
        request=request,
    )
    return Status(201, _one(employer, person))


@router.delete(
    "/employers/{employer_id}/access/{person_id}/roles/{role}",
    response=_responses({204: None}, 400, 401, 403, 404, 409, 422),
    summary="End a role",
    description=(
        "End one of a person's roles at once; ending the user role revokes its grants too. "
        "409 for the last active access administrator: name another one first. The reason "
        'goes in a JSON body (`{"reason": "..."}`).'
    ),
    openapi_extra=_described(400, 401, 403, 404, 409, 422),
    operation_id="access_role_end",
)
def access_role_end(
    request: HttpRequest,
    employer_id: UUID,
    person_id: UUID,
    role: RoleName,
    payload: Body[ReasonIn],
) -> Status[None]:
    employer = selectors.employer_for(request, employer_id, Permission.ACCESS_MANAGE)
    person = selectors.person_at(request, employer, person_id)
    access = selectors.person_access(employer, person)
    membership = access.administrator if Role(role) == Role.ADMINISTRATOR else access.user
    if membership is None:
        raise NotFoundError(_("Personen har inte den rollen."), code="no-such-role")
    administration.membership_end(
        membership=membership, reason=payload.reason, actor=_actor(request), request=request
    )
    return Status(204, None)


@router.delete(
    "/employers/{employer_id}/access/{person_id}",
    response=_responses({204: None}, 400, 401, 403, 404, 409, 422),
    summary="Remove all access",
    description=(
        "End every role and grant the person has at the employer, for someone who leaves. It "
        "takes effect on their very next request. 409 if it would leave the employer without "
        'an active access administrator. The reason goes in a JSON body (`{"reason": "..."}`).'
    ),
    openapi_extra=_described(400, 401, 403, 404, 409, 422),
    operation_id="access_remove_all",
)
def access_remove_all(
    request: HttpRequest, employer_id: UUID, person_id: UUID, payload: Body[ReasonIn]
) -> Status[None]:
    employer = selectors.employer_for(request, employer_id, Permission.ACCESS_MANAGE)
    person = selectors.person_at(request, employer, person_id)
    administration.access_remove_all(
        employer=employer,
        person=person,
        reason=payload.reason,
        actor=_actor(request),
        request=request,
    )
    return Status(204, None)
