"""The staff's form for an announcement. It only reads the input into types; the rules (Swedish
text required, dates, e-service codes, lengths) are the service's, so that every caller gets
the same ones (``announcements.services.announcement_validate``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from portal.announcements.constants import (
    TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Audience,
    Kind,
    Severity,
)
from portal.announcements.models import Announcement
from portal.announcements.services import AnnouncementContent
from portal.eservices import registry

DATETIME_FORMATS = ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H.%M", "%Y-%m-%d"]
DATETIME_HELP = gettext_lazy("ÅÅÅÅ-MM-DD TT:MM, till exempel 2026-11-27 08:00.")


class CheckboxGroup(forms.CheckboxSelectMultiple):
    """Checkboxes whose label target is the first box, so that the error summary can link to
    the group."""

    def id_for_label(self, id_: str, index: str | None = None) -> str:
        return f"{id_}_{index or '0'}" if id_ else id_


class EServiceCodes(forms.MultipleChoiceField):
    """The e-services to aim at. Unknown codes are left for the service to refuse with its own
    message, naming them."""

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")


class LocalDateTimeField(forms.DateTimeField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", DATETIME_FORMATS)
        kwargs.setdefault("required", False)
        kwargs["error_messages"] = {
            "invalid": gettext_lazy(
                "Ange tiden som ÅÅÅÅ-MM-DD TT:MM, till exempel 2026-11-27 08:00."
            ),
        }
        super().__init__(**kwargs)


def local_text(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


class AnnouncementForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Typ"),
        choices=Kind.choices,
        initial=Kind.ANNOUNCEMENT,
        widget=forms.RadioSelect,
    )
    severity = forms.ChoiceField(
        label=gettext_lazy("Hur viktigt är det?"),
        choices=Severity.choices,
        initial=Severity.INFO,
        widget=forms.RadioSelect,
    )
    title_sv = forms.CharField(
        label=gettext_lazy("Rubrik på svenska"),
        required=False,
        max_length=TITLE_MAX_LENGTH * 2,
        help_text=format_lazy(gettext_lazy("Högst {max} tecken."), max=TITLE_MAX_LENGTH),
    )
    text_sv = forms.CharField(
        label=gettext_lazy("Text på svenska"),
        required=False,
        max_length=TEXT_MAX_LENGTH * 2,
        widget=forms.Textarea,
        help_text=format_lazy(
            gettext_lazy("Högst {max} tecken. Skriv stycken med en tom rad mellan."),
            max=TEXT_MAX_LENGTH,
        ),
    )
    title_en = forms.CharField(
        label=gettext_lazy("Rubrik på engelska (frivilligt)"),
        required=False,
        max_length=TITLE_MAX_LENGTH * 2,
    )
    text_en = forms.CharField(
        label=gettext_lazy("Text på engelska (frivilligt)"),
        required=False,
        max_length=TEXT_MAX_LENGTH * 2,
        widget=forms.Textarea,
        help_text=gettext_lazy(
            "Utan engelsk text ser den som valt engelska den svenska, med en upplysning om det."
        ),
    )
    audience = forms.ChoiceField(
        label=gettext_lazy("Vem ska se meddelandet?"),
        choices=Audience.choices,
        initial=Audience.EVERYONE,
        widget=forms.RadioSelect,
    )
    eservices = EServiceCodes(
        label=gettext_lazy("E-tjänster (om meddelandet är till användarna av vissa e-tjänster)"),
        required=False,
        widget=CheckboxGroup,
    )
    starts_at = LocalDateTimeField(
        label=gettext_lazy("Visas från"),
        help_text=format_lazy(
            "{} {}", gettext_lazy("Lämna tomt för att visa det direkt."), DATETIME_HELP
        ),
    )
    ends_at = LocalDateTimeField(
        label=gettext_lazy("Visas till och med"),
        help_text=format_lazy(
            "{} {}", gettext_lazy("Lämna tomt för att visa det tills vidare."), DATETIME_HELP
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        codes = self.fields["eservices"]
        assert isinstance(codes, forms.ChoiceField)  # noqa: S101 (declared above)
        codes.choices = [(eservice.code, eservice.name) for eservice in registry.all_eservices()]
        # Long input is refused by the service with the real limit; the form's own limit only
        # bounds what is read at all, and its message would be a generic one.
        for name in ("title_sv", "text_sv", "title_en", "text_en"):
            self.fields[name].error_messages["max_length"] = gettext_lazy(
                "Texten är alldeles för lång."
            )

    @classmethod
    def initial_from(cls, announcement: Announcement) -> dict[str, Any]:
        return {
            "kind": announcement.kind,
            "severity": announcement.severity,
            "title_sv": announcement.title_sv,
            "text_sv": announcement.text_sv,
            "title_en": announcement.title_en,
            "text_en": announcement.text_en,
            "audience": announcement.audience,
            "eservices": list(announcement.eservices),
            "starts_at": local_text(announcement.starts_at),
            "ends_at": local_text(announcement.ends_at),
        }

    def content(self) -> AnnouncementContent:
        data = self.cleaned_data
        return AnnouncementContent(
            title_sv=data["title_sv"],
            text_sv=data["text_sv"],
            title_en=data["title_en"],
            text_en=data["text_en"],
            kind=data["kind"],
            severity=data["severity"],
            audience=data["audience"],
            eservices=tuple(data["eservices"]),
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
        )

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for name, messages in errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
