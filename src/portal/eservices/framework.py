"""The e-service framework: what an e-service provides, and the one way anything is submitted.

An e-service is a sub-package of ``portal.eservices`` that registers an ``EService`` with a
``Handler``: its form, its rules, how its content is summarised on the check-your-answers page and
the receipt, and whom a submission is about. The framework does the rest the same way for every
e-service: drafts, the one-time form token, idempotent submission, immutable versions
(corrections and withdrawals), receipts, the audit event, and who may see what.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from django import forms
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from portal import audit
from portal.audit.constants import EventType
from portal.common.errors import ApplicationError, ConflictError
from portal.common.rows import column_list, insert, instances, upsert
from portal.employers.models import Employer
from portal.eservices.attachments import attach_to_submission, attachments_purge
from portal.eservices.models import Draft, IntakeMessage, Submission, new_reference
from portal.identity.models import Person


@dataclass
class Checked:
    """What an e-service's rules say about a submission: errors per field (nothing is stored
    while there are any), flags kept with it (for example ``late``), and a link to an earlier
    submission that a refusal refers to."""

    errors: dict[str, str | Promise] = field(default_factory=dict)
    flags: dict[str, Any] = field(default_factory=dict)
    earlier: Submission | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


class Handler:
    """What an e-service provides. Subclasses set ``form_class`` and ``reference_prefix`` and
    may override the methods."""

    form_class: ClassVar[type[forms.Form]]
    reference_prefix: ClassVar[str] = "ES"
    #: Days after submission during which a correction or withdrawal is accepted (0: never).
    correction_days: ClassVar[int] = 0
    #: The start page's button for a new submission.
    start_label: ClassVar[str | Promise] = gettext_lazy("Gör en ny anmälan")
    #: Whether the form takes attachments (PDF, JPEG, PNG; see ``eservices.attachments``).
    attachments: ClassVar[bool] = False
    #: A template shown below the form's fields (for example a live calculation), and a script
    #: (a static path) that enhances it; the form works without the script.
    form_include: ClassVar[str] = ""
    form_script: ClassVar[str] = ""

    def content(self, cleaned: dict[str, Any]) -> dict[str, Any]:
        """The stored content: the cleaned form, as JSON (dates as ISO strings)."""
        return {
            key: value.isoformat() if isinstance(value, date) else value
            for key, value in cleaned.items()
        }

    def initial(self, content: dict[str, Any]) -> dict[str, Any]:
        """The form's initial values from stored content (for a correction or a draft)."""
        return dict(content)

    def subject(self, content: dict[str, Any]) -> str:
        """Whom the submission is about (for finding earlier ones); empty by default."""
        return ""

    def open_until(self, newest: Submission) -> datetime:
        """Until when the case whose newest version is ``newest`` can be corrected."""
        return newest.submitted_at + timedelta(days=self.correction_days)

    def correctable(self, newest: Submission, *, now: datetime | None = None) -> bool:
        """Whether the case can still be corrected or withdrawn: not withdrawn, and within
        ``correction_days`` of its newest version."""
        return newest.kind != Submission.Kind.WITHDRAWAL and (
            now or timezone.now()
        ) <= self.open_until(newest)

    def form_context(self, form: forms.Form) -> dict[str, Any]:
        """What ``form_include`` shows, from the form as filled in so far."""
        return {}

    def check(
        self,
        *,
        employer: Employer,
        content: dict[str, Any],
        today: date,
        corrects: Submission | None,
    ) -> Checked:
        """The e-service's rules beyond the form's own validation."""
        return Checked()

    def summary(self, content: dict[str, Any]) -> list[tuple[str | Promise, str]]:
        """Label and value of each answer, for check-your-answers and the receipt."""
        return [(key, str(value)) for key, value in content.items()]

    # --- for an e-service with pages of its own (the inquiries' inbox) --------------------------

    #: Whether a submission can be withdrawn (a correction is always a new version).
    withdrawable: ClassVar[bool] = True
    #: The e-service's start page, and what ``page_context`` adds to it.
    page_template: ClassVar[str] = "eservices/eservice.html"

    def page_context(
        self, *, request: HttpRequest, employer: Employer, person: Person
    ) -> dict[str, Any]:
        return {}

    def start_url(self, *, employer: Employer, draft: Draft | None) -> str | None:
        """Where a submission starts, when not at the framework's form (``None``): an e-service
        whose submissions answer something starts from that thing's page."""
        return None

    def received(self, submission: Submission, *, request: HttpRequest | None) -> None:
        """Called in the submission's transaction once it is stored, to keep what the e-service
        links to it; raising rolls the submission back."""


# --- the services ---------------------------------------------------------------------------


def draft_save(
    *, person: Person, employer: Employer, eservice: str, data: dict[str, Any],
    corrects: Submission | None = None, key: str = "",
) -> Draft:  # fmt: skip
    """Save what has been filled in so far (every step, so nothing is lost). ``key`` says what
    the draft is for within the e-service ("" for its form; an inquiry's reference for its
    answer): a person has one draft per key, side by side.

    One statement (``rows.upsert``) rather than ``update_or_create``'s transaction of four or
    five: the form saves on every step. A draft that is there keeps its key and token."""
    return upsert(
        Draft(
            person=person,
            employer=employer,
            eservice=eservice,
            key=key,
            data=data,
            corrects=corrects,
        ),
        unique=("person", "employer", "eservice", "key"),
        update=("data", "corrects", "updated_at"),
    )


def drafts_purge(*, now: Any = None) -> int:
    """Remove drafts untouched for ``PORTAL_DRAFT_DAYS`` days (a daily task); the purge is
    recorded with the number removed. Returns that number."""
    from django.conf import settings  # noqa: PLC0415

    cutoff = (now or timezone.now()) - timedelta(days=settings.DRAFT_DAYS)
    with transaction.atomic():
        count, _by_model = Draft.objects.filter(updated_at__lt=cutoff).delete()
        files = attachments_purge(cutoff=cutoff)
        if count or files:
            audit.record(
                EventType.DRAFTS_PURGED,
                actor=None,
                object_type="drafts",
                data={
                    "drafts": count,
                    "attachments": files,
                    "untouched_since": cutoff.isoformat(),
                },
            )
    return count


#: ``Draft.objects.filter(person=..., employer=..., eservice=..., key=...)``: at most one
#: (``one_draft_per_eservice_key``). Written out: every e-service page and form asks it.
_DRAFT_SQL = (
    "SELECT {d} FROM eservices_draft d"
    ' WHERE d.person_id = %s AND d.employer_id = %s AND d.eservice = %s AND d."key" = %s'
)


def draft_for(*, person: Person, employer: Employer, eservice: str, key: str = "") -> Draft | None:
    """The person's draft for the employer in the e-service (and its ``key``), if any."""
    found = instances(
        _DRAFT_SQL.format(d=column_list(Draft, "d")),
        [person.pk, employer.pk, eservice, key],
        Draft,
    )
    return found[0][0] if found else None


class Refused(ApplicationError):
    """The e-service's rules refuse the submission (the messages are per field)."""

    code = "submission-refused"

    def __init__(self, checked: Checked) -> None:
        super().__init__(
            " ".join(str(message) for message in checked.errors.values()),
            extra={"errors": {k: str(v) for k, v in checked.errors.items()}},
        )
        self.checked = checked


#: ``Submission.objects.filter(submitted_by=..., idempotency_key=...).first()``: at most one
#: (``one_submission_per_key``).
_BY_KEY_SQL = (
    "SELECT {s} FROM eservices_submission s WHERE s.submitted_by_id = %s AND s.idempotency_key = %s"
)
#: ``Draft.objects.filter(person=..., employer=..., eservice=..., key__in=...).delete()``: the
#: drafts go, and an attachment uploaded with one (never sent) is kept without its draft
#: (``on_delete=SET_NULL``) for the purge; the foreign key is checked at commit.
_DRAFTS_REMOVE_SQL = (
    "DELETE FROM eservices_draft WHERE person_id = %s AND employer_id = %s AND eservice = %s"
    ' AND "key" IN ({keys}) RETURNING id'
)
_ATTACHMENTS_UNDRAFT_SQL = (
    "UPDATE eservices_attachment SET draft_id = NULL WHERE draft_id IN ({ids})"
)


def submission_by_key(actor: Person, key: str) -> Submission | None:
    """The submission ``actor`` sent with idempotency key ``key``, if any."""
    found = instances(
        _BY_KEY_SQL.format(s=column_list(Submission, "s")), [actor.pk, key], Submission
    )
    return found[0][0] if found else None


def _drafts_remove(actor: Person, employer: Employer, eservice: str, keys: set[str]) -> None:
    """Remove the person's drafts with ``keys`` in the e-service (in the caller's transaction)."""
    ordered = sorted(keys)
    with connection.cursor() as cursor:
        cursor.execute(
            _DRAFTS_REMOVE_SQL.format(keys=", ".join(["%s"] * len(ordered))),
            [actor.pk, employer.pk, eservice, *ordered],
        )
        removed = [row[0] for row in cursor.fetchall()]
        if removed:
            cursor.execute(
                _ATTACHMENTS_UNDRAFT_SQL.format(ids=", ".join(["%s"] * len(removed))), removed
            )


def submission_create(
    *,
    eservice: str,
    handler: Handler,
    employer: Employer,
    actor: Person,
    content: dict[str, Any],
    idempotency_key: str,
    request: HttpRequest | None = None,
    corrects: Submission | None = None,
    kind: Submission.Kind = Submission.Kind.ORIGINAL,
    today: date | None = None,
    draft_key: str = "",
    known_new: bool = False,
) -> tuple[Submission, bool]:
    """Receive a submission: check the rules, store it immutably with a reference number, record
    the event, and remove the draft. Idempotent: the same person with the same key gets the
    submission already received (and ``False``), never a second one.

    ``corrects`` (for a correction or a withdrawal) is the case's newest version; the new one is
    the next version of the same case. ``draft_key`` is the key of the draft sent (see
    ``draft_save``): that draft and the e-service's plain one ("") are removed, the person's
    other drafts in the e-service are kept. ``known_new``: the caller has just found no
    submission with the key (``submission_by_key``), so it is not asked again.
    """
    existing = None if known_new else submission_by_key(actor, idempotency_key)
    if existing is not None:
        return existing, False
    checked = (
        Checked()
        if kind == Submission.Kind.WITHDRAWAL
        else handler.check(
            employer=employer,
            content=content,
            today=today or timezone.localdate(),
            corrects=corrects,
        )
    )
    if not checked.ok:
        raise Refused(checked)
    try:
        with transaction.atomic():
            if corrects is not None:
                newest = (
                    Submission.objects.select_for_update()
                    .filter(case_id=corrects.case_id)
                    .order_by("-version")
                    .first()
                )
                if newest is None or newest.pk != corrects.pk:
                    raise ConflictError(
                        "Ärendet har ändrats sedan du började. Utgå från den senaste versionen.",
                        code="not-newest-version",
                    )
            submission = insert(
                Submission(
                    reference=new_reference(handler.reference_prefix),
                    case_id=corrects.case_id if corrects else uuid.uuid4(),
                    version=corrects.version + 1 if corrects else 1,
                    kind=kind,
                    eservice=eservice,
                    employer=employer,
                    submitted_by=actor,
                    subject=handler.subject(content),
                    content=content,
                    flags=checked.flags,
                    idempotency_key=idempotency_key,
                )
            )
            audit.record(
                EventType.SUBMISSION_RECEIVED,
                actor=actor,
                request=request,
                employer=employer,
                object_type="submission",
                object_id=str(submission.public_id),
                data={
                    "eservice": eservice,
                    "reference": submission.reference,
                    "version": submission.version,
                    "kind": str(kind),
                    "flags": checked.flags,
                },
            )
            attach_to_submission(submission=submission, content=content, corrects=corrects)
            handler.received(submission, request=request)
            _drafts_remove(actor, employer, eservice, {draft_key, ""})
            # The agency's systems get it through the intake feed (an outbox in this transaction).
            insert(IntakeMessage(submission=submission))
            transaction.on_commit(_publish_intake)
    except IntegrityError:
        # The same key at the same moment from a second request: the first one won.
        winner = submission_by_key(actor, idempotency_key)
        if winner is None:
            raise
        return winner, False
    return submission, True


def _publish_intake() -> None:
    from portal.eservices.tasks import publish_intake  # noqa: PLC0415

    publish_intake.enqueue()
