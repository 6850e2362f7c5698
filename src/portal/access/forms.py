"""The access administrators' forms. They check the form of what was typed; the rules of the model
(known e-services, dates in order, the last administrator) are checked again by the services,
whose messages the pages show in the same error summary."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.access.administration import MAX_REASON_LENGTH, GrantSpec
from portal.access.models import Level
from portal.backoffice.forms import IsoDateField
from portal.eservices import registry
from portal.identity.eidas_identifiers import InvalidEidasIdentifier, normalise_eidas_identifier
from portal.identity.numbers import InvalidPersonalNumber, normalise_personal_number

NO_ACCESS = ""


def _reason_field() -> forms.CharField:
    return forms.CharField(
        label=gettext_lazy("Skäl"),
        help_text=gettext_lazy("Till exempel ”Ny på löneavdelningen”. Skälet sparas i loggen."),
        max_length=MAX_REASON_LENGTH,
        error_messages={"required": gettext_lazy("Skriv varför ändringen görs.")},
    )


def _level_choices() -> list[tuple[str, str]]:
    return [(str(value), capfirst(str(label))) for value, label in Level.choices]


def _dates_in_order(cleaned: dict[str, Any], form: forms.Form) -> None:
    start: date | None = cleaned.get("valid_from")
    end: date | None = cleaned.get("valid_until")
    if start and end and end < start:
        form.add_error("valid_until", _("Slutdatumet kan inte vara före startdatumet."))
    if end and end < timezone.localdate():
        form.add_error("valid_until", _("Slutdatumet har redan passerat."))


class IdentityKind:
    """How the person to add is identified: the radio of the add-person form."""

    PERSONAL_NUMBER = "personal_number"
    EIDAS = "eidas"


class PersonAddForm(forms.Form):
    """Add a person: who (a Swedish personal identity number or a foreign e-ID's eIDAS
    identifier), roles, and for a user a level per e-service, with common dates.

    Both identity fields are always on the page (the page works without JavaScript); the radio
    decides which of them is required and used, and the other is ignored.
    """

    identity_kind = forms.ChoiceField(
        label=gettext_lazy("Hur loggar personen in?"),
        choices=[
            (IdentityKind.PERSONAL_NUMBER, gettext_lazy("Personen har svenskt personnummer")),
            (
                IdentityKind.EIDAS,
                gettext_lazy("Personen loggar in med utländsk e-legitimation (eIDAS)"),
            ),
        ],
        widget=forms.RadioSelect,
        # A form without the radio (an older page, a script) is about a personal number.
        required=False,
        initial=IdentityKind.PERSONAL_NUMBER,
        error_messages={
            "invalid_choice": gettext_lazy(
                "Välj om personen har svenskt personnummer eller utländsk e-legitimation."
            )
        },
    )
    personal_number = forms.CharField(
        label=gettext_lazy("Personnummer"),
        help_text=gettext_lazy(
            "ÅÅÅÅMMDD-NNNN. Namnet hämtas från e-legitimationen när personen loggar in."
        ),
        required=False,
    )
    eidas_identifier = forms.CharField(
        label=gettext_lazy("eIDAS-identitet"),
        help_text=gettext_lazy(
            "Landskoden för landet som har utfärdat e-legitimationen, SE och personens identitet, "
            "till exempel DE/SE/1234567890. Be personen om den."
        ),
        required=False,
    )
    email = forms.EmailField(
        label=gettext_lazy("E-postadress"),
        help_text=gettext_lazy("Dit skickar vi besked om personens behörighet."),
        error_messages={
            "required": gettext_lazy("Skriv personens e-postadress."),
            "invalid": gettext_lazy("Skriv en e-postadress som namn@exempel.se."),
        },
    )
    administrator = forms.BooleanField(
        label=gettext_lazy(
            "Behörighetsadministratör: får lägga till, ändra och ta bort behörigheter"
        ),
        required=False,
    )
    user = forms.BooleanField(
        label=gettext_lazy("Användare: får använda de e-tjänster som väljs nedan"), required=False
    )
    valid_from = IsoDateField(label=gettext_lazy("Gäller från (valfritt)"), required=False)
    valid_until = IsoDateField(label=gettext_lazy("Gäller till och med (valfritt)"), required=False)
    reason = _reason_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(NO_ACCESS, _("Ingen behörighet")), *_level_choices()]
        for eservice in registry.all_eservices():
            self.fields[f"eservice_{eservice.code}"] = forms.ChoiceField(
                label=str(eservice.name), choices=choices, required=False, widget=forms.RadioSelect
            )
        # The reason last, after the grants, where a person finishes the form.
        self.order_fields([*[f for f in self.fields if f != "reason"], "reason"])

    def eservice_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("eservice_")]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self._clean_identity(cleaned)
        if not cleaned.get("administrator") and not cleaned.get("user"):
            self.add_error(
                "user", _("Välj minst en roll: behörighetsadministratör eller användare.")
            )
        if self.grant_specs() and not cleaned.get("user"):
            self.add_error("user", _("Behörighet till e-tjänster kräver rollen användare."))
        _dates_in_order(cleaned, self)
        return cleaned

    def _clean_identity(self, cleaned: dict[str, Any]) -> None:
        """Check the identity field the radio chose, and empty the other."""
        if "identity_kind" not in cleaned:
            return  # an invalid choice, already explained
        kind = cleaned["identity_kind"] or IdentityKind.PERSONAL_NUMBER
        cleaned["identity_kind"] = kind
        if kind == IdentityKind.EIDAS:
            cleaned["personal_number"] = ""
            try:
                cleaned["eidas_identifier"] = normalise_eidas_identifier(
                    cleaned.get("eidas_identifier", "")
                )
            except InvalidEidasIdentifier as error:
                self.add_error("eidas_identifier", error.message)
            return
        cleaned["eidas_identifier"] = ""
        text = cleaned.get("personal_number", "")
        if not text:
            self.add_error("personal_number", _("Skriv personens personnummer."))
            return
        try:
            cleaned["personal_number"] = normalise_personal_number(text)
        except InvalidPersonalNumber:
            self.add_error(
                "personal_number",
                _("Personnumret är inte giltigt. Skriv det som ÅÅÅÅMMDD-NNNN."),
            )

    def grant_specs(self) -> list[GrantSpec]:
        cleaned = getattr(self, "cleaned_data", {})
        return [
            GrantSpec(
                eservice=name.removeprefix("eservice_"),
                level=level,
                valid_from=cleaned.get("valid_from"),
                valid_until=cleaned.get("valid_until"),
            )
            for name, level in cleaned.items()
            if name.startswith("eservice_") and level
        ]


class GrantForm(forms.Form):
    """Give (or change) a person's access to one e-service."""

    eservice = forms.ChoiceField(
        label=gettext_lazy("E-tjänst"),
        error_messages={
            "required": gettext_lazy("Välj en e-tjänst."),
            "invalid_choice": gettext_lazy("Välj en av e-tjänsterna i listan."),
        },
    )
    level = forms.ChoiceField(
        label=gettext_lazy("Nivå"),
        choices=_level_choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Välj nivå.")},
    )
    valid_from = IsoDateField(label=gettext_lazy("Gäller från (valfritt)"), required=False)
    valid_until = IsoDateField(label=gettext_lazy("Gäller till och med (valfritt)"), required=False)
    reason = _reason_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["eservice"].choices = [("", _("Välj e-tjänst"))] + [  # type: ignore[attr-defined]
            (e.code, e.name) for e in registry.all_eservices()
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        _dates_in_order(cleaned, self)
        return cleaned

    def spec(self) -> GrantSpec:
        return GrantSpec(
            eservice=self.cleaned_data["eservice"],
            level=self.cleaned_data["level"],
            valid_from=self.cleaned_data.get("valid_from"),
            valid_until=self.cleaned_data.get("valid_until"),
        )


class ReasonForm(forms.Form):
    """Revoke a grant, end a role, or add one: all that is asked is why."""

    reason = _reason_field()


class EmailForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("E-postadress"),
        error_messages={
            "required": gettext_lazy("Skriv personens e-postadress."),
            "invalid": gettext_lazy("Skriv en e-postadress som namn@exempel.se."),
        },
    )


class RemoveAllForm(forms.Form):
    reason = _reason_field()
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "Jag förstår att personen förlorar all behörighet hos arbetsgivaren direkt."
        ),
        error_messages={"required": gettext_lazy("Bekräfta att all behörighet ska tas bort.")},
    )


class PeopleFilterForm(forms.Form):
    """The filters of the list of everyone with access (GET parameters)."""

    q = forms.CharField(
        label=gettext_lazy("Sök namn eller personnummer"),
        help_text=gettext_lazy("Eller eIDAS-identitet, för en person med utländsk e-legitimation."),
        required=False,
        max_length=300,
    )
    role = forms.ChoiceField(label=gettext_lazy("Roll"), required=False)
    eservice = forms.ChoiceField(label=gettext_lazy("E-tjänst"), required=False)
    status = forms.ChoiceField(label=gettext_lazy("Visa"), required=False)
    sort = forms.ChoiceField(label=gettext_lazy("Sortera"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from portal.access.models import Role  # noqa: PLC0415
        from portal.access.selectors import Sort, Status  # noqa: PLC0415

        self.fields["role"].choices = [("", _("Alla roller")), *Role.choices]  # type: ignore[attr-defined]
        self.fields["eservice"].choices = [("", _("Alla e-tjänster"))] + [  # type: ignore[attr-defined]
            (e.code, e.name) for e in registry.all_eservices()
        ]
        self.fields["status"].choices = [  # type: ignore[attr-defined]
            (Status.ALL, _("Alla")),
            (Status.ACTIVE, _("Med behörighet som gäller nu")),
            (Status.EXPIRING, _("Behörighet som upphör inom 30 dagar")),
            (Status.NO_GRANTS, _("Användare utan e-tjänster")),
            (Status.SUSPENDED, _("Vilande behörighet")),
        ]
        self.fields["sort"].choices = [  # type: ignore[attr-defined]
            (Sort.NAME, _("Namn")),
            (Sort.ADDED, _("Senast tillagd")),
            (Sort.REVIEWED, _("Längst sedan granskning")),
        ]
