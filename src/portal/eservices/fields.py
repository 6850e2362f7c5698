"""Form fields several e-services ask for in the same way."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy


def contact_name_field() -> forms.CharField:
    return forms.CharField(
        label=gettext_lazy("Kontaktperson hos arbetsgivaren"),
        max_length=100,
        error_messages={"required": gettext_lazy("Skriv namnet på en kontaktperson.")},
    )


def contact_phone_field() -> forms.RegexField:
    return forms.RegexField(
        label=gettext_lazy("Kontaktpersonens telefonnummer"),
        regex=r"^\+?[0-9 ()-]{6,20}$",
        error_messages={
            "required": gettext_lazy("Skriv kontaktpersonens telefonnummer."),
            "invalid": gettext_lazy("Skriv telefonnumret med siffror, till exempel 060-12 34 56."),
        },
    )


class KronorField(forms.IntegerField):
    """An amount in whole kronor, written the way people write it: "12 500", "12500 kr"."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", 100_000_000)
        super().__init__(**kwargs)
        self.widget.input_type = "text"
        self.widget.attrs["inputmode"] = "numeric"

    def to_python(self, value: Any) -> int | None:
        if isinstance(value, str):
            value = re.sub(r"(?i)[\s\u00a0\u202f]|kr\.?$|:-$", "", value.strip())
            if re.fullmatch(r"\d+[,.]00?", value):
                value = re.split(r"[,.]", value)[0]
            if value and not value.isdigit():
                raise ValidationError(
                    gettext_lazy("Skriv beloppet i hela kronor med siffror, till exempel 12 500."),
                    code="invalid",
                )
        return super().to_python(value)
