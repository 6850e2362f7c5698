"""Reads of submissions, shared by the pages and the API (the employer is already authorised)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from portal import audit
from portal.audit.constants import EventType
from portal.employers.models import Employer
from portal.eservices.models import Submission


def newest_versions(employer: Employer, code: str) -> list[Submission]:
    """The newest version of each of the employer's cases in the e-service, newest first."""
    newest: dict[Any, Submission] = {}
    for submission in (
        Submission.objects.filter(employer=employer, eservice=code)
        .order_by("case_id", "-version")
        .select_related("submitted_by")
    ):
        newest.setdefault(submission.case_id, submission)
    return sorted(newest.values(), key=lambda s: s.submitted_at, reverse=True)


def submission_read(
    request: HttpRequest, employer: Employer, submission: Submission, **details: Any
) -> None:
    """Record that the person (or system) behind ``request`` read ``submission``."""
    audit.record_read(
        EventType.SUBMISSION_VIEWED,
        request=request,
        employer=employer,
        object_type="submission",
        object_id=str(submission.public_id),
        data={"eservice": submission.eservice, "reference": submission.reference, **details},
    )
