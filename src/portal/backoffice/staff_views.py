"""The back-office's start page, and staff administration: who has which staff role, granting a
role to a person and revoking one."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from portal import audit
from portal.access.constants import Permission
from portal.audit.constants import EventType
from portal.backoffice.forms import PersonalNumberField
from portal.backoffice.models import StaffRole
from portal.backoffice.screens import screens_for, staff_member
from portal.backoffice.services import staff_role_grant, staff_role_revoke
from portal.common.errors import ApplicationError
from portal.common.routes import read_only, requires
from portal.identity.models import Person
from portal.identity.numbers import mask_personal_number


@requires(Permission.BACKOFFICE_HOME)
@read_only
def home(request: HttpRequest) -> HttpResponse:
    """The screens the staff member's roles allow, and the roles themselves."""
    person = staff_member(request, Permission.BACKOFFICE_HOME)
    roles = StaffRole.objects.filter(person=person, revoked_at__isnull=True).order_by("role")
    return render(request, "backoffice/home.html", {"screens": screens_for(person), "roles": roles})


class StaffRoleForm(forms.Form):
    personal_number = PersonalNumberField(
        label=gettext_lazy("Personnummer"),
        error_messages={"required": gettext_lazy("Ange personnumret.")},
    )
    role = forms.ChoiceField(
        label=gettext_lazy("Roll"),
        choices=StaffRole.Role.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Välj en roll.")},
    )


def _staff_list() -> list[tuple[Person, list[StaffRole]]]:
    """Everyone with an active staff role, with those roles, by name."""
    people: dict[int, tuple[Person, list[StaffRole]]] = {}
    active = (
        StaffRole.objects.filter(revoked_at__isnull=True)
        .select_related("person")
        .order_by("person__surname", "person__given_name", "person_id", "role")
    )
    for role in active:
        people.setdefault(role.person_id, (role.person, []))[1].append(role)
    return list(people.values())


@requires(Permission.BACKOFFICE_STAFF_MANAGE)
@require_http_methods(["GET", "HEAD", "POST"])
def staff(request: HttpRequest) -> HttpResponse:
    """The staff and their active roles, and granting a role."""
    person = staff_member(request, Permission.BACKOFFICE_STAFF_MANAGE)
    form = StaffRoleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            granted = staff_role_grant(
                personal_number=form.cleaned_data["personal_number"],
                role=form.cleaned_data["role"],
                actor=person,
                request=request,
            )
        except ApplicationError as error:
            form.add_error("role", error.message)
        else:
            messages.success(
                request,
                _("%(who)s har fått rollen %(role)s.")
                % {
                    "who": granted.person.full_name
                    or mask_personal_number(form.cleaned_data["personal_number"]),
                    "role": granted.get_role_display(),
                },
            )
            return redirect("backoffice:staff")
    listed = _staff_list()
    audit.record_read(
        EventType.BACKOFFICE_STAFF_VIEWED, request=request, data={"people": len(listed)}
    )
    return render(
        request,
        "backoffice/staff.html",
        {"form": form, "staff": listed, "me": person},
        status=400 if form.errors else 200,
    )


@requires(Permission.BACKOFFICE_STAFF_MANAGE)
@require_http_methods(["GET", "HEAD", "POST"])
def staff_revoke(request: HttpRequest, public_id: str, role: str) -> HttpResponse:
    """Revoke one staff role, after a confirmation."""
    actor = staff_member(request, Permission.BACKOFFICE_STAFF_MANAGE)
    held = (
        StaffRole.objects.select_related("person")
        .filter(person__public_id=public_id, role=role, revoked_at__isnull=True)
        .first()
    )
    if held is None:
        raise Http404
    if request.method == "POST":
        try:
            staff_role_revoke(person=held.person, role=held.role, actor=actor, request=request)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _("Rollen %(role)s är borttagen för %(who)s.")
                % {
                    "role": held.get_role_display(),
                    "who": held.person.full_name or held.person.masked_identifier,
                },
            )
        return redirect("backoffice:staff")
    return render(
        request,
        "backoffice/staff_revoke.html",
        {"held": held, "own": held.person_id == actor.pk},
    )
