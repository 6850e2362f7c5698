"""The sick-leave report's form: what the law asks for, each field checked on the server."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.backoffice.forms import IsoDateField, PersonalNumberField
from portal.eservices.fields import contact_name_field, contact_phone_field

#: A new sickness within this many days of the last one continues the earlier sick-pay period.
RELAPSE_DAYS = 5
#: How far back a first day may lie (older sicknesses are reported on paper, with a case worker).
OLDEST_FIRST_DAY = timedelta(days=365)

EXTENTS = [
    ("full", gettext_lazy("Heltid")),
    ("three_quarters", gettext_lazy("Tre fjärdedelar")),
    ("half", gettext_lazy("Halvtid")),
    ("quarter", gettext_lazy("En fjärdedel")),
]


class SickReportForm(forms.Form):
    employee_personal_number = PersonalNumberField(
        label=gettext_lazy("Den anställdas personnummer eller samordningsnummer"),
        help_text=gettext_lazy("ÅÅÅÅMMDD-NNNN"),
        error_messages={"required": gettext_lazy("Skriv den anställdas personnummer.")},
    )
    first_day = IsoDateField(
        label=gettext_lazy("Första dagen i sjuklöneperioden"),
        error_messages={"required": gettext_lazy("Skriv första dagen i sjuklöneperioden.")},
    )
    last_day = IsoDateField(label=gettext_lazy("Sista sjukdagen, om den är känd"), required=False)
    extent = forms.ChoiceField(
        label=gettext_lazy("Hur mycket är den anställda sjuk?"),
        choices=EXTENTS,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Välj hur mycket den anställda är sjuk.")},
    )
    relapse = forms.BooleanField(
        label=gettext_lazy(
            "Den anställda var sjuk en tidigare period som slutade högst fem dagar före den här"
        ),
        required=False,
    )
    earlier_first_day = IsoDateField(
        label=gettext_lazy("Den tidigare periodens första dag"), required=False
    )
    earlier_last_day = IsoDateField(
        label=gettext_lazy("Den tidigare periodens sista dag"), required=False
    )
    contact_name = contact_name_field()
    contact_phone = contact_phone_field()
    late_explanation = forms.CharField(
        label=gettext_lazy("Varför kommer anmälan efter dag 21? (om den gör det)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        today = timezone.localdate()
        first = cleaned.get("first_day")
        last = cleaned.get("last_day")
        if first and first > today:
            self.add_error("first_day", _("Första dagen kan inte ligga i framtiden."))
        elif first and first < today - OLDEST_FIRST_DAY:
            self.add_error(
                "first_day",
                _(
                    "Datumet ligger mer än ett år tillbaka. Kontakta myndigheten för äldre sjukperioder."
                ),
            )
        if first and last and last < first:
            self.add_error("last_day", _("Sista sjukdagen kan inte vara före den första."))
        if cleaned.get("relapse"):
            self._clean_relapse(cleaned, first)
        else:
            cleaned["earlier_first_day"] = cleaned["earlier_last_day"] = None
        return cleaned

    def _clean_relapse(self, cleaned: dict[str, Any], first: Any) -> None:
        earlier_first = cleaned.get("earlier_first_day")
        earlier_last = cleaned.get("earlier_last_day")
        if not earlier_first:
            self.add_error("earlier_first_day", _("Skriv den tidigare periodens första dag."))
        if not earlier_last:
            self.add_error("earlier_last_day", _("Skriv den tidigare periodens sista dag."))
        if not (earlier_first and earlier_last and first):
            return
        if earlier_last < earlier_first:
            self.add_error(
                "earlier_last_day", _("Den tidigare periodens sista dag är före dess första.")
            )
        elif earlier_last >= first:
            self.add_error(
                "earlier_last_day",
                _("Den tidigare perioden måste ha slutat före den här periodens första dag."),
            )
        elif (first - earlier_last).days - 1 > RELAPSE_DAYS:
            self.add_error(
                "earlier_last_day",
                _(
                    "Den tidigare perioden slutade mer än fem dagar före den här och räknas inte "
                    "ihop med den. Ta bort markeringen."
                ),
            )
