"""Availability (R15): the operations staff's screens for planned outages and incidents, and the
public feeds of them (iCalendar and Atom)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import icalendar
from django import forms
from django.conf import settings
from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods, require_POST

from portal.access.constants import Permission
from portal.access.services import require
from portal.common.routes import public, read_only, requires
from portal.eservices.registry import all_eservices
from portal.identity.models import Person
from portal.notices import selectors
from portal.notices.models import Incident, Outage
from portal.notices.services import (
    MAX_OUTAGE,
    InvalidNotice,
    incident_close,
    incident_declare,
    outage_cancel,
    outage_plan,
)

ALL = "all"
_DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


def _eservice_choices() -> list[tuple[str, str]]:
    return [(ALL, _("Alla e-tjänster"))] + [(e.code, str(e.name)) for e in all_eservices()]


class DateTimeField(forms.DateTimeField):
    """A local date and time (Swedish time), from the browser's date-and-time picker."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", _DATETIME_FORMATS)
        kwargs.setdefault("help_text", gettext_lazy("ÅÅÅÅ-MM-DD TT:MM, svensk tid"))
        kwargs["error_messages"] = {
            "invalid": gettext_lazy(
                "Ange tiden som ÅÅÅÅ-MM-DD TT:MM, till exempel 2027-03-05 18:00."
            ),
            **kwargs.get("error_messages", {}),
        }
        super().__init__(**kwargs)


class _NoticeForm(forms.Form):
    eservice_codes = forms.MultipleChoiceField(
        label=gettext_lazy("Berörda e-tjänster"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Välj vilka e-tjänster som berörs.")},
    )
    title_sv = forms.CharField(
        label=gettext_lazy("Rubrik på svenska"),
        max_length=200,
        error_messages={"required": gettext_lazy("Ange en rubrik på svenska.")},
    )
    title_en = forms.CharField(
        label=gettext_lazy("Rubrik på engelska"), max_length=200, required=False
    )
    description_sv = forms.CharField(
        label=gettext_lazy("Beskrivning på svenska"), widget=forms.Textarea, required=False
    )
    description_en = forms.CharField(
        label=gettext_lazy("Beskrivning på engelska"), widget=forms.Textarea, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        codes = self.fields["eservice_codes"]
        assert isinstance(codes, forms.MultipleChoiceField)  # noqa: S101
        codes.choices = _eservice_choices()

    def clean_eservice_codes(self) -> list[str]:
        codes = list(self.cleaned_data["eservice_codes"])
        return [] if ALL in codes else codes


class OutageForm(_NoticeForm):
    starts_at = DateTimeField(label=gettext_lazy("Börjar"))
    ends_at = DateTimeField(label=gettext_lazy("Slutar"))
    field_order = ["eservice_codes", "starts_at", "ends_at", "title_sv", "title_en"]


class IncidentForm(_NoticeForm):
    closes_eservices = forms.BooleanField(
        label=gettext_lazy("Stäng de berörda e-tjänsterna tills störningen är avslutad"),
        required=False,
    )


def _operations(request: HttpRequest) -> Person:
    person = request.user
    assert isinstance(person, Person)  # noqa: S101 (requires() guarantees a person)
    require(person, Permission.BACKOFFICE_AVAILABILITY_MANAGE, request=request)
    return person


@requires(Permission.BACKOFFICE_AVAILABILITY_MANAGE)
@read_only
def availability(request: HttpRequest) -> HttpResponse:
    """Planned outages and incidents: what is coming, what is going on, what was recently."""
    _operations(request)
    now = timezone.now()
    return render(
        request,
        "backoffice/availability.html",
        {
            "now": now,
            "upcoming": selectors.upcoming_outages(now),
            "past": Outage.objects.filter(
                Q(ends_at__lte=now, ends_at__gte=now - selectors.FEED_HISTORY)
                | Q(cancelled_at__isnull=False, ends_at__gt=now)
            ).order_by("-starts_at"),
            "incidents": selectors.open_incidents(),
            "closed_incidents": selectors.recent_closed_incidents(now),
        },
    )


def _form_errors(form: forms.Form, error: InvalidNotice) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


@requires(Permission.BACKOFFICE_AVAILABILITY_MANAGE)
@require_http_methods(["GET", "HEAD", "POST"])
def outage_new(request: HttpRequest) -> HttpResponse:
    person = _operations(request)
    form = OutageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            outage_plan(**form.cleaned_data, actor=person, request=request)
        except InvalidNotice as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Avbrottet är planerat och visas på driftstatussidan."))
            return redirect("backoffice:availability")
    return render(
        request,
        "backoffice/outage_new.html",
        {"form": form, "max_days": MAX_OUTAGE.days},
        status=400 if form.errors else 200,
    )


@requires(Permission.BACKOFFICE_AVAILABILITY_MANAGE)
@require_POST
def outage_cancel_view(request: HttpRequest, public_id: str) -> HttpResponse:
    person = _operations(request)
    outage = Outage.objects.filter(public_id=public_id).first()
    if outage is None:
        raise Http404
    outage_cancel(outage=outage, actor=person, request=request)
    messages.success(request, _("Avbrottet är inställt."))
    return redirect("backoffice:availability")


@requires(Permission.BACKOFFICE_AVAILABILITY_MANAGE)
@require_http_methods(["GET", "HEAD", "POST"])
def incident_new(request: HttpRequest) -> HttpResponse:
    person = _operations(request)
    form = IncidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            incident_declare(**form.cleaned_data, actor=person, request=request)
        except InvalidNotice as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Driftstörningen är meddelad och visas på alla sidor."))
            return redirect("backoffice:availability")
    return render(
        request, "backoffice/incident_new.html", {"form": form}, status=400 if form.errors else 200
    )


@requires(Permission.BACKOFFICE_AVAILABILITY_MANAGE)
@require_POST
def incident_close_view(request: HttpRequest, public_id: str) -> HttpResponse:
    person = _operations(request)
    incident = Incident.objects.filter(public_id=public_id).first()
    if incident is None:
        raise Http404
    incident_close(incident=incident, actor=person, request=request)
    messages.success(request, _("Driftstörningen är avslutad."))
    return redirect("backoffice:availability")


# --- Public feeds ----------------------------------------------------------------------------


def _uid_domain(request: HttpRequest) -> str:
    return urlsplit(settings.BASE_URL).hostname or request.get_host().split(":")[0]


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


@public
@read_only
@cache_control(max_age=300, public=True)
def outage_calendar(request: HttpRequest) -> HttpResponse:
    """The planned outages as an iCalendar feed (RFC 5545); cancelled ones stay, as CANCELLED."""
    now = timezone.now()
    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//{settings.AGENCY_NAME}//E-tjanster for arbetsgivare//SV")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _("Planerade avbrott i e-tjänsterna"))
    domain = _uid_domain(request)
    status_url = request.build_absolute_uri(reverse("status"))
    for outage in selectors.feed_outages(now):
        event = icalendar.Event()
        event.add("uid", f"outage-{outage.public_id}@{domain}")
        event.add("dtstamp", _utc(now))
        event.add("dtstart", _utc(outage.starts_at))
        event.add("dtend", _utc(outage.ends_at))
        event.add("created", _utc(outage.created_at))
        event.add("last-modified", _utc(outage.cancelled_at or outage.created_at))
        event.add("sequence", 1 if outage.is_cancelled else 0)
        event.add("summary", outage.title)
        names = ", ".join(outage.eservice_names)
        description = outage.description
        scope = (
            _("Alla e-tjänster")
            if outage.all_eservices
            else _("E-tjänster: %(names)s") % {"names": names}
        )
        event.add("description", f"{description}\n\n{scope}".strip())
        event.add("status", "CANCELLED" if outage.is_cancelled else "CONFIRMED")
        event.add("transp", "TRANSPARENT")
        event.add("url", status_url)
        calendar.add_component(event)
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="avbrott.ics"'
    return response


@public
@read_only
@cache_control(max_age=300, public=True)
def status_feed(request: HttpRequest) -> HttpResponse:
    """Planned outages and incidents as an Atom feed, newest change first."""
    now = timezone.now()
    status_url = request.build_absolute_uri(reverse("status"))
    feed = Atom1Feed(
        title=_("Driftstatus för e-tjänster för arbetsgivare"),
        link=status_url,
        description=_("Planerade avbrott och driftstörningar i e-tjänsterna."),
        language=request.LANGUAGE_CODE if hasattr(request, "LANGUAGE_CODE") else "sv",
        feed_url=request.build_absolute_uri(),
        author_name=settings.AGENCY_NAME,
    )
    domain = _uid_domain(request)
    entries: list[tuple[datetime, dict[str, Any]]] = []
    for outage in selectors.feed_outages(now):
        updated = outage.cancelled_at or outage.created_at
        when = _("%(start)s–%(end)s") % {
            "start": timezone.localtime(outage.starts_at).strftime("%Y-%m-%d %H:%M"),
            "end": timezone.localtime(outage.ends_at).strftime("%Y-%m-%d %H:%M"),
        }
        prefix = _("Inställt avbrott") if outage.is_cancelled else _("Planerat avbrott")
        entries.append(
            (
                updated,
                {
                    "title": f"{prefix}: {outage.title} ({when})",
                    "link": f"{status_url}#avbrott-{outage.public_id}",
                    "description": _notice_text(
                        outage.description, outage.eservice_names, outage.all_eservices
                    ),
                    "unique_id": f"tag:{domain},{outage.created_at:%Y-%m-%d}:outage/{outage.public_id}",
                    "updateddate": updated,
                    "pubdate": outage.created_at,
                    "categories": ["planned-outage"],
                },
            )
        )
    for incident in selectors.feed_incidents(now):
        updated = incident.closed_at or incident.started_at
        prefix = _("Driftstörning avslutad") if incident.closed_at else _("Driftstörning")
        entries.append(
            (
                updated,
                {
                    "title": f"{prefix}: {incident.title}",
                    "link": f"{status_url}#storning-{incident.public_id}",
                    "description": _notice_text(
                        incident.description, incident.eservice_names, incident.all_eservices
                    ),
                    "unique_id": f"tag:{domain},{incident.created_at:%Y-%m-%d}:incident/{incident.public_id}",
                    "updateddate": updated,
                    "pubdate": incident.started_at,
                    "categories": ["incident"],
                },
            )
        )
    for _updated, entry in sorted(entries, key=lambda item: item[0], reverse=True):
        feed.add_item(**entry)
    response = HttpResponse(content_type="application/atom+xml; charset=utf-8")
    feed.write(response, "utf-8")
    return response


def _notice_text(description: str, names: list[str], all_eservices: bool) -> str:
    scope = (
        _("Alla e-tjänster.")
        if all_eservices
        else _("E-tjänster: %(names)s.") % {"names": ", ".join(names)}
    )
    return f"{description}\n\n{scope}".strip()
