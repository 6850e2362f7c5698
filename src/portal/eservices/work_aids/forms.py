"""The workplace-aids application's form: who needs the aid, what it is and costs, and the two
conditions the grant has (employment longer than 12 months, the aid not yet bought)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.backoffice.forms import IsoDateField, PersonalNumberField
from portal.eservices.fields import KronorField, contact_name_field, contact_phone_field

AID_KINDS = [
    (
        "computer",
        gettext_lazy("Datorbaserat hjälpmedel (till exempel dator, program, skärmläsare)"),
    ),
    ("other", gettext_lazy("Annat hjälpmedel")),
]
YES_NO = [("no", gettext_lazy("Nej")), ("yes", gettext_lazy("Ja"))]


def twelve_months_before(day: date) -> date:
    """The same day a year earlier (28 February for 29 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


class WorkAidsForm(forms.Form):
    employee_personal_number = PersonalNumberField(
        label=gettext_lazy("Den anställdas personnummer eller samordningsnummer"),
        help_text=gettext_lazy("ÅÅÅÅMMDD-NNNN"),
        error_messages={"required": gettext_lazy("Skriv den anställdas personnummer.")},
    )
    employee_name = forms.CharField(
        label=gettext_lazy("Den anställdas namn"),
        max_length=100,
        error_messages={"required": gettext_lazy("Skriv den anställdas namn.")},
    )
    employed_since = IsoDateField(
        label=gettext_lazy("Anställd hos er sedan"),
        error_messages={"required": gettext_lazy("Skriv när anställningen började.")},
    )
    aid = forms.CharField(
        label=gettext_lazy("Vilket hjälpmedel ansöker ni om bidrag till?"),
        max_length=200,
        error_messages={"required": gettext_lazy("Skriv vilket hjälpmedel det gäller.")},
    )
    aid_kind = forms.ChoiceField(
        label=gettext_lazy("Vilken sorts hjälpmedel är det?"),
        choices=AID_KINDS,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Välj vilken sorts hjälpmedel det är.")},
    )
    need = forms.CharField(
        label=gettext_lazy("Hur hjälper hjälpmedlet den anställda att arbeta?"),
        max_length=2000,
        widget=forms.Textarea,
        error_messages={
            "required": gettext_lazy("Beskriv varför den anställda behöver hjälpmedlet i arbetet.")
        },
    )
    supplier = forms.CharField(
        label=gettext_lazy("Leverantör"),
        max_length=200,
        error_messages={"required": gettext_lazy("Skriv vem ni tänker köpa hjälpmedlet av.")},
    )
    cost = KronorField(
        label=gettext_lazy("Kostnad enligt offert, i kronor"),
        help_text=gettext_lazy("Hela kostnaden för hjälpmedlet, till exempel 24 000"),
        min_value=1,
        error_messages={
            "required": gettext_lazy("Skriv vad hjälpmedlet kostar."),
            "min_value": gettext_lazy("Kostnaden måste vara minst 1 krona."),
            "max_value": gettext_lazy("Kostnaden är orimligt hög. Kontrollera beloppet."),
        },
    )
    purchased = forms.ChoiceField(
        label=gettext_lazy("Har hjälpmedlet redan köpts in?"),
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Svara på om hjälpmedlet redan har köpts in.")},
    )
    contact_name = contact_name_field()
    contact_phone = contact_phone_field()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        today = timezone.localdate()
        since = cleaned.get("employed_since")
        if since and since > today + timedelta(days=366):
            self.add_error("employed_since", _("Datumet ligger för långt fram i tiden."))
        elif since and since >= twelve_months_before(today):
            self.add_error(
                "employed_since",
                _(
                    "Bidraget gäller den som har varit anställd hos er i mer än 12 månader. Under "
                    "de första 12 månaderna av en anställning kan Arbetsförmedlingen ge stöd till "
                    "hjälpmedel på arbetsplatsen – kontakta Arbetsförmedlingen."
                ),
            )
        if cleaned.get("purchased") == "yes":
            self.add_error(
                "purchased",
                _(
                    "Bidraget kan bara ges till hjälpmedel som inte har köpts in än. Ansök innan "
                    "ni köper hjälpmedlet."
                ),
            )
        return cleaned
