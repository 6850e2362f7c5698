"""Reads of submissions, shared by the pages and the API (the employer is already authorised)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest

from portal import audit
from portal.audit.constants import EventType
from portal.common.rows import columns, read
from portal.employers.models import Employer
from portal.eservices.models import Submission
from portal.identity.models import Person


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


#: ``newest_versions``, written out for the e-service's page (the commonest page of the
#: e-services): the condition, the number of cases, and one page of them with who sent each.
_NEWEST_WHERE = (
    " WHERE s.employer_id = %s AND s.eservice = %s AND NOT EXISTS (SELECT 1"
    " FROM eservices_submission n WHERE n.case_id = s.case_id AND n.version > s.version)"
)
_NEWEST_COUNT_SQL = "SELECT COUNT(*) FROM eservices_submission s" + _NEWEST_WHERE  # noqa: S608
_NEWEST_PAGE_SQL = (
    "SELECT s.reference, s.kind, s.submitted_at, s.flags,"  # noqa: S608 (constants only)
    " p.given_name, p.surname, p.personal_number, p.eidas_identifier"
    " FROM eservices_submission s JOIN identity_person p ON p.id = s.submitted_by_id"
    + _NEWEST_WHERE
    + " ORDER BY s.submitted_at DESC, s.id DESC LIMIT %s OFFSET %s"
)


@dataclass(frozen=True)
class Listed:
    """A case as the e-service's page lists it: its newest version, and who sent that."""

    reference: str
    kind: str
    submitted_at: datetime
    flags: dict[str, Any]
    submitted_by: Person


class NewestVersions:
    """``newest_versions(employer, code)`` as the ``Paginator`` of the e-service's page reads
    it: the number of cases, and a slice of them (``Listed``), newest first. Held to the query
    by tests/eservices/test_listing.py."""

    def __init__(self, employer: Employer, code: str) -> None:
        self.params: list[Any] = [employer.pk, code]

    def count(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute(_NEWEST_COUNT_SQL, self.params)
            return int(cursor.fetchone()[0])

    def __getitem__(self, part: slice) -> list[Listed]:
        start = part.start or 0
        size = (part.stop - start) if part.stop is not None else self.count()
        rows = read(
            Submission,
            _NEWEST_PAGE_SQL,
            [*self.params, max(size, 0), start],
            [
                *columns(Submission, "reference", "kind", "submitted_at", "flags"),
                *columns(Person, "given_name", "surname", "personal_number", "eidas_identifier"),
            ],
        )
        return [
            Listed(
                reference=reference,
                kind=kind,
                submitted_at=submitted_at,
                flags=flags if isinstance(flags, dict) else {},
                # What ``display_name`` shows of the sender.
                submitted_by=Person(
                    given_name=given,
                    surname=surname,
                    personal_number=number,
                    eidas_identifier=eidas,
                ),
            )
            for reference, kind, submitted_at, flags, given, surname, number, eidas in rows
        ]


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
