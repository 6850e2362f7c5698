"""The forms of the inquiries: the employer's answer, and the agency's inquiry (back-office).

Every field is checked on the server. What an answer may say depends on the inquiry it answers
(income: salary, extent and start of employment; absence: the days absent within the period
asked about), so the answer form knows its inquiry: the page passes it, and otherwise (the API,
a correction) it is found by the reference in the ``inquiry`` field. Whether the inquiry is the
employer's and still open is the handler's rule (``handler.InquiryAnswer.check``).
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.backoffice.forms import IsoDateField, PersonalNumberField
from portal.eservices.inquiries.models import Inquiry

#: The highest monthly salary accepted, in kronor (a higher figure is a typing mistake).
MAX_MONTHLY_SALARY = 1_000_000
#: How many absence periods the form has room for.
ABSENCE_ROWS = 4
#: The longest period the agency may ask about, and how far ahead a due date may lie.
MAX_PERIOD = timedelta(days=366)
MAX_DUE = timedelta(days=180)

ABSENT_CHOICES = [
    ("yes", gettext_lazy("Ja, den anställda var frånvarande")),
    ("no", gettext_lazy("Nej, ingen frånvaro under perioden")),
]


class KronorField(forms.CharField):
    """Whole kronor, written with or without spaces between the thousands (35 000)."""

    def __init__(self, *, max_value: int, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)
        self.max_value = max_value

    def clean(self, value: Any) -> int | None:
        text = super().clean(value)
        if text in (None, ""):
            return None
        digits = "".join(str(text).split()).removesuffix("kr").removesuffix(":-")
        if not (digits.isascii() and digits.isdigit()):
            raise forms.ValidationError(
                _("Skriv beloppet i hela kronor med siffror, till exempel 32 500.")
            )
        amount = int(digits)
        if amount <= 0:
            raise forms.ValidationError(_("Månadslönen måste vara större än noll."))
        if amount > self.max_value:
            raise forms.ValidationError(
                _("Månadslönen kan inte vara mer än %(max)s kr. Kontrollera beloppet.")
                % {"max": f"{self.max_value:,}".replace(",", " ")}
            )
        return amount


def _absence_fields() -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {}
    for row in range(1, ABSENCE_ROWS + 1):
        fields[f"absence_{row}_from"] = IsoDateField(
            label=format_lazy(gettext_lazy("Frånvaro {row}, första dagen"), row=row),
            required=False,
        )
        fields[f"absence_{row}_to"] = IsoDateField(
            label=format_lazy(gettext_lazy("Frånvaro {row}, sista dagen"), row=row),
            required=False,
        )
    return fields


#: The absence rows as declared fields (so that the API knows them as the form's fields).
_AbsenceRows = type("_AbsenceRows", (forms.Form,), _absence_fields())


class InquiryAnswerForm(_AbsenceRows):  # type: ignore[valid-type,misc]
    """The answer to one inquiry; the fields of the other kind are ignored (and left empty)."""

    inquiry = forms.CharField(
        label=gettext_lazy("Förfrågan"),
        max_length=24,
        widget=forms.HiddenInput,
        error_messages={"required": gettext_lazy("Svaret måste gälla en förfrågan.")},
    )
    # Income
    monthly_salary = KronorField(
        label=gettext_lazy("Månadslön före skatt, i kronor"),
        max_value=MAX_MONTHLY_SALARY,
        required=False,
        help_text=gettext_lazy("Den fasta lönen per månad vid heltid eller den avtalade tiden."),
    )
    employment_extent = forms.IntegerField(
        label=gettext_lazy("Sysselsättningsgrad i procent"),
        required=False,
        help_text=gettext_lazy("100 för heltid."),
        error_messages={"invalid": gettext_lazy("Skriv sysselsättningsgraden som ett heltal.")},
    )
    employment_start_date = IsoDateField(label=gettext_lazy("Anställd sedan"), required=False)
    # Absence
    absent = forms.ChoiceField(
        label=gettext_lazy("Var den anställda frånvarande någon gång under perioden?"),
        choices=ABSENT_CHOICES,
        widget=forms.RadioSelect,
        required=False,
    )
    comment = forms.CharField(
        label=gettext_lazy("Övrigt som myndigheten behöver veta (frivilligt)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea,
    )

    field_order = (
        "inquiry",
        "monthly_salary",
        "employment_extent",
        "employment_start_date",
        "absent",
        *(f"absence_{row}_{end}" for row in range(1, ABSENCE_ROWS + 1) for end in ("from", "to")),
        "comment",
    )

    def __init__(self, *args: Any, inquiry: Inquiry | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: The inquiry answered (given by its page; otherwise found by the reference).
        self.answering = inquiry

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        inquiry = self.answering
        reference = cleaned.get("inquiry")
        if inquiry is None and reference:
            inquiry = Inquiry.objects.filter(reference=reference).first()
        if inquiry is None or reference != inquiry.reference:
            if "inquiry" not in self.errors:
                self.add_error("inquiry", _("Det finns ingen sådan förfrågan."))
            return cleaned
        cleaned["inquiry"] = inquiry.reference
        cleaned["kind"] = inquiry.kind
        cleaned["employee_personal_number"] = inquiry.employee_personal_number
        if inquiry.kind == Inquiry.Kind.INCOME:
            self._clean_income(cleaned)
        else:
            assert inquiry.period_from is not None  # noqa: S101 (an absence inquiry has one)
            assert inquiry.period_to is not None  # noqa: S101
            cleaned["period"] = {
                "from": inquiry.period_from.isoformat(),
                "to": inquiry.period_to.isoformat(),
            }
            self._clean_absence(cleaned, inquiry)
        return cleaned

    def _clean_income(self, cleaned: dict[str, Any]) -> None:
        if cleaned.get("monthly_salary") is None and "monthly_salary" not in self.errors:
            self.add_error("monthly_salary", _("Skriv den anställdas månadslön."))
        extent = cleaned.get("employment_extent")
        if extent is None:
            if "employment_extent" not in self.errors:
                self.add_error("employment_extent", _("Skriv sysselsättningsgraden i procent."))
        elif not 1 <= extent <= 100:  # noqa: PLR2004
            self.add_error(
                "employment_extent", _("Sysselsättningsgraden ska vara mellan 1 och 100 procent.")
            )
        start = cleaned.get("employment_start_date")
        if start is None:
            if "employment_start_date" not in self.errors:
                self.add_error("employment_start_date", _("Skriv när anställningen började."))
        elif start > timezone.localdate():
            self.add_error("employment_start_date", _("Anställningen kan inte börja i framtiden."))
        cleaned["absent"] = ""
        for row in range(1, ABSENCE_ROWS + 1):
            cleaned[f"absence_{row}_from"] = cleaned[f"absence_{row}_to"] = None

    def _clean_absence(self, cleaned: dict[str, Any], inquiry: Inquiry) -> None:
        cleaned["monthly_salary"] = cleaned["employment_extent"] = None
        cleaned["employment_start_date"] = None
        absent = cleaned.get("absent")
        if not absent:
            if "absent" not in self.errors:
                self.add_error("absent", _("Svara om den anställda var frånvarande."))
            return
        if absent == "no":
            for row in range(1, ABSENCE_ROWS + 1):
                cleaned[f"absence_{row}_from"] = cleaned[f"absence_{row}_to"] = None
            return
        periods = self._absence_periods(cleaned, inquiry)
        if not periods and not any(
            f"absence_{row}_{end}" in self.errors
            for row in range(1, ABSENCE_ROWS + 1)
            for end in ("from", "to")
        ):
            self.add_error("absence_1_from", _("Skriv vilka dagar den anställda var frånvarande."))
        periods.sort()
        for (first_from, first_to, _first_row), (second_from, _second_to, row) in pairwise(periods):
            if second_from <= first_to:
                self.add_error(
                    f"absence_{row}_from",
                    _("Frånvaroperioderna överlappar varandra (%(from)s – %(to)s).")
                    % {"from": first_from.isoformat(), "to": first_to.isoformat()},
                )

    def _absence_periods(
        self, cleaned: dict[str, Any], inquiry: Inquiry
    ) -> list[tuple[date, date, int]]:
        periods = []
        for row in range(1, ABSENCE_ROWS + 1):
            start, end = cleaned.get(f"absence_{row}_from"), cleaned.get(f"absence_{row}_to")
            if f"absence_{row}_from" in self.errors or f"absence_{row}_to" in self.errors:
                continue
            if start is None and end is None:
                continue
            if start is None or end is None:
                field = f"absence_{row}_from" if start is None else f"absence_{row}_to"
                self.add_error(field, _("Skriv både första och sista dagen."))
                continue
            if end < start:
                self.add_error(f"absence_{row}_to", _("Sista dagen kan inte vara före den första."))
                continue
            problem = outside_period(start, end, inquiry)
            if problem:
                self.add_error(f"absence_{row}_from", problem)
                continue
            periods.append((start, end, row))
        return periods


def outside_period(start: date, end: date, inquiry: Inquiry) -> str:
    """Why an absence from ``start`` to ``end`` does not fit the period asked about ('' if it
    does)."""
    assert inquiry.period_from is not None  # noqa: S101 (an absence inquiry has a period)
    assert inquiry.period_to is not None  # noqa: S101
    if start < inquiry.period_from or end > inquiry.period_to:
        return _("Frånvaron måste ligga inom perioden som frågan gäller, %(from)s – %(to)s.") % {
            "from": inquiry.period_from.isoformat(),
            "to": inquiry.period_to.isoformat(),
        }
    return ""


KIND_CHOICES = [
    (
        Inquiry.Kind.INCOME.value,
        gettext_lazy("Inkomst: månadslön, sysselsättningsgrad och anställningsdag"),
    ),
    (Inquiry.Kind.ABSENCE.value, gettext_lazy("Frånvaro under en period")),
]


class InquiryForm(forms.Form):
    """The agency's inquiry to an employer (the back-office's form)."""

    kind = forms.ChoiceField(
        label=gettext_lazy("Vad gäller frågan?"),
        choices=KIND_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Välj vad frågan gäller.")},
    )
    employee_personal_number = PersonalNumberField(
        label=gettext_lazy("Den anställdas personnummer eller samordningsnummer"),
        help_text=gettext_lazy("ÅÅÅÅMMDD-NNNN"),
        error_messages={"required": gettext_lazy("Skriv den anställdas personnummer.")},
    )
    period_from = IsoDateField(label=gettext_lazy("Frånvaro: periodens första dag"), required=False)
    period_to = IsoDateField(label=gettext_lazy("Frånvaro: periodens sista dag"), required=False)
    due_date = IsoDateField(
        label=gettext_lazy("Svara senast"),
        error_messages={"required": gettext_lazy("Skriv sista dag för svar.")},
    )
    question = forms.CharField(
        label=gettext_lazy("Fråga eller förklaring till arbetsgivaren (frivilligt)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea,
    )
