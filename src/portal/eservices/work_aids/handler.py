"""The workplace-aids grant: computed from the cost the same way everywhere (the form's live
figure, the check page, the receipt and what the agency receives)."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.eservices.framework import Handler
from portal.eservices.work_aids.forms import AID_KINDS, YES_NO, WorkAidsForm
from portal.identity.numbers import mask_personal_number

#: The part of the cost the employer always pays itself.
OWN_SHARE = 10_000
#: The grant's cap for aids that are not computer-based.
CAP = 50_000


def cap(aid_kind: str) -> int:
    return settings.WORK_AIDS_COMPUTER_CAP if aid_kind == "computer" else CAP


def grant(cost: int, aid_kind: str) -> int:
    """Half of the cost above 10 000 kr, in whole kronor (rounded down), at most the cap."""
    return min(cap(aid_kind), max(0, cost - OWN_SHARE) // 2)


def kronor(amount: int) -> str:
    return f"{amount:,}".replace(",", "\u00a0") + "\u00a0kr"


class WorkAids(Handler):
    form_class = WorkAidsForm
    reference_prefix = "HJM"
    correction_days: ClassVar[int] = 30
    start_label = gettext_lazy("Ansök om bidrag")
    attachments = True
    form_include = "eservices/work_aids_grant.html"
    form_script = "portal/grant.js"

    def content(self, cleaned: dict[str, Any]) -> dict[str, Any]:
        content = super().content(cleaned)
        if isinstance(content.get("cost"), int) and content.get("aid_kind"):
            content["grant"] = grant(content["cost"], content["aid_kind"])
        return content

    def form_context(self, form: forms.Form) -> dict[str, Any]:
        """The grant for what is filled in so far (also without JavaScript, after "Fortsätt")."""
        sentence = _("Med den kostnad och sort ni har angett blir bidraget {amount}.")
        amount = None
        kind = form["aid_kind"].value()
        try:
            cost = form.fields["cost"].clean(form["cost"].value())
        except ValidationError:
            cost = None
        if cost and kind in {"computer", "other"}:
            amount = grant(cost, kind)
        return {
            "grant": {
                "own_share": OWN_SHARE,
                "cap": CAP,
                "computer_cap": settings.WORK_AIDS_COMPUTER_CAP,
                "own_share_text": kronor(OWN_SHARE),
                "cap_text": kronor(CAP),
                "computer_cap_text": kronor(settings.WORK_AIDS_COMPUTER_CAP),
                "sentence_template": sentence,
                "sentence": sentence.format(amount=kronor(amount)) if amount is not None else "",
            }
        }

    def initial(self, content: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in content.items() if key not in {"grant", "attachments"}}

    def subject(self, content: dict[str, Any]) -> str:
        return str(content.get("employee_personal_number", ""))

    def summary(self, content: dict[str, Any]) -> list[tuple[str | Promise, str]]:
        fields = WorkAidsForm.base_fields
        kinds = dict(AID_KINDS)
        answers = dict(YES_NO)
        rows: list[tuple[str | Promise, str]] = [
            (
                fields["employee_personal_number"].label or "",
                mask_personal_number(str(content.get("employee_personal_number", ""))),
            ),
            (fields["employee_name"].label or "", str(content.get("employee_name", ""))),
            (fields["employed_since"].label or "", str(content.get("employed_since", ""))),
            (fields["aid"].label or "", str(content.get("aid", ""))),
            (fields["aid_kind"].label or "", str(kinds.get(content.get("aid_kind", ""), ""))),
            (fields["need"].label or "", str(content.get("need", ""))),
            (fields["supplier"].label or "", str(content.get("supplier", ""))),
            (fields["cost"].label or "", kronor(int(content.get("cost") or 0))),
            (gettext_lazy("Beräknat bidrag"), kronor(int(content.get("grant") or 0))),
            (fields["purchased"].label or "", str(answers.get(content.get("purchased", ""), ""))),
            (fields["contact_name"].label or "", str(content.get("contact_name", ""))),
            (fields["contact_phone"].label or "", str(content.get("contact_phone", ""))),
        ]
        files = content.get("attachments") or []
        rows.append(
            (
                gettext_lazy("Bilagor"),
                ", ".join(f"{item['name']} ({_size(item['size'])})" for item in files)
                or str(gettext_lazy("Inga")),
            )
        )
        return rows


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")
    return f"{max(1, round(size / 1024))} kB"
