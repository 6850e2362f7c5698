"""Announcement pages: the staff's screens under /handlaggning/meddelanden/ (mounted by
``backoffice.urls``) and the public archive and feed under /meddelanden/."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal.access.constants import Permission
from portal.access.services import require
from portal.announcements import selectors
from portal.announcements.forms import AnnouncementForm
from portal.announcements.models import Announcement, State
from portal.announcements.services import (
    AnnouncementInvalid,
    announcement_publish,
    announcement_revise,
    announcement_withdraw,
)
from portal.common.errors import ApplicationError
from portal.common.routes import public, read_only, requires
from portal.identity.models import Person

PERMISSION = Permission.BACKOFFICE_ANNOUNCEMENT_PUBLISH


def _staff(request: HttpRequest) -> Person:
    person = request.user
    assert isinstance(person, Person)  # noqa: S101 (requires() guarantees a person)
    require(person, PERMISSION, request=request)
    return person


def _standing_or_404(public_id: str) -> Announcement:
    announcement = selectors.standing(public_id)
    if announcement is None:
        raise Http404
    return announcement


# --- the staff's screens ---------------------------------------------------------------------


@requires(PERMISSION)
@read_only
def staff_list(request: HttpRequest) -> HttpResponse:
    _staff(request)
    return render(
        request,
        "announcements/staff_list.html",
        {"lists": selectors.staff_lists(), "now": timezone.now()},
    )


@requires(PERMISSION)
@require_http_methods(["GET", "HEAD", "POST"])
def staff_new(request: HttpRequest) -> HttpResponse:
    person = _staff(request)
    form = AnnouncementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            announcement = announcement_publish(
                content=form.content(), actor=person, request=request
            )
        except AnnouncementInvalid as error:
            form.add_service_errors(error.errors)
        else:
            messages.success(request, _("Meddelandet är publicerat."))
            return redirect("backoffice:announcement", public_id=announcement.public_id)
    return render(
        request,
        "announcements/staff_form.html",
        {"form": form, "announcement": None},
        status=400 if form.errors else 200,
    )


@requires(PERMISSION)
@read_only
def staff_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """One announcement and every version of it."""
    _staff(request)
    announcement = selectors.by_public_id(public_id)
    if announcement is None:
        raise Http404
    versions = selectors.history(announcement)
    return render(
        request,
        "announcements/staff_detail.html",
        {
            "announcement": versions[0],
            "versions": versions,
            "state": versions[0].state(),
            "states": State,
        },
    )


@requires(PERMISSION)
@require_http_methods(["GET", "HEAD", "POST"])
def staff_revise(request: HttpRequest, public_id: str) -> HttpResponse:
    person = _staff(request)
    announcement = _standing_or_404(public_id)
    if announcement.withdrawn_at is not None:
        messages.error(request, _("Meddelandet är återkallat och kan inte ändras."))
        return redirect("backoffice:announcement", public_id=announcement.public_id)
    form = AnnouncementForm(
        request.POST or None, initial=AnnouncementForm.initial_from(announcement)
    )
    if request.method == "POST" and form.is_valid():
        try:
            revision = announcement_revise(
                announcement=announcement, content=form.content(), actor=person, request=request
            )
        except AnnouncementInvalid as error:
            form.add_service_errors(error.errors)
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _(
                    "Meddelandet är ändrat (version %(version)s). De tidigare versionerna finns kvar."
                )
                % {"version": revision.version},
            )
            return redirect("backoffice:announcement", public_id=revision.public_id)
    return render(
        request,
        "announcements/staff_form.html",
        {"form": form, "announcement": announcement},
        status=400 if form.errors else 200,
    )


@requires(PERMISSION)
@require_http_methods(["GET", "HEAD", "POST"])
def staff_withdraw(request: HttpRequest, public_id: str) -> HttpResponse:
    """Asks for confirmation (GET), then withdraws (POST)."""
    person = _staff(request)
    announcement = _standing_or_404(public_id)
    if request.method == "POST":
        try:
            announcement_withdraw(announcement=announcement, actor=person, request=request)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, _("Meddelandet är återkallat och visas inte längre för någon.")
            )
        return redirect("backoffice:announcement", public_id=announcement.public_id)
    if announcement.withdrawn_at is not None:
        messages.info(request, _("Meddelandet är redan återkallat."))
        return redirect("backoffice:announcement", public_id=announcement.public_id)
    return render(request, "announcements/staff_withdraw.html", {"announcement": announcement})


# --- the public archive and feed --------------------------------------------------------------


@public
@read_only
def archive(request: HttpRequest) -> HttpResponse:
    current, past = selectors.archive()
    return render(request, "announcements/archive.html", {"current": current, "past": past})


@public
@read_only
def feed(request: HttpRequest) -> HttpResponse:
    """An Atom feed of the announcements for everyone, in the reader's language."""
    link = request.build_absolute_uri(reverse("announcements:archive"))
    atom = Atom1Feed(
        title=_("Meddelanden från e-tjänsterna för arbetsgivare"),
        link=link,
        description=_("Meddelanden och instruktioner till arbetsgivarnas användare."),
        feed_url=request.build_absolute_uri(reverse("announcements:feed")),
        language=get_language() or "sv",
    )
    for announcement in selectors.feed_entries():
        atom.add_item(
            title=announcement.title,
            link=f"{link}#meddelande-{announcement.series}",
            description=announcement.text,
            unique_id=f"urn:uuid:{announcement.series}",
            pubdate=announcement.starts_at,
            updateddate=announcement.created_at,
            categories=[str(announcement.get_kind_display())],
        )
    response = HttpResponse(content_type="application/atom+xml; charset=utf-8")
    atom.write(response, "utf-8")
    return response
