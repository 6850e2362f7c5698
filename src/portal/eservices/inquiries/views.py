"""The pages of one inquiry: what the agency asks and the form that answers it (or corrects the
answer), then check your answers and send. The inbox is the e-service's start page
(``InquiryAnswer.page_context``), and the answer's receipt is the framework's.

As on the framework's form, every POST of the answer form is saved as a draft, valid or not, so
nothing typed is lost, and the page shows it again when the person comes back. The draft's key is
the inquiry's reference, so answers to several inquiries are kept side by side. The check page
sends the draft with its one-time token: the same token sent again (a double click, a retry,
back and send) always leads to the answer already received.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from portal.access.constants import Permission
from portal.access.selectors import employer_for
from portal.common.errors import ConflictError
from portal.common.routes import requires
from portal.employers.models import Employer
from portal.eservices import framework, registry
from portal.eservices.inquiries import CODE, selectors
from portal.eservices.inquiries.forms import ABSENCE_ROWS, InquiryAnswerForm
from portal.eservices.inquiries.handler import InquiryAnswer
from portal.eservices.inquiries.models import Inquiry
from portal.eservices.models import Draft, Submission
from portal.identity.models import Person

INCOME_FIELDS = ("monthly_salary", "employment_extent", "employment_start_date")
ABSENCE_FIELDS = ("absent",)


@dataclass(frozen=True)
class _Page:
    """The inquiry a page is about, for an employer the person may answer for."""

    employer: Employer
    eservice: registry.EService
    handler: InquiryAnswer
    inquiry: Inquiry
    actor: Person


def _url(name: str, employer: Employer, **kwargs: Any) -> str:
    return reverse(
        f"eservices:{name}", kwargs={"public_id": employer.public_id, "code": CODE, **kwargs}
    )


def _receipt(employer: Employer, reference: str) -> str:
    return _url("submission", employer, reference=reference)


def _page(request: HttpRequest, public_id: UUID, code: str, reference: str) -> _Page:
    employer = employer_for(request, public_id, Permission.ESERVICE_SUBMIT, eservice=code)
    eservice = registry.get(code)
    if code != CODE or eservice is None:
        raise Http404
    inquiry = (
        Inquiry.objects.filter(employer=employer, reference=reference)
        .select_related("answer")
        .first()
    )
    if inquiry is None:
        raise Http404
    actor = request.user
    assert isinstance(actor, Person)  # noqa: S101 (requires() guarantees it)
    return _Page(
        employer=employer, eservice=eservice, handler=eservice.handler, inquiry=inquiry, actor=actor
    )


def _draft(page: _Page, key: str) -> Draft | None:
    return framework.draft_for(person=page.actor, employer=page.employer, eservice=CODE, key=key)


def _correcting(
    page: _Page, newest: Submission | None, drafts: Iterable[Draft | None]
) -> Submission | None:
    """The answer being corrected: one that a draft corrects (a correction started from the
    receipt, the framework's draft, comes first), while correcting is still allowed. The
    framework refuses it if the answer has been corrected by someone else since."""
    if newest is None:
        return None
    if not page.handler.correctable(newest):
        return None
    for draft in drafts:
        if (
            draft is not None
            and draft.corrects is not None
            and draft.corrects.case_id == newest.case_id
        ):
            return draft.corrects
    return None


@requires(Permission.ESERVICE_SUBMIT)
@require_http_methods(["GET", "HEAD", "POST"])
def inquiry_page(request: HttpRequest, public_id: UUID, code: str, reference: str) -> HttpResponse:
    """The inquiry and its answer form. A POST saves the answer as a draft, valid or not, and
    goes on to check it when it is valid."""
    page = _page(request, public_id, code, reference)
    employer, inquiry, handler = page.employer, page.inquiry, page.handler
    newest = _newest_answer(inquiry)
    draft = _draft(page, inquiry.reference)
    corrects = _correcting(page, newest, (_draft(page, ""), draft))
    if newest is not None and corrects is None and request.method == "POST":
        messages.error(request, _("Förfrågan är redan besvarad."))
        return redirect(request.path)
    if draft is not None and draft.corrects_id != (corrects.pk if corrects else None):
        draft = None  # a draft of another answer (or correction) than the one made now
    form: InquiryAnswerForm | None = None
    status = 200
    if newest is None or corrects is not None:
        if request.method == "POST":
            data = request.POST.copy()
            data["inquiry"] = inquiry.reference
            form = InquiryAnswerForm(data, inquiry=inquiry)
            valid = form.is_valid()
            draft = framework.draft_save(
                person=page.actor,
                employer=employer,
                eservice=CODE,
                key=inquiry.reference,
                data={
                    "raw": {name: data.get(name, "") for name in form.fields},
                    "content": handler.content(form.cleaned_data) if valid else {},
                    "valid": valid,
                },
                corrects=corrects,
            )
            if valid:
                return redirect(_url("inquiry-check", employer, reference=inquiry.reference))
            status = 400
        else:
            if draft is not None:
                initial = dict(draft.data.get("raw") or {})
            else:
                initial = handler.initial(corrects.content) if corrects else {}
            form = InquiryAnswerForm(
                initial={**initial, "inquiry": inquiry.reference}, inquiry=inquiry
            )
    selectors.inquiry_read(request, employer, inquiry)
    return render(
        request,
        "eservices/inquiries/inquiry.html",
        _context(page, newest=newest, corrects=corrects, form=form, draft=draft),
        status=status,
    )


@requires(Permission.ESERVICE_SUBMIT)
@require_http_methods(["GET", "HEAD", "POST"])
def inquiry_check(request: HttpRequest, public_id: UUID, code: str, reference: str) -> HttpResponse:
    """Check the answer, then send it. The draft's one-time token is the idempotency key: a
    second click, a retry or a reload never makes a second answer."""
    page = _page(request, public_id, code, reference)
    employer, inquiry, handler = page.employer, page.inquiry, page.handler
    token = request.POST.get("token", "")
    if request.method == "POST" and token:
        done = Submission.objects.filter(
            submitted_by=page.actor, idempotency_key=token, eservice=CODE, employer=employer
        ).first()
        if done is not None:  # already received (a double click, or back and send again)
            return redirect(_receipt(employer, done.reference))
    back = _url("inquiry", employer, reference=inquiry.reference)
    draft = _draft(page, inquiry.reference)
    if draft is None or not draft.data.get("valid"):
        return redirect(back)
    corrects = _correcting(page, _newest_answer(inquiry), (draft,))
    if draft.corrects is not None and corrects is None:
        messages.error(request, _("Den här versionen kan inte längre rättas eller återkallas."))
        return redirect(back)
    content: dict[str, Any] = draft.data["content"]
    errors: list[tuple[str | Promise, str]] = []
    if request.method == "POST":
        try:
            submission, _created = framework.submission_create(
                eservice=CODE,
                handler=handler,
                employer=employer,
                actor=page.actor,
                content=content,
                idempotency_key=token or draft.token,
                request=request,
                corrects=corrects,
                kind=Submission.Kind.CORRECTION if corrects else Submission.Kind.ORIGINAL,
                draft_key=inquiry.reference,
            )
        except framework.Refused as refused:
            errors = [
                (_label(name), str(message)) for name, message in refused.checked.errors.items()
            ]
        except ConflictError as conflict:
            errors = [("", conflict.message)]
        else:
            return redirect(_receipt(employer, submission.reference))
    selectors.inquiry_read(request, employer, inquiry)
    return render(
        request,
        "eservices/check.html",
        {
            "employer": employer,
            "eservice": page.eservice,
            "summary": [*_facts(inquiry, corrects), *handler.answer_summary(content)],
            "token": draft.token,
            "errors": errors,
            "earlier": None,
            "corrects": corrects,
            "back_url": back,
        },
        status=400 if errors else 200,
    )


def _label(name: str) -> str | Promise:
    """The label of the answer's field a refusal is about (none for the inquiry itself: its
    messages speak of it)."""
    field = InquiryAnswerForm.base_fields.get(name)
    if field is None or name == "inquiry":
        return ""
    return field.label or ""


def _facts(inquiry: Inquiry, corrects: Submission | None) -> list[tuple[str | Promise, str]]:
    """What the check page says about the inquiry answered."""
    about = str(inquiry.get_kind_display()).capitalize()
    if inquiry.period_from and inquiry.period_to:
        about += f" {inquiry.period_from.isoformat()} – {inquiry.period_to.isoformat()}"
    rows: list[tuple[str | Promise, str]] = [
        (gettext_lazy("Förfrågan"), inquiry.reference),
        (gettext_lazy("Den anställda"), _formatted(inquiry.employee_personal_number)),
        (gettext_lazy("Frågan gäller"), about),
        (gettext_lazy("Svara senast"), inquiry.due_date.isoformat()),
    ]
    if corrects is not None:
        rows.append((gettext_lazy("Svaret som rättas"), corrects.reference))
    return rows


def _formatted(number: str) -> str:
    return f"{number[:8]}-{number[8:]}"


def _newest_answer(inquiry: Inquiry) -> Submission | None:
    if inquiry.answer is None:
        return None
    return (
        Submission.objects.filter(case_id=inquiry.answer.case_id)
        .select_related("submitted_by")
        .order_by("-version")
        .first()
    )


def _context(
    page: _Page,
    *,
    newest: Submission | None,
    corrects: Submission | None,
    form: InquiryAnswerForm | None,
    draft: Draft | None,
) -> dict[str, Any]:
    inquiry = page.inquiry
    open_until = page.handler.open_until(newest) if newest else None
    context: dict[str, Any] = {
        "employer": page.employer,
        "eservice": page.eservice,
        "inquiry": inquiry,
        "employee": _formatted(inquiry.employee_personal_number),
        "overdue": newest is None and inquiry.due_date < timezone.localdate(),
        "newest": newest,
        "summary": page.handler.summary(newest.content) if newest else [],
        "corrects": corrects,
        "may_correct": newest is not None and corrects is None and page.handler.correctable(newest),
        "open_until": open_until,
        "form": form,
        "draft": draft if form is not None else None,
    }
    if form is not None:
        income = inquiry.kind == Inquiry.Kind.INCOME
        context["kind_fields"] = [form[name] for name in (INCOME_FIELDS if income else ())]
        context["absent_field"] = None if income else form["absent"]
        context["absence_rows"] = (
            []
            if income
            else [
                (row, form[f"absence_{row}_from"], form[f"absence_{row}_to"])
                for row in range(1, ABSENCE_ROWS + 1)
            ]
        )
        context["comment_field"] = form["comment"]
    return context
