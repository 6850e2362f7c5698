"""Forms of "Anslut ditt företag", with errors in Swedish for the error summary."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.employers.register import InvalidEmployerId, SignatoryRule, normalise_employer_id
from portal.identity.numbers import InvalidPersonalNumber, normalise_personal_number


class OrganisationNumberForm(forms.Form):
    organisation_number = forms.CharField(
        label=_("Organisationsnummer"),
        max_length=20,
        help_text=_(
            "Tio siffror, till exempel 556677-8899. Enskild näringsidkare anger sitt personnummer."
        ),
        error_messages={"required": _("Ange arbetsgivarens organisationsnummer.")},
    )

    def clean_organisation_number(self) -> str:
        try:
            return normalise_employer_id(self.cleaned_data["organisation_number"])
        except InvalidEmployerId as error:
            raise forms.ValidationError(str(error)) from None


class EnrolmentForm(forms.Form):
    administrator = forms.ChoiceField(
        label=_("Vem ska bli behörighetsadministratör?"),
        choices=[("self", _("Jag själv")), ("other", _("En annan person"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Välj vem som ska bli behörighetsadministratör.")},
    )
    administrator_personal_number = forms.CharField(
        label=_("Personnummer för behörighetsadministratören"),
        required=False,
        max_length=20,
        help_text=_("Tolv siffror, till exempel 19800101-1231."),
    )
    administrator_email = forms.EmailField(
        label=_("E-postadress till behörighetsadministratören"),
        error_messages={
            "required": _("Ange behörighetsadministratörens e-postadress."),
            "invalid": _("Ange en e-postadress i rätt format, till exempel namn@foretaget.se."),
        },
    )
    your_email = forms.EmailField(
        label=_("Din e-postadress"),
        help_text=_("Dit skickar vi bekräftelsen när anslutningen är klar."),
        error_messages={
            "required": _("Ange din e-postadress."),
            "invalid": _("Ange en e-postadress i rätt format, till exempel namn@foretaget.se."),
        },
    )
    accept_terms = forms.BooleanField(
        label=_("Jag har läst villkoren och godkänner dem för arbetsgivarens räkning."),
        error_messages={
            "required": _("Du behöver godkänna villkoren för att kunna ansluta arbetsgivaren.")
        },
    )

    def __init__(self, *args: Any, rule: SignatoryRule, person_number: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.person_number = person_number
        self.co_signer_fields: list[str] = []
        if not rule.can_sign_alone(person_number):
            for signatory in rule.signatories:
                if signatory.personal_number == person_number:
                    continue
                name = f"co_signer_{signatory.personal_number}"
                self.fields[name] = forms.EmailField(
                    label=_("E-postadress till %(name)s (valfritt)") % {"name": signatory.name},
                    required=False,
                    error_messages={
                        "invalid": _(
                            "Ange en e-postadress i rätt format, till exempel namn@foretaget.se."
                        )
                    },
                )
                self.co_signer_fields.append(name)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("administrator") == "other":
            raw = cleaned.get("administrator_personal_number", "")
            if not raw:
                self.add_error(
                    "administrator_personal_number",
                    _("Ange behörighetsadministratörens personnummer."),
                )
            else:
                try:
                    cleaned["administrator_personal_number"] = normalise_personal_number(raw)
                except InvalidPersonalNumber:
                    self.add_error(
                        "administrator_personal_number",
                        _(
                            "Personnumret är inte giltigt. Ange tolv siffror, till exempel 19800101-1231."
                        ),
                    )
        elif cleaned.get("administrator") == "self":
            cleaned["administrator_personal_number"] = self.person_number
        return cleaned

    def co_signer_emails(self) -> dict[str, str]:
        return {
            name.removeprefix("co_signer_"): self.cleaned_data[name]
            for name in self.co_signer_fields
            if self.cleaned_data.get(name)
        }
