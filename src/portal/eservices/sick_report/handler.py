"""The sick-leave report's rules: not before day 15, late after day 21 (with an explanation), and
never two reports for the same employee and overlapping periods."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, ClassVar
from uuid import UUID

from django.conf import settings
from django.db import connections, router
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.common import rows
from portal.employers.models import Employer
from portal.eservices.framework import Checked, Handler
from portal.eservices.models import Submission
from portal.eservices.sick_report.forms import EXTENTS, SickReportForm
from portal.identity.numbers import mask_personal_number

#: Day 15 of the sickness is the first day the report may be made; day 21 the last in time.
FIRST_DAY_TO_REPORT = 14
LAST_DAY_IN_TIME = 20


#: Every version of the employer's sick-leave reports about one employee, each case's newest
#: first; the condition on the case left out (a correction's own) is added when there is one.
_SAME_EMPLOYEE_SQL = (
    "SELECT {s} FROM eservices_submission s"
    " WHERE s.employer_id = %s AND s.eservice = 'sick_report' AND s.subject = %s{leaving_out}"
    " ORDER BY s.case_id, s.version DESC"
)


def same_employee(
    employer: Employer, subject: str, leaving_out: UUID | None = None
) -> list[Submission]:
    """Every version of ``employer``'s sick-leave reports about the employee ``subject`` but the
    case ``leaving_out``, each case's newest version first. Written out: the ORM's
    ``Submission.objects.filter(employer=employer, eservice="sick_report", subject=subject)
    .order_by("case_id", "-version")`` (``.exclude(case_id=leaving_out)``) took most of a report's
    checking (tests/eservices/test_listing.py holds the two together)."""
    params: list[Any] = [employer.pk, subject]
    if leaving_out is not None:
        case = Submission._meta.get_field("case_id")
        params.append(
            case.get_db_prep_value(leaving_out, connections[router.db_for_read(Submission)])
        )
    sql = _SAME_EMPLOYEE_SQL.format(
        s=rows.column_list(Submission, "s"),
        leaving_out=" AND s.case_id <> %s" if leaving_out is not None else "",
    )
    return [found for (found,) in rows.instances(sql, params, Submission)]


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


class SickReport(Handler):
    form_class = SickReportForm
    reference_prefix = "SJK"
    correction_days: ClassVar[int] = settings.SICK_REPORT_CORRECTION_DAYS

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
        checked = Checked()
        first = _day(content.get("first_day"))
        if first is None:
            return checked
        day15 = first + timedelta(days=FIRST_DAY_TO_REPORT)
        if corrects is None and today < day15:
            checked.errors["first_day"] = _(
                "Sjukanmälan kan göras tidigast dag 15 i sjukperioden, den %(date)s. Till dess "
                "betalar arbetsgivaren sjuklön."
            ) % {"date": day15.isoformat()}
            return checked
        if corrects is None and today > first + timedelta(days=LAST_DAY_IN_TIME):
            checked.flags["late"] = True
            if not str(content.get("late_explanation") or "").strip():
                checked.errors["late_explanation"] = _(
                    "Anmälan skulle ha kommit senast dag 21, den %(date)s. Förklara varför den "
                    "kommer senare; den tas emot ändå."
                ) % {"date": (first + timedelta(days=LAST_DAY_IN_TIME)).isoformat()}
        earlier = self._overlapping(employer, content, first, corrects)
        if earlier is not None:
            checked.earlier = earlier
            checked.errors["first_day"] = _(
                "Det finns redan en sjukanmälan för den anställda med en period som överlappar "
                "den här (%(reference)s). Rätta den i stället för att göra en ny."
            ) % {"reference": earlier.reference}
        return checked

    def _overlapping(
        self, employer: Employer, content: dict[str, Any], first: date, corrects: Submission | None
    ) -> Submission | None:
        last = _day(content.get("last_day")) or date.max
        candidates = same_employee(
            employer, self.subject(content), None if corrects is None else corrects.case_id
        )
        newest: dict[Any, Submission] = {}
        for submission in candidates:
            newest.setdefault(submission.case_id, submission)
        for submission in newest.values():
            if submission.kind == Submission.Kind.WITHDRAWAL:
                continue
            other_first = _day(submission.content.get("first_day")) or date.min
            other_last = _day(submission.content.get("last_day")) or date.max
            if other_first <= last and first <= other_last:
                return submission
        return None

    def summary(self, content: dict[str, Any]) -> list[tuple[str | Promise, str]]:
        extents = dict(EXTENTS)
        rows: list[tuple[str | Promise, str]] = [
            (
                gettext_lazy("Den anställda"),
                mask_personal_number(str(content.get("employee_personal_number", ""))),
            ),
            (gettext_lazy("Första dagen i sjuklöneperioden"), content.get("first_day") or ""),
            (gettext_lazy("Sista sjukdagen"), content.get("last_day") or _("inte känd")),
            (gettext_lazy("Omfattning"), str(extents.get(content.get("extent", ""), ""))),
        ]
        if content.get("relapse"):
            rows.append(
                (
                    gettext_lazy("Tidigare period som räknas ihop"),
                    f"{content.get('earlier_first_day')} – {content.get('earlier_last_day')}",
                )
            )
        rows += [
            (
                gettext_lazy("Kontaktperson"),
                f"{content.get('contact_name')}, {content.get('contact_phone')}",
            ),
        ]
        if content.get("late_explanation"):
            rows.append((gettext_lazy("Förklaring till sen anmälan"), content["late_explanation"]))
        return rows


def earlier_url(submission: Submission) -> str:
    return reverse(
        "eservices:submission",
        kwargs={
            "public_id": submission.employer.public_id,
            "code": submission.eservice,
            "reference": submission.reference,
        },
    )
