"""Reads for access administration, and the one way views fetch an employer they act on.

Views never look employers (or their people) up themselves: ``employer_for`` fetches the employer
and asks ``access.require`` in one step, so that a page cannot forget the check, and a person who
is not one of the employer's people gets an audited 403 whatever the address they try.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from typing import NoReturn, cast
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from portal import audit
from portal.access.constants import Permission
from portal.access.models import Grant, Level, Membership, Role
from portal.access.services import (
    LayoutMembership,
    employer_deciding,
    grants_in_force,
    memberships_in_force,
    require,
)
from portal.audit.constants import EventType
from portal.common.rows import column_list, instances, read
from portal.employers.models import Employer
from portal.eservices import registry
from portal.identity.eidas_identifiers import InvalidEidasIdentifier, normalise_eidas_identifier
from portal.identity.models import Person

#: Where ``layout_memberships`` keeps its answer for the rest of the request.
_LAYOUT_MEMBERSHIPS = "_portal_layout_memberships"


def layout_memberships(request: HttpRequest) -> list[LayoutMembership]:
    """The logged-in person's memberships in force, with their employers: what the layout's
    header and banners show (the employer acted for, new terms, a termination). Read once per
    request, when the page is rendered, and shared by the context processors that need it.

    For showing only: whether the person may do anything is still asked of ``access.can``.
    """
    known = getattr(request, _LAYOUT_MEMBERSHIPS, None)
    if known is None:
        person = getattr(request, "user", None)
        known = memberships_in_force(person) if isinstance(person, Person) else []
        setattr(request, _LAYOUT_MEMBERSHIPS, known)
    return known


def employer_for(
    request: HttpRequest, public_id: UUID | str, action: Permission, *, eservice: str | None = None
) -> Employer:
    """The employer with ``public_id``, if the logged-in person may do ``action`` for it.

    404 for an employer that does not exist; an audited 403 for one the person may not act for.
    """
    # Every employer's page starts here: the employer is read with a written-out statement, on
    # an e-service page together with what the decision needs (services.employer_deciding).
    actor = request.user if isinstance(request.user, Person) else None
    employer = employer_deciding(public_id, actor, eservice)
    if employer is None:
        raise Http404
    require(actor, action, employer=employer, eservice=eservice, request=request)
    return employer


def person_at(request: HttpRequest, employer: Employer, person_public_id: UUID | str) -> Person:
    """A person who has or has had access at ``employer``; an audited 404 for anyone else (an
    address naming someone of another employer is a probe worth knowing about)."""
    person = person_of(employer, person_public_id)
    if person is None:
        refuse_not_found(request, employer, person=str(person_public_id))
    assert person is not None  # noqa: S101 (_not_found raises)
    return person


#: The person with a public id who has or has had a membership at an employer.
_PERSON_OF_SQL = (
    "SELECT {p} FROM identity_person p WHERE p.public_id = %s AND EXISTS"
    " (SELECT 1 FROM access_membership m WHERE m.employer_id = %s AND m.person_id = p.id)"
)


def person_of(employer: Employer, person_public_id: UUID | str) -> Person | None:
    """The person with ``person_public_id`` if they have or have had a membership at
    ``employer``, else None: ``Person.objects.filter(public_id=..., memberships__employer=...)
    .first()`` written out as one statement (tests/access/test_change_queries.py)."""
    key = Person._meta.get_field("public_id")
    try:
        prepared = key.get_db_prep_value(key.to_python(person_public_id), connection)
    except (ValidationError, ValueError, TypeError):  # not an id: nobody has it
        return None
    found = instances(
        _PERSON_OF_SQL.format(p=column_list(Person, "p")), [prepared, employer.pk], Person
    )
    return found[0][0] if found else None


#: ``Grant.objects.filter(public_id=..., membership__employer=..., membership__person=...)
#: .select_related("membership__employer", "membership__person").first()``: the grant an
#: administrator revokes (tests/access/test_change_queries.py holds it to that).
_GRANT_AT_SQL = (
    "SELECT {g}, {m}, {e}, {p} FROM access_grant g"
    " JOIN access_membership m ON m.id = g.membership_id"
    " JOIN employers_employer e ON e.id = m.employer_id"
    " JOIN identity_person p ON p.id = m.person_id"
    " WHERE g.public_id = %s AND m.employer_id = %s AND m.person_id = %s ORDER BY g.id LIMIT 1"
)


def grant_at(
    request: HttpRequest, employer: Employer, person: Person, grant_public_id: UUID | str
) -> Grant:
    grant = grant_of(employer, person, grant_public_id)
    if grant is None:
        refuse_not_found(request, employer, grant=str(grant_public_id))
    assert grant is not None  # noqa: S101 (_not_found raises)
    return grant


def grant_of(employer: Employer, person: Person, grant_public_id: UUID | str) -> Grant | None:
    """The grant with ``grant_public_id`` of ``person`` at ``employer``, with its membership, the
    employer and the person; None if there is none (or the id is not one)."""
    field = Grant._meta.get_field("public_id")
    try:
        public_id = field.get_db_prep_value(field.to_python(grant_public_id), connection)
    except ValidationError:
        return None
    found = instances(
        _GRANT_AT_SQL.format(
            g=column_list(Grant, "g"),
            m=column_list(Membership, "m"),
            e=column_list(Employer, "e"),
            p=column_list(Person, "p"),
        ),
        [public_id, employer.pk, person.pk],
        Grant,
        Membership,
        Employer,
        Person,
    )
    if not found:
        return None
    grant, membership, its_employer, its_person = found[0]
    membership.employer, membership.person = its_employer, its_person
    grant.membership = membership
    return cast("Grant", grant)


def refuse_not_found(request: HttpRequest, employer: Employer, **asked: str) -> NoReturn:
    with transaction.atomic():
        audit.record(
            EventType.ACCESS_DENIED,
            actor=request.user if isinstance(request.user, Person) else None,
            request=request,
            object_type="employer",
            object_id=str(employer.public_id),
            data={"reason": "not-at-employer", **asked},
        )
    raise Http404


# --- the list of everyone with access -------------------------------------------------------


class Sort(StrEnum):
    NAME = "name"
    ADDED = "added"
    REVIEWED = "reviewed"


class Status(StrEnum):
    ALL = ""
    ACTIVE = "active"
    EXPIRING = "expiring"
    SUSPENDED = "suspended"
    NO_GRANTS = "no-grants"


EXPIRING_WITHIN_DAYS = 30


def person_search_condition(word: str, prefix: str = "") -> Q:
    """People one word of a search matches: by name, by a fragment of at least four digits of
    their personal number, or by (a fragment of) the eIDAS identifier of a foreign e-ID. A word
    with a slash or four digits is looked for in eIDAS identifiers, so that a name does not match
    letters inside someone's identifier."""
    digits = "".join(ch for ch in word if ch.isascii() and ch.isdigit())
    condition = Q(**{f"{prefix}given_name__icontains": word}) | Q(
        **{f"{prefix}surname__icontains": word}
    )
    if len(digits) >= 4:  # noqa: PLR2004 (a fragment of a personal number)
        condition |= Q(**{f"{prefix}personal_number__contains": digits})
    if "/" in word or len(digits) >= 4:  # noqa: PLR2004
        try:
            whole = normalise_eidas_identifier(word)
        except InvalidEidasIdentifier:
            whole = ""
        condition |= Q(**{f"{prefix}eidas_identifier__contains": word})
        if whole:
            condition |= Q(**{f"{prefix}eidas_identifier": whole})
    return condition


def people(
    employer: Employer,
    *,
    search: str = "",
    role: str = "",
    eservice: str = "",
    status: str = "",
    sort: str = Sort.NAME,
    prefetch: bool = True,
) -> QuerySet[Person]:
    """Everyone with an open membership at ``employer``, with their memberships and open grants
    prefetched (a fixed number of queries whatever the number of people or grants; without
    ``prefetch``, the people alone, for ``open_memberships_of``)."""
    open_memberships = Membership.objects.open().filter(employer=employer)
    queryset = Person.objects.filter(pk__in=open_memberships.values("person"))
    if search:
        words = search.split()
        for word in words:
            queryset = queryset.filter(person_search_condition(word))
    if role in Role.values:
        queryset = queryset.filter(pk__in=open_memberships.filter(role=role).values("person"))
    today = timezone.localdate()
    open_grants = Grant.objects.open().filter(membership__employer=employer)
    if eservice:
        queryset = queryset.filter(
            pk__in=open_grants.filter(eservice=eservice).values("membership__person")
        )
    if status == Status.ACTIVE:
        queryset = queryset.filter(pk__in=open_memberships.active().values("person"))
    elif status == Status.SUSPENDED:
        queryset = queryset.filter(
            pk__in=open_memberships.filter(suspended_at__isnull=False).values("person")
        )
    elif status == Status.EXPIRING:
        queryset = queryset.filter(
            pk__in=open_grants.filter(
                valid_until__gte=today,
                valid_until__lte=today + timedelta(days=EXPIRING_WITHIN_DAYS),
            ).values("membership__person")
        )
    elif status == Status.NO_GRANTS:
        queryset = queryset.filter(
            pk__in=open_memberships.filter(role=Role.USER)
            .annotate(open_grants=Count("grants", filter=Q(grants__ended_at__isnull=True)))
            .filter(open_grants=0)
            .values("person")
        )
    if sort == Sort.ADDED:
        queryset = queryset.annotate(
            added=Max("memberships__created_at", filter=Q(memberships__employer=employer))
        ).order_by("-added", "pk")
    elif sort == Sort.REVIEWED:
        queryset = queryset.annotate(
            reviewed=Min("memberships__last_reviewed_at", filter=Q(memberships__employer=employer))
        ).order_by(F("reviewed").asc(nulls_first=True), "pk")
    else:
        queryset = queryset.order_by("surname", "given_name", "personal_number", "pk")
    if not prefetch:
        return queryset
    return queryset.prefetch_related(
        Prefetch(
            "memberships",
            queryset=open_memberships.order_by("role").prefetch_related(
                Prefetch("grants", queryset=Grant.objects.open().order_by("eservice"))
            ),
            to_attr="open_memberships",
        )
    )


#: ``people(employer)`` (no search, no filter, by name) one page at a time, with the number of
#: people: the list of people as an administrator first sees it, written out.
_PEOPLE_BY_NAME_SQL = (
    "SELECT {p}, COUNT(*) OVER () FROM identity_person p"
    " WHERE p.id IN (SELECT m.person_id FROM access_membership m"
    " WHERE m.employer_id = %s AND m.ended_at IS NULL)"
    " ORDER BY p.surname, p.given_name, p.personal_number, p.id LIMIT %s OFFSET %s"
)


def people_by_name(
    employer: Employer, *, offset: int, limit: int, fields: Sequence[str]
) -> tuple[list[Person], int]:
    """``people(employer, prefetch=False).only(*fields)[offset:offset + limit]`` and the number of
    everyone in ``people(employer)``, in one written-out statement (tests/access/
    test_people_rows.py holds it to the ORM's); the number is 0 when the page is empty."""
    wanted = {"id", *fields}
    # In the model's order of fields, as ``from_db`` takes the values of some of them.
    read_fields = [field for field in Person._meta.concrete_fields if field.name in wanted]
    quote = connection.ops.quote_name
    sql = _PEOPLE_BY_NAME_SQL.format(
        p=", ".join(f"p.{quote(str(field.column))}" for field in read_fields)
    )
    rows = read(Person, sql, [employer.pk, limit, offset], read_fields)
    attnames = [field.attname for field in read_fields]
    people = [Person.from_db(connection.alias, attnames, row[: len(attnames)]) for row in rows]
    return people, (rows[0][-1] if rows else 0)


@dataclass(frozen=True)
class OpenMembership:
    """A membership that has not ended, as the list of people shows it, with its open grants
    as (e-service, level, last day or None), by e-service."""

    role: str
    suspended: bool
    grants: list[tuple[str, str, date | None]]


#: ``people``'s prefetch written out (the list of people is the administrators' commonest page):
#: the open memberships of some people at an employer, with their open grants, in its order.
_OPEN_MEMBERSHIPS_SQL = (
    "SELECT m.person_id, m.id, m.role, m.suspended_at IS NOT NULL,"
    " g.eservice, g.level, g.valid_until"
    " FROM access_membership m"
    " LEFT JOIN access_grant g ON g.membership_id = m.id AND g.ended_at IS NULL"
    " WHERE m.employer_id = %s AND m.ended_at IS NULL AND m.person_id IN ({people})"
    " ORDER BY m.role, m.id, g.eservice, g.id"
)


def open_memberships_of(
    employer: Employer, person_ids: Sequence[int]
) -> dict[int, list[OpenMembership]]:
    """What ``people`` prefetches, for the people with ``person_ids`` (one page of them): each
    one's open memberships at ``employer`` by role, each with its open grants by e-service."""
    if not person_ids:
        return {}
    sql = _OPEN_MEMBERSHIPS_SQL.format(people=", ".join(["%s"] * len(person_ids)))
    with connection.cursor() as cursor:
        cursor.execute(sql, [employer.pk, *person_ids])
        rows = cursor.fetchall()
    found: dict[int, list[OpenMembership]] = {}
    by_id: dict[int, OpenMembership] = {}
    for person_id, membership_id, role, suspended, eservice, level, until in rows:
        membership = by_id.get(membership_id)
        if membership is None:
            membership = by_id[membership_id] = OpenMembership(role, bool(suspended), [])
            found.setdefault(person_id, []).append(membership)
        if eservice is not None:
            # SQLite gives dates as text.
            last_day = date.fromisoformat(until) if isinstance(until, str) else until
            membership.grants.append((eservice, level, last_day))
    return found


# --- "what can this person do?" -------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    """One thing a person can (or could, or will be able to) do, in plain words."""

    text: str | Promise
    in_force: bool
    note: str | Promise = ""


@dataclass
class PersonAccess:
    person: Person
    administrator: Membership | None = None
    user: Membership | None = None
    grants: list[Grant] = field(default_factory=list)
    #: The most recently ended roles and grants, at most ``HISTORY_SHOWN`` of each, newest first.
    ended: list[Membership] = field(default_factory=list)
    ended_grants: list[Grant] = field(default_factory=list)
    #: Whether there are older ended roles or grants than those (the activity log has them all).
    more_history: bool = False
    statements: list[Statement] = field(default_factory=list)

    @property
    def has_access(self) -> bool:
        return self.administrator is not None or self.user is not None

    @property
    def email(self) -> str:
        for membership in (self.administrator, self.user):
            if membership is not None and membership.email:
                return membership.email
        return ""


def person_access(employer: Employer, person: Person, *, today: date | None = None) -> PersonAccess:
    """Everything ``person`` can do at ``employer``, as facts and as sentences for the page
    "Vad kan personen göra?"."""
    day = today or timezone.localdate()
    result = PersonAccess(person=person)
    keys = [employer.pk, person.pk]
    # The page of a person is among the administrators' commonest: its open roles with their open
    # grants and the latest of its history are read with one written-out statement (the ORM
    # expressions its parts stand for are in tests/access/test_layout_queries.py).
    opened: list[tuple[Membership, Grant]] = []
    for part, _n, membership, grant in instances(
        _person_access_sql(),
        [Role.USER.value, *keys, *keys, HISTORY_SHOWN + 1, *keys, HISTORY_SHOWN + 1],
        Membership,
        Grant,
        plain=2,
    ):
        if part == _OPEN:
            if membership.role == Role.ADMINISTRATOR:
                result.administrator = membership
            else:
                result.user = membership
            opened.append((membership, grant))
        elif part == _ENDED:
            result.ended.append(membership)
        else:
            grant.membership = membership
            result.ended_grants.append(grant)
    if result.user is not None:
        result.grants = [
            grant
            for membership, grant in opened
            if grant.pk is not None and membership.pk == result.user.pk
        ]
        for grant in result.grants:
            grant.membership = result.user
    result.more_history = len(result.ended) > HISTORY_SHOWN or (
        len(result.ended_grants) > HISTORY_SHOWN
    )
    del result.ended[HISTORY_SHOWN:], result.ended_grants[HISTORY_SHOWN:]
    result.statements = _statements(employer, result, day)
    return result


#: How many ended roles and ended grants a person's page lists (the newest).
HISTORY_SHOWN = 10

#: The three parts of ``_PERSON_ACCESS_SQL``, its first column.
_OPEN, _ENDED, _ENDED_GRANT = 1, 2, 3
#: A person's access at an employer in one statement (parameters: the user role, then the
#: employer's and the person's keys for each part, and the number of rows of history wanted after
#: each of the last two), each row a part, its place in the part, a membership and a grant:
#: 1. the open roles, ``Membership.objects.open().filter(employer=..., person=...)`` (at most one
#:    per role), newest first, each with the open grants of a user role,
#:    ``membership.grants.open().order_by("eservice", "-pk")`` (no grant: a row of NULLs);
#: 2. the latest ended roles, ``filter(ended_at__isnull=False).order_by("-ended_at", "-pk")[:n]``
#:    (a row of NULLs for the grant, joined so that they have the grant's column types);
#: 3. the latest ended grants, revoked or ended with their role, newest first, with the role.
#: Each part is put in order by its own ROW_NUMBER, and the whole by part and place.
_PERSON_ACCESS_SQL = (
    "SELECT {open}, ROW_NUMBER() OVER (ORDER BY m.id DESC, g.eservice, g.id DESC), {m}, {g}"
    " FROM access_membership m"
    " LEFT JOIN access_grant g ON g.membership_id = m.id AND m.role = %s AND g.ended_at IS NULL"
    " WHERE m.employer_id = %s AND m.person_id = %s AND m.ended_at IS NULL"
    " UNION ALL SELECT * FROM ("
    "SELECT {ended}, ROW_NUMBER() OVER (ORDER BY m.ended_at DESC, m.id DESC), {m}, {g}"
    " FROM access_membership m LEFT JOIN access_grant g ON 1 = 0"
    " WHERE m.employer_id = %s AND m.person_id = %s AND m.ended_at IS NOT NULL"
    " ORDER BY m.ended_at DESC, m.id DESC LIMIT %s) ended"
    " UNION ALL SELECT * FROM ("
    "SELECT {ended_grant},"
    " ROW_NUMBER() OVER (ORDER BY COALESCE(g.ended_at, m.ended_at) DESC, g.id DESC), {m}, {g}"
    " FROM access_grant g JOIN access_membership m ON m.id = g.membership_id"
    " WHERE m.employer_id = %s AND m.person_id = %s"
    " AND (g.ended_at IS NOT NULL OR m.ended_at IS NOT NULL)"
    " ORDER BY COALESCE(g.ended_at, m.ended_at) DESC, g.id DESC LIMIT %s) ended_grants"
    " ORDER BY 1, 2"
)


@cache
def _person_access_sql() -> str:
    return _PERSON_ACCESS_SQL.format(
        open=_OPEN,
        ended=_ENDED,
        ended_grant=_ENDED_GRANT,
        m=column_list(Membership, "m"),
        g=column_list(Grant, "g"),
    )


def _statements(employer: Employer, access: PersonAccess, day: date) -> list[Statement]:
    statements: list[Statement] = []
    connected = employer.is_connected
    if access.administrator is not None:
        suspended = access.administrator.suspended_at is not None
        statements.append(
            Statement(
                _(
                    "Administrera behörigheter: lägga till och ta bort personer, ge och återkalla "
                    "behörigheter till e-tjänster och granska behörigheterna."
                ),
                in_force=connected and not suspended,
                note=_("vilande, granskningen gjordes inte i tid") if suspended else "",
            )
        )
        statements.append(
            Statement(
                _("Se arbetsgivarens uppgifter, godkänna nya villkor och begära avregistrering."),
                in_force=connected and not suspended,
            )
        )
    if access.user is not None:
        suspended = access.user.suspended_at is not None
        for grant in access.grants:
            eservice = registry.get(grant.eservice)
            name = eservice.name if eservice else grant.eservice
            text = (
                _("Se och lämna uppgifter i %(eservice)s")
                if grant.level == Level.SUBMIT
                else _("Se uppgifter i %(eservice)s")
            ) % {"eservice": name}
            note: str | Promise
            if grant.valid_from > day:
                note = _("från och med %(date)s") % {"date": grant.valid_from.isoformat()}
            elif grant.valid_until is not None and grant.valid_until < day:
                note = _("gällde till och med %(date)s") % {"date": grant.valid_until.isoformat()}
            elif grant.valid_until is not None:
                note = _("till och med %(date)s") % {"date": grant.valid_until.isoformat()}
            else:
                note = ""
            if suspended:
                note = _("vilande, granskningen gjordes inte i tid")
            statements.append(
                Statement(
                    text, in_force=connected and not suspended and grant.in_force(day), note=note
                )
            )
        if not access.grants:
            statements.append(
                Statement(
                    _(
                        "Inga e-tjänster ännu. Användaren kan logga in men inte använda någon e-tjänst."
                    ),
                    in_force=False,
                )
            )
    if access.administrator is not None and access.user is None:
        statements.append(
            Statement(
                _(
                    "Inte använda e-tjänsterna: rollen behörighetsadministratör ger bara administration."
                ),
                in_force=False,
            )
        )
    if not access.has_access:
        statements.append(
            Statement(_("Ingenting. Personen har ingen behörighet längre."), in_force=False)
        )
    return statements


@dataclass(frozen=True)
class UsableEService:
    code: str
    name: str | Promise
    description: str | Promise
    level: str

    @property
    def may_submit(self) -> bool:
        return self.level == Level.SUBMIT


#: The grants in force on the person's active user memberships at the employer. Written out, as
#: ``access.services._DECISION_SQL`` is and for the same reason (the ORM took some 25 times as
#: long to build the query as the database took to answer it, on every employer's page); it states
#: ``MembershipQuerySet.active`` and ``GrantQuerySet.in_force``, and
#: tests/access/test_layout_queries.py checks its answers against them. A page whose layout has
#: read the person's memberships with all their grants (``services.grants_in_force``) does not
#: need it.
_USABLE_SQL = (
    "SELECT g.eservice, g.level FROM access_grant g"
    " JOIN access_membership m ON m.id = g.membership_id"
    " WHERE m.person_id = %s AND m.employer_id = %s AND m.role = %s"
    " AND m.ended_at IS NULL AND m.suspended_at IS NULL AND m.valid_from <= %s"
    " AND (m.valid_until IS NULL OR m.valid_until > %s)"
    " AND g.ended_at IS NULL AND g.valid_from <= %s"
    " AND (g.valid_until IS NULL OR g.valid_until >= %s)"
)


def eservices_for(person: Person, employer: Employer) -> list[UsableEService]:
    """The e-services ``person`` can use for ``employer`` today: from the person's memberships
    the request has read (``services.grants_in_force``), or else with one statement of its own."""
    if not employer.is_connected:
        return []
    grants = grants_in_force(person.pk, employer.pk)
    if grants is None:
        grants = _read_usable(person, employer)
    usable = []
    for code, level in grants:
        eservice = registry.get(code)
        if eservice is not None:
            usable.append(UsableEService(code, eservice.name, eservice.description, level))
    return sorted(usable, key=lambda e: str(e.name))


def _read_usable(person: Person, employer: Employer) -> list[tuple[str, str]]:
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    today = ops.adapt_datefield_value(timezone.localdate())
    with connection.cursor() as cursor:
        cursor.execute(
            _USABLE_SQL, [person.pk, employer.pk, Role.USER.value, now, now, today, today]
        )
        grants: list[tuple[str, str]] = cursor.fetchall()
    return grants


# --- for the availability notices (portal.notices) --------------------------------------------


def employers_using(codes: Sequence[str]) -> QuerySet[Employer]:
    """The employers that use any of the e-services ``codes`` today: at least one of their open
    user memberships has a grant in force for it."""
    grants = Grant.objects.in_force().filter(
        eservice__in=list(codes), membership__role=Role.USER, membership__ended_at__isnull=True
    )
    return Employer.objects.filter(pk__in=grants.values("membership__employer_id"))


def eservice_codes_used(employer: Employer) -> list[str]:
    """The codes of the e-services ``employer`` uses today (see ``employers_using``)."""
    codes = (
        Grant.objects.in_force()
        .filter(membership__employer=employer, membership__role=Role.USER)
        .filter(membership__ended_at__isnull=True)
        .values_list("eservice", flat=True)
        .distinct()
    )
    return sorted(set(codes))


def administrator_addresses(employers: Iterable[Employer | int]) -> dict[tuple[int, int], str]:
    """Where the active access administrators of ``employers`` are written to about the
    employer, by (employer id, person id): the address given for their administrator membership,
    or the person's own (``Membership.contact_email``, as for the other administrators' notices).
    Administrators without an address are left out. Whether the person may still act as
    administrator is for ``access.can`` to say; this only finds the address."""
    ids = [employer if isinstance(employer, int) else employer.pk for employer in employers]
    memberships = (
        Membership.objects.active()
        .filter(employer_id__in=ids, role=Role.ADMINISTRATOR)
        .select_related("person")
        .order_by("pk")
    )
    return {
        (membership.employer_id, membership.person_id): membership.contact_email
        for membership in memberships
        if membership.contact_email
    }
