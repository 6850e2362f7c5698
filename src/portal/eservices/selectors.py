"""Reads of submissions, shared by the pages and the API (the employer is already authorised)."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest

from portal import audit
from portal.audit.constants import EventType
from portal.employers.models import Employer
from portal.eservices.models import Submission


def newest_versions(employer: Employer, code: str) -> QuerySet[Submission]:
    """The newest version of each of the employer's cases in the e-service, newest first: a query
    for the caller to slice or page through, so that an employer with years of submissions costs
    no more than one page of them."""
    newer = Submission.objects.filter(case_id=OuterRef("case_id"), version__gt=OuterRef("version"))
    return (
        Submission.objects.filter(employer=employer, eservice=code)
        .filter(~Exists(newer))
        .select_related("submitted_by")
        .order_by("-submitted_at", "-id")
    )


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
