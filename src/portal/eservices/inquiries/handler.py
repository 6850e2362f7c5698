"""The inquiries e-service's handler: an answer is a submission about one inquiry.

Answers start from the inquiry (its page in the inbox), never from an empty form; an answer can
be corrected for ``PORTAL_INQUIRY_CORRECTION_DAYS`` days, but never withdrawn (the agency asked,
and the employer has answered). The answer is linked to its inquiry in the submission's own
transaction (``received``).
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.employers.models import Employer
from portal.eservices.framework import Checked, Handler
from portal.eservices.inquiries import CODE
from portal.eservices.inquiries.forms import ABSENCE_ROWS, InquiryAnswerForm, outside_period
from portal.eservices.inquiries.models import Inquiry
from portal.eservices.models import Draft, Submission
from portal.identity.models import Person
from portal.identity.numbers import mask_personal_number


def _day(text: Any) -> date | None:
    return date.fromisoformat(text) if text else None


def _kronor(amount: Any) -> str:
    return f"{int(amount):,}".replace(",", " ") + " kr"


class InquiryAnswer(Handler):
    form_class = InquiryAnswerForm
    reference_prefix = "SVR"
    correction_days: ClassVar[int] = settings.INQUIRY_CORRECTION_DAYS
    withdrawable: ClassVar[bool] = False
    page_template: ClassVar[str] = "eservices/inquiries/inbox.html"

    def content(self, cleaned: dict[str, Any]) -> dict[str, Any]:
        content: dict[str, Any] = {
            "inquiry": cleaned["inquiry"],
            "kind": cleaned["kind"],
            "employee_personal_number": cleaned["employee_personal_number"],
        }
        if cleaned["kind"] == Inquiry.Kind.INCOME:
            content |= {
                "monthly_salary": cleaned["monthly_salary"],
                "employment_extent": cleaned["employment_extent"],
                "employment_start_date": cleaned["employment_start_date"].isoformat(),
            }
        else:
            content["period"] = cleaned["period"]
            content["absent"] = cleaned["absent"] == "yes"
            content["absences"] = sorted(
                (
                    {
                        "from": cleaned[f"absence_{row}_from"].isoformat(),
                        "to": cleaned[f"absence_{row}_to"].isoformat(),
                    }
                    for row in range(1, ABSENCE_ROWS + 1)
                    if cleaned.get(f"absence_{row}_from") and cleaned.get(f"absence_{row}_to")
                ),
                key=lambda period: period["from"],
            )
        content["comment"] = cleaned.get("comment") or ""
        return content

    def initial(self, content: dict[str, Any]) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "inquiry": content.get("inquiry", ""),
            "comment": content.get("comment", ""),
        }
        if content.get("kind") == Inquiry.Kind.INCOME:
            initial |= {
                "monthly_salary": str(content.get("monthly_salary", "")),
                "employment_extent": str(content.get("employment_extent", "")),
                "employment_start_date": content.get("employment_start_date", ""),
            }
        else:
            initial["absent"] = "yes" if content.get("absent") else "no"
            for row, period in enumerate(content.get("absences", []), start=1):
                initial[f"absence_{row}_from"] = period["from"]
                initial[f"absence_{row}_to"] = period["to"]
        return initial

    def subject(self, content: dict[str, Any]) -> str:
        return str(content.get("employee_personal_number", ""))

    def check(
        self,
        *,
        employer: Employer,
        content: dict[str, Any],
        today: date,
        corrects: Submission | None,
    ) -> Checked:
        """The inquiry must be the employer's, and open (or, for a correction, the one the
        corrected answer answered); the answer must fit its kind and period."""
        checked = Checked()
        inquiry = Inquiry.objects.filter(
            employer=employer, reference=content.get("inquiry", "")
        ).first()
        if inquiry is None:
            checked.errors["inquiry"] = _("Det finns ingen sådan förfrågan hos arbetsgivaren.")
            return checked
        if corrects is not None:
            if corrects.content.get("inquiry") != inquiry.reference:
                checked.errors["inquiry"] = _("En rättelse måste gälla samma förfrågan.")
                return checked
        elif inquiry.answer_id is not None:
            checked.errors["inquiry"] = _(
                "Förfrågan är redan besvarad. Rätta svaret i stället om något blev fel."
            )
            return checked
        if (
            content.get("kind") != inquiry.kind
            or content.get("employee_personal_number") != inquiry.employee_personal_number
            or (inquiry.kind == Inquiry.Kind.ABSENCE and content.get("period") != _period(inquiry))
        ):
            checked.errors["inquiry"] = _("Svaret passar inte förfrågan.")
            return checked
        if inquiry.kind == Inquiry.Kind.ABSENCE:
            for period in content.get("absences", []):
                problem = outside_period(_day(period["from"]), _day(period["to"]), inquiry)  # type: ignore[arg-type]
                if problem:
                    checked.errors["absence_1_from"] = problem
                    break
        if inquiry.due_date < today and corrects is None:
            checked.flags["after_due_date"] = True
        return checked

    def received(self, submission: Submission, *, request: HttpRequest | None) -> None:
        from portal.eservices.inquiries.services import inquiry_answer_link  # noqa: PLC0415

        inquiry_answer_link(submission=submission, request=request)

    def start_url(self, *, employer: Employer, draft: Draft | None) -> str:
        """A correction continues on its inquiry's page; anything else starts in the inbox."""
        if draft is not None and draft.corrects is not None:
            reference = draft.corrects.content.get("inquiry", "")
            if Inquiry.objects.filter(employer=employer, reference=reference).exists():
                return inquiry_url(employer, reference)
        return reverse("eservices:eservice", kwargs={"public_id": employer.public_id, "code": CODE})

    def page_context(
        self, *, request: HttpRequest, employer: Employer, person: Person
    ) -> dict[str, Any]:
        from portal.eservices.inquiries import selectors  # noqa: PLC0415

        return selectors.inbox(request, employer, person=person)

    def summary(self, content: dict[str, Any]) -> list[tuple[str | Promise, str]]:
        return [*self.inquiry_summary(content), *self.answer_summary(content)]

    def inquiry_summary(self, content: dict[str, Any]) -> list[tuple[str | Promise, str]]:
        """What the answer says about the inquiry it answers (its reference, kind, employee and
        period)."""
        rows: list[tuple[str | Promise, str]] = [
            (gettext_lazy("Svar på förfrågan"), str(content.get("inquiry", ""))),
            (gettext_lazy("Frågan gäller"), str(Inquiry.Kind(content["kind"]).label).capitalize())
            if content.get("kind") in Inquiry.Kind.values
            else (gettext_lazy("Frågan gäller"), ""),
            (
                gettext_lazy("Den anställda"),
                mask_personal_number(str(content.get("employee_personal_number", ""))),
            ),
        ]
        if content.get("kind") == Inquiry.Kind.ABSENCE:
            period = content.get("period") or {}
            rows.append(
                (gettext_lazy("Perioden"), f"{period.get('from', '')} – {period.get('to', '')}")
            )
        return rows

    def answer_summary(self, content: dict[str, Any]) -> list[tuple[str | Promise, str]]:
        """The answer itself."""
        rows: list[tuple[str | Promise, str]] = []
        if content.get("kind") == Inquiry.Kind.INCOME:
            rows += [
                (gettext_lazy("Månadslön"), _kronor(content.get("monthly_salary", 0))),
                (
                    gettext_lazy("Sysselsättningsgrad"),
                    f"{content.get('employment_extent')} %",
                ),
                (gettext_lazy("Anställd sedan"), str(content.get("employment_start_date", ""))),
            ]
        elif content.get("kind") == Inquiry.Kind.ABSENCE:
            absences = content.get("absences") or []
            rows.append(
                (
                    gettext_lazy("Frånvaro"),
                    ", ".join(f"{period['from']} – {period['to']}" for period in absences)
                    if content.get("absent")
                    else _("Ingen frånvaro under perioden"),
                )
            )
        if content.get("comment"):
            rows.append((gettext_lazy("Övrigt"), str(content["comment"])))
        return rows


def _period(inquiry: Inquiry) -> dict[str, str]:
    assert inquiry.period_from is not None  # noqa: S101 (an absence inquiry has a period)
    assert inquiry.period_to is not None  # noqa: S101
    return {"from": inquiry.period_from.isoformat(), "to": inquiry.period_to.isoformat()}


def inquiry_url(employer: Employer, reference: str) -> str:
    return reverse(
        "eservices:inquiry",
        kwargs={"public_id": employer.public_id, "code": CODE, "reference": reference},
    )
