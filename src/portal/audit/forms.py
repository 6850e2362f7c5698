"""The activity view's filters. Every value arrives in the address, so anything may arrive: a
value the form does not accept is explained on the page (400), never a 500."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.audit.constants import Outcome
from portal.audit.labels import OUTCOME_LABELS, event_choices
from portal.audit.selectors import MIN_NUMBER_DIGITS, ActivityFilter
from portal.backoffice.forms import IsoDateField

#: The query parameter of keyset pagination: show events older than this event id.
FORE = "fore"
_MAX_ID = 2**63 - 1
_MIN_NAME_LENGTH = 2


def _date_field(label: str | Promise) -> IsoDateField:
    # Only YYYY-MM-DD: the locale's other input formats (such as 01/02/2026) are ambiguous.
    return IsoDateField(label=label, required=False, input_formats=["%Y-%m-%d"])


class ActivityFilterForm(forms.Form):
    person = forms.CharField(
        label=gettext_lazy("Person"),
        help_text=gettext_lazy(
            "Namn eller personnummer (eller eIDAS-identitet), helt eller delvis. Visar det "
            "personen gjorde och det som gäller personen."
        ),
        required=False,
        max_length=100,
        error_messages={"max_length": gettext_lazy("Skriv högst %(limit_value)d tecken.")},
    )
    action = forms.ChoiceField(
        label=gettext_lazy("Händelse"),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Välj en händelse i listan.")},
    )
    outcome = forms.ChoiceField(
        label=gettext_lazy("Utfall"),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Välj ett utfall i listan.")},
    )
    date_from = _date_field(gettext_lazy("Från och med"))
    date_to = _date_field(gettext_lazy("Till och med"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        action: Any = self.fields["action"]
        action.choices = [("", _("Alla händelser")), *event_choices()]
        outcome: Any = self.fields["outcome"]
        outcome.choices = [
            ("", _("Alla utfall")),
            *((member.value, str(OUTCOME_LABELS[member])) for member in Outcome),
        ]
        self.fore: int | None = None

    def clean_person(self) -> str:
        text: str = self.cleaned_data.get("person", "")
        if not text:
            return ""
        compact = text.replace(" ", "").replace("-", "").replace("+", "")
        too_short = (
            len(compact) < MIN_NUMBER_DIGITS
            if compact.isascii() and compact.isdigit()
            else len(compact) < _MIN_NAME_LENGTH
        )
        if too_short:
            raise forms.ValidationError(
                _("Skriv minst två bokstäver av namnet eller fyra siffror av personnumret.")
            )
        return text

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start = cleaned.get("date_from")
        end = cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("Slutdatumet kan inte vara före startdatumet."))
        raw = self.data.get(FORE, "")
        if raw:
            if raw.isascii() and raw.isdigit() and 0 < int(raw) <= _MAX_ID:
                self.fore = int(raw)
            else:
                # Not typed by anyone: a link that was cut or edited. Start again from the top.
                self.add_error(
                    None,
                    _(
                        "Länken till sidan är felaktig. Visa de senaste händelserna och bläddra igen."
                    ),
                )
        return cleaned

    def activity_filter(self) -> ActivityFilter:
        """The filters of a valid form."""
        values = self.cleaned_data
        return ActivityFilter(
            person=values.get("person", ""),
            action=values.get("action", ""),
            outcome=values.get("outcome", ""),
            date_from=values.get("date_from"),
            date_to=values.get("date_to"),
        )

    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in self.fields)
