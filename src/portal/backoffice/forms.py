"""Fields the back-office forms share: the same number, date and case rules everywhere."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.employers.register import InvalidEmployerId, normalise_employer_id
from portal.identity.numbers import (
    InvalidPersonalNumber,
    mask_personal_number,
    normalise_personal_number,
)


class EmployerIdField(forms.CharField):
    """An organisation number (or a sole trader's personal number), cleaned to its normal form."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", gettext_lazy("Organisationsnummer"))
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        try:
            return normalise_employer_id(text)
        except InvalidEmployerId as error:
            raise forms.ValidationError(str(error)) from None


class PersonalNumberField(forms.CharField):
    """A personal or coordination number, cleaned to 12 digits."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        try:
            return normalise_personal_number(text)
        except InvalidPersonalNumber:
            raise forms.ValidationError(_("Personnumret är inte giltigt.")) from None


class IsoDateField(forms.DateField):
    """A date written YYYY-MM-DD."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", gettext_lazy("ÅÅÅÅ-MM-DD"))
        # Merged, so that a field's own messages (say, for "required") keep this one.
        kwargs["error_messages"] = {
            "invalid": gettext_lazy("Ange datumet som ÅÅÅÅ-MM-DD, till exempel 2026-11-27."),
            **kwargs.get("error_messages", {}),
        }
        super().__init__(**kwargs)


class ReceivedOnField(IsoDateField):
    """The day a paper or letter was received: today or earlier."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", gettext_lazy("Mottagen den"))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> date:
        received: date = super().clean(value)
        if received > timezone.localdate():
            raise forms.ValidationError(_("Mottagningsdagen kan inte ligga i framtiden."))
        return received


def case_number_field() -> forms.CharField:
    return forms.CharField(label=gettext_lazy("Ärendenummer"), max_length=64)


#: Something written like a personal identity number: six or eight digits, a separator or none,
#: four digits.
_NUMBER_LIKE = re.compile(r"(?<!\d)(?:\d{6}|\d{8})[-+ ]?\d{4}(?!\d)")


def mask_numbers(text: str) -> str:
    """``text`` with every valid personal identity number in it masked, for the audit log."""

    def masked(match: re.Match[str]) -> str:
        try:
            return mask_personal_number(normalise_personal_number(match.group(0)))
        except InvalidPersonalNumber:
            return match.group(0)

    return _NUMBER_LIKE.sub(masked, text)


class LookupReasonForm(forms.Form):
    """A look-up of personal data: it needs the reason (a case number, a call from a customer),
    which goes into the audit log with any personal identity number in it masked."""

    reason = forms.CharField(
        label=gettext_lazy("Skäl för sökningen"),
        max_length=200,
        help_text=gettext_lazy(
            "Till exempel ärendenummer eller samtal från kund. Sökningen loggas."
        ),
        error_messages={
            "required": gettext_lazy("Ange skälet till sökningen, till exempel ett ärendenummer.")
        },
    )

    def clean_reason(self) -> str:
        return mask_numbers(str(self.cleaned_data["reason"]))
