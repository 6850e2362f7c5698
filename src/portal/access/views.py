"""The access administrators' pages: everyone with access, one person's access, and the changes.

Every view fetches its employer with ``selectors.employer_for`` (the authorisation check and the
audited refusal in one step) and writes only through ``access.administration``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, Window
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portal import audit
from portal.access import administration, selectors
from portal.access.constants import Permission
from portal.access.forms import (
    EmailForm,
    GrantForm,
    PeopleFilterForm,
    PersonAddForm,
    ReasonForm,
    RemoveAllForm,
)
from portal.access.models import Level, Role
from portal.access.reviews import review_status
from portal.access.templatetags.people_tags import DISPLAY_NAME_FIELDS
from portal.audit.constants import EventType
from portal.common.errors import ApplicationError, ConflictError
from portal.common.routes import read_only, requires
from portal.employers.models import Employer
from portal.eservices import registry
from portal.identity.eidas_identifiers import person_masked
from portal.identity.models import Person

PAGE_SIZE = 50


def _actor(request: HttpRequest) -> Person:
    assert isinstance(request.user, Person)  # noqa: S101 (requires() guarantees a logged-in person)
    return request.user


def _person_url(employer: Employer, person: Person) -> str:
    return reverse(
        "access:person", kwargs={"public_id": employer.public_id, "person_id": person.public_id}
    )


def _people_rows(employer: Employer, people: Sequence[Person]) -> SafeString:
    """The rows of the table of people: each person's name (linked to their page), masked
    identity, roles (a suspended one marked) and open grants.

    Put together here rather than in the template: the list is the administrators' commonest
    page, and the template engine spent some 55 µs on each row against a few here. Every value
    shown is escaped (``html.escape``, which Django's ``escape`` is).
    """
    # One address reversed, the others made from it: the same route for every row.
    template = reverse(
        "access:person", kwargs={"public_id": employer.public_id, "person_id": _ROW_PLACEHOLDER}
    )
    # Each label and name translated once per page (``get_FOO_display`` translates every choice
    # on every call).
    roles = {role.value: escape(capfirst(str(role.label))) for role in Role}
    levels = {level.value: str(level.label) for level in Level}
    suspended = f' <span class="badge badge--warning">{escape(_("vilande"))}</span>'
    no_name = _("Namn visas efter första inloggningen")
    names: dict[str, str] = {}
    memberships = selectors.open_memberships_of(employer, [person.pk for person in people])
    rows = []
    for person in people:
        held = memberships.get(person.pk, [])
        grants = []
        for membership in held:
            for eservice, level, valid_until in membership.grants:
                details = levels[level]
                if valid_until:
                    details += ", " + _("t.o.m. %(date)s") % {"date": valid_until.isoformat()}
                if eservice not in names:
                    found = registry.get(eservice)
                    names[eservice] = str(found.name) if found else eservice
                grants.append(escape(f"{names[eservice]} ({details})"))
        url = escape(template.replace(str(_ROW_PLACEHOLDER), str(person.public_id)))
        shown_roles = "<br>".join(roles[m.role] + (suspended if m.suspended else "") for m in held)
        rows.append(
            '<tr class="table__row">\n'
            f'    <th class="table__column" scope="row"><a class="anchor" href="{url}">'
            f"{escape(person.full_name or no_name)}</a></th>\n"
            f'    <td class="table__column">{escape(person_masked(person))}</td>\n'
            f'    <td class="table__column">{shown_roles}</td>\n'
            f'    <td class="table__column">{"<br>".join(grants)}</td>\n'
            "  </tr>\n"
        )
    return mark_safe("".join(rows))  # noqa: S308 (every value in the rows escaped above)


#: What a row shows of a person (``_people_rows``); the rest is not read.
_ROW_FIELDS = ("public_id", *DISPLAY_NAME_FIELDS)

#: No one's id: the address of every row is made from the address with this id in it.
_ROW_PLACEHOLDER = UUID("00000000-0000-4000-8000-000000000000")


def _people_page(employer: Employer, values: dict[str, Any], asked: str | None) -> Page[Person]:
    """The page ``asked`` of the list of people with the filters ``values``. The list as an
    administrator first sees it (no search, no filter, by name) is read with a written-out
    statement (``selectors.people_by_name``), the rest through the ORM (``_page_with_count``)."""
    plain = (
        not any(values.get(name) for name in ("q", "role", "eservice", "status"))
        and (values.get("sort") or selectors.Sort.NAME) == selectors.Sort.NAME
    )
    number = _page_number(asked)
    if plain and number >= 1:
        people, total = selectors.people_by_name(
            employer, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE, fields=_ROW_FIELDS
        )
        if people:
            paginator: Paginator[Person] = Paginator((), PAGE_SIZE)
            paginator.count = total  # a cached property: the number read with the page
            return Page(people, number, paginator)
    queryset = selectors.people(
        employer,
        search=values.get("q", ""),
        role=values.get("role", ""),
        eservice=values.get("eservice", ""),
        status=values.get("status", ""),
        sort=values.get("sort", "") or selectors.Sort.NAME,
        prefetch=False,
    ).only(*_ROW_FIELDS)
    return _page_with_count(queryset, asked)


def _page_number(asked: str | None) -> int:
    """The page number ``asked`` for, as ``_page_with_count`` reads it (1 if it is none)."""
    try:
        return int(asked) if asked else 1
    except ValueError:
        return 1


def _page_with_count(queryset: QuerySet[Person], asked: str | None) -> Page[Person]:
    """``Paginator(queryset, PAGE_SIZE).get_page(asked)``, with the page read together with the
    number of people (``COUNT(*) OVER ()``): one statement instead of the count and the page. A
    page with nobody on it (past the last, or an empty list) is left to ``get_page``'s rules."""
    paginator = Paginator(queryset, PAGE_SIZE)
    number = _page_number(asked)
    if number >= 1:
        start = (number - 1) * PAGE_SIZE
        rows = list(queryset.annotate(_total=Window(Count("*")))[start : start + PAGE_SIZE])
        if rows:
            # Paginator.count is a cached property: the count read with the page is kept.
            paginator.count = rows[0]._total
            return Page(rows, number, paginator)
    return paginator.get_page(asked)


@requires(Permission.ACCESS_VIEW)
@read_only
def people_page(request: HttpRequest, public_id: UUID) -> HttpResponse:
    employer = selectors.employer_for(request, public_id, Permission.ACCESS_VIEW)
    filters = PeopleFilterForm(request.GET or None)
    values = filters.cleaned_data if filters.is_valid() else {}
    page = _people_page(employer, values, request.GET.get("sida"))
    people = list(page.object_list)
    audit.record_read(
        EventType.ACCESS_PEOPLE_VIEWED,
        request=request,
        employer=employer,
        # What was asked, without the search text (it may be a personal identity number).
        data={
            "searched": bool(values.get("q")),
            "role": values.get("role", ""),
            "eservice": values.get("eservice", ""),
            "status": values.get("status", ""),
            "page": page.number,
            "people": [person.pk for person in people],
        },
    )
    query = request.GET.copy()
    query.pop("sida", None)
    return render(
        request,
        "access/people.html",
        {
            "employer": employer,
            "review": review_status(employer),
            "filters": filters,
            "page": page,
            "rows": _people_rows(employer, people),
            "query": query.urlencode(),
            "filtered": any(values.values()) if values else False,
        },
    )


@requires(Permission.ACCESS_MANAGE)
@require_http_methods(["GET", "HEAD", "POST"])
def person_new(request: HttpRequest, public_id: UUID) -> HttpResponse:
    employer = selectors.employer_for(request, public_id, Permission.ACCESS_MANAGE)
    form = PersonAddForm(request.POST or None)
    existing = None
    if request.method == "POST" and form.is_valid():
        try:
            person = administration.person_add(
                employer=employer,
                actor=_actor(request),
                personal_number=form.cleaned_data["personal_number"],
                eidas_identifier=form.cleaned_data["eidas_identifier"],
                email=form.cleaned_data["email"],
                administrator=form.cleaned_data["administrator"],
                user=form.cleaned_data["user"],
                grants=form.grant_specs(),
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ConflictError as error:
            form.add_error(None, error.message)
            existing = error.extra.get("person")
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("Behörigheten är sparad och gäller från personens nästa inloggning."),
            )
            return redirect(_person_url(employer, person))
    return render(
        request,
        "access/person_new.html",
        {"employer": employer, "form": form, "existing": existing},
        status=400 if form.errors else 200,
    )


@requires(Permission.ACCESS_VIEW)
@read_only
def person_page(request: HttpRequest, public_id: UUID, person_id: UUID) -> HttpResponse:
    employer = selectors.employer_for(request, public_id, Permission.ACCESS_VIEW)
    person = selectors.person_at(request, employer, person_id)
    audit.record_read(
        EventType.ACCESS_PERSON_VIEWED,
        request=request,
        employer=employer,
        data={"person": person.pk},
    )
    return _render_person(request, employer, person)


def _history(access: selectors.PersonAccess) -> list[str]:
    """The lines of "Tidigare behörigheter": each ended role, then each ended grant, with its
    dates and reason. Put together here rather than in the template (the page shows up to twenty,
    and ``get_FOO_display`` translates every choice on each call)."""
    roles = {role.value: capfirst(str(role.label)) for role in Role}
    levels = {level.value: str(level.label) for level in Level}

    def day(moment: datetime | None) -> str:
        return f"{timezone.localtime(moment):%Y-%m-%d}" if moment else ""

    lines = [
        f"{roles.get(m.role, m.role)}: {day(m.created_at)} – {day(m.ended_at)} ({m.end_reason})"
        for m in access.ended
    ]
    for grant in access.ended_grants:
        membership = grant.membership
        lines.append(
            f"{grant.eservice_name}, {levels.get(grant.level, grant.level)}:"
            f" {grant.valid_from:%Y-%m-%d} – {day(grant.ended_at or membership.ended_at)}"
            f" ({grant.end_reason or membership.end_reason})"
        )
    return lines


def _render_person(
    request: HttpRequest,
    employer: Employer,
    person: Person,
    *,
    grant_form: GrantForm | None = None,
    email_form: EmailForm | None = None,
    reason_form: ReasonForm | None = None,
    status: int = 200,
) -> HttpResponse:
    access = selectors.person_access(employer, person)
    actor = _actor(request)
    from portal.access.services import can  # noqa: PLC0415

    return render(
        request,
        "access/person.html",
        {
            "employer": employer,
            "access": access,
            "history": _history(access),
            "person": person,
            "may_manage": can(actor, Permission.ACCESS_MANAGE, employer=employer),
            "grant_form": grant_form or GrantForm(),
            "email_form": email_form or EmailForm(initial={"email": access.email}),
            "reason_form": reason_form or ReasonForm(),
            "is_self": actor.pk == person.pk,
            # The whole history is in the activity log, found by the person's name.
            "activity_url": reverse("audit:activity", kwargs={"public_id": employer.public_id})
            + (f"?{urlencode({'person': person.full_name})}" if person.full_name else ""),
        },
        status=status,
    )


@requires(Permission.ACCESS_MANAGE)
@require_POST
def person_role(request: HttpRequest, public_id: UUID, person_id: UUID) -> HttpResponse:
    """Add or end one role: ``action`` is ``add`` or ``end``, ``role`` one of the two roles."""
    employer = selectors.employer_for(request, public_id, Permission.ACCESS_MANAGE)
    person = selectors.person_at(request, employer, person_id)
    form = ReasonForm(request.POST)
    role = request.POST.get("role", "")
    action = request.POST.get("action", "")
    if role not in Role.values or action not in {"add", "end"}:
        form.add_error(None, _("Välj vilken roll som ska läggas till eller tas bort."))
    if not form.is_valid():
        return _render_person(request, employer, person, reason_form=form, status=400)
    try:
        if action == "add":
            administration.role_add(
                employer=employer,
                person=person,
                role=Role(role),
                reason=form.cleaned_data["reason"],
                actor=_actor(request),
                request=request,
            )
        else:
            access = selectors.person_access(employer, person)
            membership = access.administrator if role == Role.ADMINISTRATOR else access.user
            if membership is not None:
                administration.membership_end(
                    membership=membership,
                    reason=form.cleaned_data["reason"],
                    actor=_actor(request),
                    request=request,
                )
    except ApplicationError as error:
        form.add_error(None, error.message)
        return _render_person(request, employer, person, reason_form=form, status=error.status)
    messages.success(request, _("Rollen är ändrad."))
    return redirect(_person_url(employer, person))


@requires(Permission.ACCESS_MANAGE)
@require_POST
def person_email(request: HttpRequest, public_id: UUID, person_id: UUID) -> HttpResponse:
    employer = selectors.employer_for(request, public_id, Permission.ACCESS_MANAGE)
    person = selectors.person_at(request, employer, person_id)
    form = EmailForm(request.POST)
    if not form.is_valid():
        return _render_person(request, employer, person, email_form=form, status=400)
    administration.membership_email_change(
        employer=employer,
        person=person,
        email=form.cleaned_data["email"],
        actor=_actor(request),
        request=request,
    )
    messages.success(request, _("E-postadressen är ändrad."))
    return redirect(_person_url(employer, person))


@requires(Permission.ACCESS_MANAGE)
@require_POST
def person_grant(request: HttpRequest, public_id: UUID, person_id: UUID) -> HttpResponse:
    employer = selectors.employer_for(request, public_id, Permission.ACCESS_MANAGE)
    person = selectors.person_at(request, employer, person_id)
    form = GrantForm(request.POST)
    if form.is_valid():
        try:
            administration.grant_set(
                employer=employer,
                person=person,
                spec=form.spec(),
                reason=form.cleaned_data["reason"],
                actor=_actor(request),
                request=request,
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Behörigheten till e-tjänsten är sparad."))
            return redirect(_person_url(employer, person))
    return _render_person(request, employer, person, grant_form=form, status=400)


@requires(Permission.ACCESS_MANAGE)
@require_POST
def grant_revoke(
    request: HttpRequest, public_id: UUID, person_id: UUID, grant_id: UUID
) -> HttpResponse:
    employer = selectors.employer_for(request, public_id, Permission.ACCESS_MANAGE)
    person = selectors.person_at(request, employer, person_id)
    grant = selectors.grant_at(request, employer, person, grant_id)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _render_person(request, employer, person, reason_form=form, status=400)
    administration.grant_revoke(
        grant=grant, reason=form.cleaned_data["reason"], actor=_actor(request), request=request
    )
    messages.success(request, _("Behörigheten är återkallad och gäller inte längre."))
    return redirect(_person_url(employer, person))


@requires(Permission.ACCESS_MANAGE)
@require_http_methods(["GET", "HEAD", "POST"])
def person_remove_all(request: HttpRequest, public_id: UUID, person_id: UUID) -> HttpResponse:
    """Remove all access now, for someone who leaves (R3): a confirmation page, then the removal."""
    employer = selectors.employer_for(request, public_id, Permission.ACCESS_MANAGE)
    person = selectors.person_at(request, employer, person_id)
    form = RemoveAllForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            administration.access_remove_all(
                employer=employer,
                person=person,
                reason=form.cleaned_data["reason"],
                actor=_actor(request),
                request=request,
            )
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _(
                    "All behörighet för %(name)s är borttagen. Den gäller inte längre, inte ens i en pågående inloggning."
                )
                % {"name": person.full_name or person_masked(person)},
            )
            return redirect("access:people", public_id=employer.public_id)
    if request.method != "POST":
        audit.record_read(
            EventType.ACCESS_PERSON_VIEWED,
            request=request,
            employer=employer,
            data={"person": person.pk},
        )
    return render(
        request,
        "access/person_remove_all.html",
        {
            "employer": employer,
            "person": person,
            "access": selectors.person_access(employer, person),
            "form": form,
        },
        status=400 if form.errors else 200,
    )
