"""The e-services in the JSON API: submit, list and get, for every e-service built on the framework.

``POST /employers/{employer_id}/eservices/{code}/submissions`` takes the same fields as the
e-service's form, as a JSON object of strings (booleans for check boxes), and an
``Idempotency-Key`` header: a retry with the same key returns the submission already received
(``200`` with ``Idempotent-Replayed: true``) and never makes a second one. Unknown fields, wrong
types and the e-service's own rules are refused as problem details with a message per field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Body, File, Router, Schema, Status, UploadedFile
from pydantic import Field

from portal import audit
from portal.access.constants import Permission
from portal.access.selectors import employer_for
from portal.api.schemas import ProblemOut
from portal.audit.constants import EventType
from portal.common.errors import ApplicationError, NotFoundError
from portal.employers.models import Employer
from portal.eservices import attachments, framework, registry, selectors
from portal.eservices.models import Submission
from portal.identity.models import Person

router = Router(tags=["eservices"])

#: Upper bound of the number of submissions listed in one answer.
MAX_LIMIT = 200
MIN_KEY, MAX_KEY = 8, 128


class InvalidSubmission(ApplicationError):
    status = 422  # type: ignore[assignment]
    code = "invalid-submission"


class SubmissionOut(Schema):
    reference: str = Field(description="The receipt's reference number, e.g. SJK-7K4Q-9XWD.")
    eservice: str
    case_id: UUID = Field(description="All versions of one case share it.")
    version: int
    kind: str = Field(description="original, correction or withdrawal")
    received_at: datetime
    flags: dict[str, Any] = Field(description="Marks the rules set, e.g. {'late': true}.")
    content: dict[str, Any] = Field(description="What was submitted, as received.")


class SubmissionPageOut(Schema):
    items: list[SubmissionOut]


def _out(submission: Submission) -> SubmissionOut:
    return SubmissionOut(
        reference=submission.reference,
        eservice=submission.eservice,
        case_id=submission.case_id,
        version=submission.version,
        kind=submission.kind,
        received_at=submission.submitted_at,
        flags=submission.flags,
        content=submission.content,
    )


def _handler(code: str) -> framework.Handler:
    eservice = registry.get(code)
    if eservice is None or eservice.handler is None:
        raise NotFoundError(_("E-tjänsten finns inte."))
    handler: framework.Handler = eservice.handler
    return handler


def _actor(request: HttpRequest) -> Person:
    assert isinstance(request.user, Person)  # noqa: S101 (SessionAuth guarantees it)
    return request.user


def _employer(request: HttpRequest, employer_id: UUID, code: str, action: Permission) -> Employer:
    _handler(code)
    return employer_for(request, employer_id, action, eservice=code)


@router.get(
    "/employers/{employer_id}/eservices/{code}/submissions",
    response={200: SubmissionPageOut, 401: ProblemOut, 403: ProblemOut, 404: ProblemOut},
    summary="List an e-service's submissions for an employer",
    description="The newest version of each case, newest first. Needs a grant for the e-service.",
    operation_id="eservice_submissions",
    url_name="eservice_submissions",
)
def submissions(
    request: HttpRequest, employer_id: UUID, code: str, limit: int = 50
) -> SubmissionPageOut:
    employer = _employer(request, employer_id, code, Permission.ESERVICE_VIEW)
    limit = max(1, min(limit, MAX_LIMIT))
    items = selectors.newest_versions(employer, code)[:limit]
    audit.record_read(
        EventType.SUBMISSIONS_LISTED,
        request=request,
        employer=employer,
        data={"eservice": code, "submissions": [s.reference for s in items]},
    )
    return SubmissionPageOut(items=[_out(s) for s in items])


@router.get(
    "/employers/{employer_id}/eservices/{code}/submissions/{reference}",
    response={200: SubmissionOut, 401: ProblemOut, 403: ProblemOut, 404: ProblemOut},
    summary="One submission (one version of a case)",
    operation_id="eservice_submission",
    url_name="eservice_submission",
)
def submission(request: HttpRequest, employer_id: UUID, code: str, reference: str) -> SubmissionOut:
    employer = _employer(request, employer_id, code, Permission.ESERVICE_VIEW)
    found = Submission.objects.filter(employer=employer, eservice=code, reference=reference).first()
    if found is None:
        raise NotFoundError(_("Det finns inget sådant referensnummer hos arbetsgivaren."))
    selectors.submission_read(request, employer, found)
    return _out(found)


@router.post(
    "/employers/{employer_id}/eservices/{code}/submissions",
    response={
        200: SubmissionOut,
        201: SubmissionOut,
        401: ProblemOut,
        403: ProblemOut,
        404: ProblemOut,
        422: ProblemOut,
    },
    summary="Submit in an e-service",
    description=(
        "The body holds the e-service's form fields (strings; booleans for check boxes; dates "
        "YYYY-MM-DD) and, for an e-service that takes attachments, `attachments`: a list of "
        "ids from the attachments upload. The Idempotency-Key header is required: a retry with the same key returns "
        "the submission already received (200, header Idempotent-Replayed: true), never a "
        "second one. 422 for unknown fields, wrong types, invalid values and the e-service's "
        "rules, with a message per field. Needs a submit grant for the e-service."
    ),
    operation_id="eservice_submit",
    url_name="eservice_submit",
    openapi_extra={
        "parameters": [
            {
                "in": "header",
                "name": "Idempotency-Key",
                "required": True,
                "schema": {"type": "string", "minLength": 8, "maxLength": 128},
                "description": "Unique per submission; a retry with the same key is safe.",
            }
        ]
    },
)
def submit(
    request: HttpRequest,
    response: HttpResponse,
    employer_id: UUID,
    code: str,
    fields: Body[dict[str, Any]],
) -> Status[SubmissionOut]:
    handler = _handler(code)
    # Who may submit is decided before anything about the request is looked at.
    employer = _employer(request, employer_id, code, Permission.ESERVICE_SUBMIT)
    key = request.headers.get("Idempotency-Key", "")
    if not MIN_KEY <= len(key) <= MAX_KEY:
        raise InvalidSubmission(
            _("Anropet saknar en Idempotency-Key (8–128 tecken)."),
            extra={"errors": {"Idempotency-Key": _("Krävs, 8–128 tecken.")}},
        )
    form_fields = handler.form_class.base_fields
    errors: dict[str, str] = {}
    files = (
        _attachments(handler, _actor(request), employer, code, fields.pop("attachments"))
        if "attachments" in fields
        else None
    )
    for name, value in fields.items():
        if name not in form_fields:
            errors[name] = _("Okänt fält.")
        elif value is not None and not isinstance(value, str | bool):
            errors[name] = _("Ska vara text (eller sant/falskt för en kryssruta).")
    if errors:
        raise InvalidSubmission(_("Uppgifterna kan inte tas emot."), extra={"errors": errors})
    data = {
        name: ("on" if value is True else "" if value in (None, False) else value)
        for name, value in fields.items()
    }
    form = handler.form_class(data)
    if not form.is_valid():
        raise InvalidSubmission(
            _("Uppgifterna kan inte tas emot."),
            extra={
                "errors": {
                    name: " ".join(map(str, messages)) for name, messages in form.errors.items()
                }
            },
        )
    try:
        received, created = framework.submission_create(
            eservice=code,
            handler=handler,
            employer=employer,
            actor=_actor(request),
            content={
                **handler.content(form.cleaned_data),
                **({"attachments": files} if files is not None else {}),
            },
            idempotency_key=f"api:{key}",
            request=request,
        )
    except framework.Refused as refused:
        extra: dict[str, Any] = {"errors": {k: str(v) for k, v in refused.checked.errors.items()}}
        if refused.checked.earlier is not None:
            extra["earlier"] = refused.checked.earlier.reference
        raise InvalidSubmission(
            _("E-tjänstens regler tillåter inte uppgifterna."), extra=extra
        ) from None
    if not created:
        response["Idempotent-Replayed"] = "true"
    return Status(201 if created else 200, _out(received))


class AttachmentOut(Schema):
    id: UUID = Field(description="Name it in a submission's `attachments` list.")
    name: str
    type: str = Field(description="application/pdf, image/jpeg or image/png, read from the content")
    size: int
    sha256: str


@router.post(
    "/employers/{employer_id}/eservices/{code}/attachments",
    response={
        201: AttachmentOut,
        401: ProblemOut,
        403: ProblemOut,
        404: ProblemOut,
        422: ProblemOut,
    },
    summary="Upload an attachment for a coming submission",
    description=(
        "multipart/form-data with one part `file`: a PDF, JPEG or PNG (judged by its content, not "
        "its name), at most PORTAL_ATTACHMENT_MAX_BYTES. Then name its id in the submission's "
        "`attachments` list. An attachment never sent is removed after PORTAL_DRAFT_DAYS days. "
        "Only for e-services that take attachments; needs a submit grant."
    ),
    operation_id="eservice_attachment_upload",
    url_name="eservice_attachment_upload",
)
def attachment_upload(
    request: HttpRequest,
    employer_id: UUID,
    code: str,
    file: UploadedFile | None = File(None),  # type: ignore[type-arg]  # noqa: B008
) -> Status[AttachmentOut]:
    handler = _handler(code)
    # Who may upload is decided before anything about the request is looked at.
    employer = _employer(request, employer_id, code, Permission.ESERVICE_SUBMIT)
    if not handler.attachments:
        raise InvalidSubmission(
            _("E-tjänsten tar inte emot bilagor."),
            extra={"errors": {"file": _("E-tjänsten tar inte emot bilagor.")}},
        )
    oversized = getattr(request, "oversized_uploads", [])
    if oversized:
        message = attachments.too_large_message(attachments.clean_name(oversized[0]))
        raise InvalidSubmission(message, extra={"errors": {"file": message}})
    if file is None:
        message = _("Skicka filen som delen file i multipart/form-data.")
        raise InvalidSubmission(message, extra={"errors": {"file": message}})
    try:
        stored = attachments.attachment_store(
            person=_actor(request),
            employer=employer,
            eservice=code,
            draft=None,
            upload=file,
            request=request,
        )
    except attachments.AttachmentRefused as refused:
        raise InvalidSubmission(
            refused.message, extra={"errors": {"file": refused.message}}
        ) from None
    return Status(201, AttachmentOut(**stored.describe()))


def _attachments(
    handler: framework.Handler, actor: Person, employer: Employer, code: str, value: Any
) -> list[dict[str, Any]]:
    """The submission's ``attachments``: ids of the sender's own unsent uploads."""
    if not handler.attachments:
        raise InvalidSubmission(
            _("Uppgifterna kan inte tas emot."),
            extra={"errors": {"attachments": _("E-tjänsten tar inte emot bilagor.")}},
        )
    ids: list[UUID] = []
    try:
        if not isinstance(value, list):
            raise TypeError
        ids = [UUID(str(item)) for item in value]
    except (TypeError, ValueError):
        ids = []
        value = None
    found = {
        attachment.public_id: attachment
        for attachment in attachments.unsent_attachments(
            person=actor, employer=employer, eservice=code, public_ids=ids
        )
    }
    if value is None or len(ids) > attachments.MAX_ATTACHMENTS or len(found) != len(set(ids)):
        raise InvalidSubmission(
            _("Uppgifterna kan inte tas emot."),
            extra={
                "errors": {
                    "attachments": _(
                        "Ska vara en lista med id:n för bilagor du har laddat upp och inte "
                        "skickat (högst %(count)d)."
                    )
                    % {"count": attachments.MAX_ATTACHMENTS}
                }
            },
        )
    return [found[public_id].describe() for public_id in dict.fromkeys(ids)]
