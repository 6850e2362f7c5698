"""The pages every e-service has, the same way: its start page with the employer's submissions, the
form (saved as a draft at every step), check your answers, the receipt, and correction and
withdrawal. What differs between e-services is their ``Handler``.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from html import escape
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portal import audit
from portal.access.constants import Permission
from portal.access.selectors import employer_for
from portal.access.services import can
from portal.access.templatetags.people_tags import display_name
from portal.audit.constants import EventType
from portal.common.errors import ApplicationError
from portal.common.routes import read_only, requires
from portal.employers.models import Employer
from portal.eservices import attachments, framework, registry, selectors
from portal.eservices.models import Draft, Submission
from portal.identity.models import Person

#: Cases shown per page on an e-service's page (newest first).
SUBMISSIONS_PER_PAGE = 25


def _actor(request: HttpRequest) -> Person:
    assert isinstance(request.user, Person)  # noqa: S101 (requires() guarantees it)
    return request.user


def _built(code: str) -> registry.EService:
    eservice = registry.get(code)
    if eservice is None:
        raise Http404
    return eservice


def _handler(eservice: registry.EService) -> framework.Handler:
    if eservice.handler is None:
        raise Http404
    handler: framework.Handler = eservice.handler
    return handler


def _url(name: str, employer: Employer, code: str, **kwargs: Any) -> str:
    return reverse(
        f"eservices:{name}", kwargs={"public_id": employer.public_id, "code": code, **kwargs}
    )


@dataclass(frozen=True)
class SubmissionRow:
    """One case in the e-service page's list, put together here rather than in the template
    (the page is among the commonest)."""

    url: str
    reference: str
    received: str
    by: str
    kind: str
    late: bool


#: No reference of a case: the address of every row is made from the address with it in it.
_ROW_PLACEHOLDER = "REFERENCE-PLACEHOLDER"


def _submission_rows(
    employer: Employer, code: str, submissions: list[selectors.Listed]
) -> list[SubmissionRow]:
    template = reverse(
        "eservices:submission",
        kwargs={"public_id": employer.public_id, "code": code, "reference": _ROW_PLACEHOLDER},
    )
    kinds = {kind.value: capfirst(str(kind.label)) for kind in Submission.Kind}
    return [
        SubmissionRow(
            url=template.replace(_ROW_PLACEHOLDER, submission.reference),
            reference=submission.reference,
            received=timezone.localtime(submission.submitted_at).strftime("%Y-%m-%d %H:%M"),
            by=display_name(submission.submitted_by),
            kind=kinds.get(submission.kind, submission.kind),
            late=bool(submission.flags.get("late")),
        )
        for submission in submissions
    ]


def _submission_rows_html(rows: list[SubmissionRow]) -> SafeString:
    """The table rows of the e-service page's cases, put together here: the template engine
    spent some 100 µs on each row, and a page shows up to 25. Every value shown is escaped
    (``html.escape``, which Django's ``escape`` is)."""
    late = f' <span class="badge badge--warning">{escape(_("sen"))}</span>'
    return mark_safe(  # noqa: S308 (every value in the rows escaped here)
        "".join(
            '\n  <tr class="table__row">\n'
            '    <th class="table__column" scope="row">'
            f'<a class="anchor" href="{escape(row.url)}">{escape(row.reference)}</a></th>\n'
            f'    <td class="table__column">{escape(row.received)}</td>\n'
            f'    <td class="table__column">{escape(row.by)}</td>\n'
            f'    <td class="table__column">{escape(row.kind)}{late if row.late else ""}</td>\n'
            "  </tr>\n  "
            for row in rows
        )
    )


@requires(Permission.ESERVICE_VIEW)
@read_only
def eservice_page(request: HttpRequest, public_id: UUID, code: str) -> HttpResponse:
    eservice = _built(code)
    employer = employer_for(request, public_id, Permission.ESERVICE_VIEW, eservice=code)
    asked = request.GET.get("sida")
    # The first page is read with the count (NewestVersions' ``first``).
    first = SUBMISSIONS_PER_PAGE if asked in (None, "", "1") else None
    page: Page[selectors.Listed] | None = (
        Paginator(
            selectors.NewestVersions(employer, code, first=first),  # type: ignore[arg-type]
            SUBMISSIONS_PER_PAGE,
        ).get_page(asked)
        if eservice.handler
        else None
    )
    submissions = list(page.object_list) if page is not None else []
    if submissions:
        audit.record_read(
            EventType.SUBMISSIONS_LISTED,
            request=request,
            employer=employer,
            data={
                "eservice": code,
                "page": page.number if page is not None else 1,
                "submissions": [s.reference for s in submissions],
            },
        )
    return render(
        request,
        eservice.handler.page_template if eservice.handler else "eservices/eservice.html",
        {
            **(
                eservice.handler.page_context(
                    request=request, employer=employer, person=_actor(request)
                )
                if eservice.handler
                else {}
            ),
            "employer": employer,
            "eservice": eservice,
            "submissions": submissions,
            "rows": _submission_rows_html(_submission_rows(employer, code, submissions)),
            "page": page,
            "draft": framework.draft_for(person=_actor(request), employer=employer, eservice=code)
            if eservice.handler
            else None,
            "may_submit": can(
                _actor(request), Permission.ESERVICE_SUBMIT, employer=employer, eservice=code
            ),
        },
    )


@requires(Permission.ESERVICE_SUBMIT)
@require_http_methods(["GET", "HEAD", "POST"])
def submission_new(request: HttpRequest, public_id: UUID, code: str) -> HttpResponse:
    """The form. Every POST saves a draft, valid or not, so that nothing typed is lost; files
    chosen are uploaded with it. "Ladda upp" and "Ta bort" stay on the form."""
    eservice = _built(code)
    handler = _handler(eservice)
    employer = employer_for(request, public_id, Permission.ESERVICE_SUBMIT, eservice=code)
    actor = _actor(request)
    draft = framework.draft_for(person=actor, employer=employer, eservice=code)
    start = handler.start_url(employer=employer, draft=draft)
    if start is not None:  # the e-service's submissions start on a page of its own
        return redirect(start)
    upload_errors: list[str] = []
    if request.method == "POST":
        form = handler.form_class(request.POST)
        raw = {key: request.POST.get(key, "") for key in form.fields}
        valid = form.is_valid()
        content = handler.content(form.cleaned_data) if valid else {}
        draft = framework.draft_save(
            person=actor,
            employer=employer,
            eservice=code,
            data={"raw": raw, "content": content, "valid": valid},
            corrects=draft.corrects if draft else None,
        )
        stay = False
        if handler.attachments:
            upload_errors = _receive_files(request, draft)
            stay = bool(upload_errors or "upload" in request.POST or "remove" in request.POST)
            for error in upload_errors:
                form.add_error(None, error)
        if valid and not stay:
            return redirect(_url("check", employer, code))
    else:
        form = handler.form_class(initial=draft.data.get("raw") if draft else None)
    return render(
        request,
        "eservices/form.html",
        {
            "employer": employer,
            "eservice": eservice,
            "handler": handler,
            "form": form,
            "draft": draft,
            "sent_files": _sent_files(draft),
            "files": attachments.draft_attachments(draft),
            "upload_errors": upload_errors,
            "max_megabytes": settings.ATTACHMENT_MAX_BYTES // (1024 * 1024),
            "max_files": attachments.MAX_ATTACHMENTS,
            **handler.form_context(form),
        },
        status=400 if form.errors else 200,
    )


def _receive_files(request: HttpRequest, draft: Draft) -> list[str]:
    """Store the files chosen and remove the one asked for; the reasons for files refused."""
    errors = [
        attachments.too_large_message(attachments.clean_name(name))
        for name in getattr(request, "oversized_uploads", [])
    ]
    removed = request.POST.get("remove", "")
    if removed:
        with contextlib.suppress(ValueError):
            attachments.attachment_remove(
                person=_actor(request), draft=draft, public_id=UUID(removed), request=request
            )
    for upload in request.FILES.getlist("attachments"):
        try:
            attachments.attachment_store(
                person=_actor(request),
                employer=draft.employer,
                eservice=draft.eservice,
                draft=draft,
                upload=upload,
                request=request,
            )
        except attachments.AttachmentRefused as refused:
            errors.append(refused.message)
    return errors


def _sent_files(draft: Draft | None) -> list[dict[str, Any]]:
    """The attachments a correction keeps from the version it corrects."""
    if draft is None or draft.corrects is None:
        return []
    files: list[dict[str, Any]] = draft.corrects.content.get("attachments") or []
    return files


def _with_files(
    handler: framework.Handler, draft: Draft, content: dict[str, Any]
) -> dict[str, Any]:
    if not handler.attachments:
        return content
    return {
        **content,
        "attachments": _sent_files(draft)
        + [attachment.describe() for attachment in attachments.draft_attachments(draft)],
    }


@requires(Permission.ESERVICE_SUBMIT)
@require_http_methods(["GET", "HEAD", "POST"])
def submission_check(request: HttpRequest, public_id: UUID, code: str) -> HttpResponse:
    """Check your answers, then send. The draft's one-time token is the idempotency key: a
    second click, a retry or a reload never makes a second submission."""
    eservice = _built(code)
    handler = _handler(eservice)
    employer = employer_for(request, public_id, Permission.ESERVICE_SUBMIT, eservice=code)
    actor = _actor(request)
    draft = framework.draft_for(person=actor, employer=employer, eservice=code)
    token = request.POST.get("token", "")
    if request.method == "POST" and token:
        done = framework.submission_by_key(actor, token)
        if done is not None:  # already received (a double click, or back and send again)
            return redirect(_url("submission", employer, code, reference=done.reference))
    if draft is None or not draft.data.get("valid"):
        return redirect(_url("new", employer, code))
    content = _with_files(handler, draft, draft.data["content"])
    errors: dict[str, str] = {}
    earlier = None
    if request.method == "POST":
        try:
            submission, _created = framework.submission_create(
                eservice=code,
                handler=handler,
                employer=employer,
                actor=actor,
                content=content,
                idempotency_key=token or draft.token,
                # The posted token was looked up just above.
                known_new=bool(token),
                request=request,
                corrects=draft.corrects,
                kind=Submission.Kind.CORRECTION if draft.corrects else Submission.Kind.ORIGINAL,
            )
        except framework.Refused as refused:
            errors = {k: str(v) for k, v in refused.checked.errors.items()}
            earlier = refused.checked.earlier
        except attachments.AttachmentRefused as refused:
            errors = {"attachments": refused.message}
        else:
            return redirect(_url("submission", employer, code, reference=submission.reference))
    form = handler.form_class(initial=content)
    return render(
        request,
        "eservices/check.html",
        {
            "employer": employer,
            "eservice": eservice,
            "summary": handler.summary(content),
            "token": draft.token,
            "errors": [
                (form.fields[k].label if k in form.fields else k, v) for k, v in errors.items()
            ],
            "earlier": earlier,
            "corrects": draft.corrects,
        },
        status=400 if errors else 200,
    )


def _submission(employer: Employer, code: str, reference: str) -> Submission:
    submission = selectors.submission_by_reference(employer, code, reference)
    if submission is None:
        raise Http404
    return submission


def _viewed(
    request: HttpRequest, public_id: UUID, code: str, reference: str
) -> tuple[registry.EService, framework.Handler, Employer, Submission]:
    """The e-service, its handler, the employer and the submission a receipt is about, once the
    person's view grant is established."""
    eservice = _built(code)
    handler = _handler(eservice)
    employer = employer_for(request, public_id, Permission.ESERVICE_VIEW, eservice=code)
    return eservice, handler, employer, _submission(employer, code, reference)


@requires(Permission.ESERVICE_VIEW)
@read_only
def submission_page(
    request: HttpRequest, public_id: UUID, code: str, reference: str
) -> HttpResponse:
    """The receipt: reference number, time received, what was sent, and the case's versions."""
    eservice, handler, employer, submission = _viewed(request, public_id, code, reference)
    # Recorded first, so that the versions' read carries the event (audit.record_read).
    selectors.submission_read(request, employer, submission)
    versions = selectors.case_versions(submission)
    newest = versions[-1]
    return render(
        request,
        "eservices/receipt.html",
        {
            "employer": employer,
            "eservice": eservice,
            "submission": submission,
            "summary": handler.summary(submission.content),
            "versions": versions,
            "newest": newest,
            "may_correct": submission.pk == newest.pk
            and handler.correctable(newest)
            and can(_actor(request), Permission.ESERVICE_SUBMIT, employer=employer, eservice=code),
            "open_until": handler.open_until(newest),
        },
    )


@requires(Permission.ESERVICE_SUBMIT)
@require_POST
def submission_correct(
    request: HttpRequest, public_id: UUID, code: str, reference: str
) -> HttpResponse:
    """Start a correction: the form, filled in with the newest version, as a draft."""
    eservice = _built(code)
    handler = _handler(eservice)
    employer = employer_for(request, public_id, Permission.ESERVICE_SUBMIT, eservice=code)
    submission = _correctable(employer, code, reference, handler)
    framework.draft_save(
        person=_actor(request),
        employer=employer,
        eservice=code,
        data={"raw": handler.initial(submission.content), "content": {}, "valid": False},
        corrects=submission,
    )
    return redirect(_url("new", employer, code))


@requires(Permission.ESERVICE_SUBMIT)
@require_http_methods(["GET", "HEAD", "POST"])
def submission_withdraw(
    request: HttpRequest, public_id: UUID, code: str, reference: str
) -> HttpResponse:
    """Withdraw a case: a confirmation page, then a new version of kind withdrawal."""
    eservice = _built(code)
    handler = _handler(eservice)
    employer = employer_for(request, public_id, Permission.ESERVICE_SUBMIT, eservice=code)
    submission = _correctable(employer, code, reference, handler)
    if request.method != "POST":
        selectors.submission_read(request, employer, submission)
        return render(
            request,
            "eservices/withdraw.html",
            {
                "employer": employer,
                "eservice": eservice,
                "submission": submission,
                "summary": handler.summary(submission.content),
                "token": secrets.token_urlsafe(),
            },
        )
    withdrawal, _created = framework.submission_create(
        eservice=code,
        handler=handler,
        employer=employer,
        actor=_actor(request),
        content=submission.content,
        idempotency_key=request.POST.get("token") or secrets.token_urlsafe(),
        request=request,
        corrects=submission,
        kind=Submission.Kind.WITHDRAWAL,
    )
    messages.success(request, _("Ärendet är återkallat."))
    return redirect(_url("submission", employer, code, reference=withdrawal.reference))


def _correctable(
    employer: Employer, code: str, reference: str, handler: framework.Handler
) -> Submission:
    submission = _submission(employer, code, reference)
    newest = Submission.objects.filter(case_id=submission.case_id).order_by("-version").first()
    if newest is None or newest.pk != submission.pk or not handler.correctable(newest):
        raise ApplicationError(
            _("Den här versionen kan inte längre rättas eller återkallas."), code="not-correctable"
        )
    return submission


@requires(Permission.ESERVICE_VIEW)
@read_only
def submission_pdf(
    request: HttpRequest, public_id: UUID, code: str, reference: str
) -> HttpResponse:
    """The receipt as a PDF, to save or print."""

    from portal.eservices.receipts import receipt_pdf  # noqa: PLC0415

    eservice, handler, employer, submission = _viewed(request, public_id, code, reference)
    selectors.submission_read(request, employer, submission, format="pdf")
    content = receipt_pdf(
        submission=submission,
        eservice_name=str(eservice.name),
        summary=handler.summary(submission.content),
        agency=str(settings.AGENCY_NAME),
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="kvitto-{submission.reference}.pdf"'
    return response


@requires(Permission.ESERVICE_VIEW)
@read_only
def attachment_file(
    request: HttpRequest, public_id: UUID, code: str, attachment_id: UUID
) -> HttpResponseBase:
    """An attachment, to those who may see the e-service's submissions (an unsent one only to
    its uploader). Always a download with the type read when it was received, never rendered
    in the portal's own origin."""
    _handler(_built(code))
    employer = employer_for(request, public_id, Permission.ESERVICE_VIEW, eservice=code)
    attachment = attachments.readable_attachment(
        person=_actor(request), employer=employer, eservice=code, public_id=attachment_id
    )
    if attachment is None:
        raise Http404
    try:
        stream = attachments.stored_path(attachment).open("rb")
    except FileNotFoundError:
        raise Http404 from None
    audit.record_read(
        EventType.ATTACHMENT_VIEWED,
        request=request,
        employer=employer,
        object_type="attachment",
        object_id=str(attachment.public_id),
        data={"eservice": code, "sha256": attachment.sha256},
    )
    response = FileResponse(
        stream, as_attachment=True, filename=attachment.name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response
