"""Reads of submissions, shared by the pages and the API (the employer is already authorised)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Exists, Field, OuterRef, QuerySet
from django.http import HttpRequest

from portal import audit
from portal.audit.constants import EventType
from portal.common.rows import column_list, columns, instances, read
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
    by tests/eservices/test_listing.py.

    For the first page (``first``: its size), the count reads that page and one case more
    first: most employers have fewer cases than a page holds, and then those rows are the count
    and the page, in one statement instead of two."""

    def __init__(self, employer: Employer, code: str, *, first: int | None = None) -> None:
        self.params: list[Any] = [employer.pk, code]
        self.first = first
        self._first_rows: list[Listed] | None = None

    def count(self) -> int:
        if self.first is not None:
            self._first_rows = self._read(0, self.first + 1)
            if len(self._first_rows) <= self.first:
                return len(self._first_rows)
        with connection.cursor() as cursor:
            cursor.execute(_NEWEST_COUNT_SQL, self.params)
            return int(cursor.fetchone()[0])

    def __getitem__(self, part: slice) -> list[Listed]:
        start = part.start or 0
        size = (part.stop - start) if part.stop is not None else self.count()
        if self._first_rows is not None and start == 0 and size <= (self.first or 0):
            return self._first_rows[:size]
        return self._read(start, size)

    def _read(self, start: int, size: int) -> list[Listed]:
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


#: ``Submission.objects.filter(employer=..., eservice=..., reference=...)
#: .select_related("submitted_by").first()`` and ``Submission.objects.filter(case_id=...)
#: .order_by("version")``, written out for the receipt (the page after every report), held to
#: them by tests/eservices/test_listing.py.
_BY_REFERENCE_SQL = (
    "SELECT {s}, {p} FROM eservices_submission s JOIN identity_person p"
    " ON p.id = s.submitted_by_id"
    " WHERE s.employer_id = %s AND s.eservice = %s AND s.reference = %s ORDER BY s.id LIMIT 1"
)
_VERSIONS_SQL = "SELECT {s} FROM eservices_submission s WHERE s.case_id = %s ORDER BY s.version"


def submission_by_reference(employer: Employer, code: str, reference: str) -> Submission | None:
    """The employer's submission to the e-service with ``reference``, with its sender."""
    found = instances(
        _BY_REFERENCE_SQL.format(s=column_list(Submission, "s"), p=column_list(Person, "p")),
        [employer.pk, code, reference],
        Submission,
        Person,
    )
    if not found:
        return None
    submission, sender = found[0]
    assert isinstance(submission, Submission)  # noqa: S101 (the first model read)
    submission.submitted_by = sender
    return submission


def case_versions(submission: Submission) -> list[Submission]:
    """Every version of ``submission``'s case, the first first."""
    case = Submission._meta.get_field("case_id")
    assert isinstance(case, Field)  # noqa: S101 (a concrete field)
    rows = instances(
        _VERSIONS_SQL.format(s=column_list(Submission, "s")),
        [case.get_db_prep_value(submission.case_id, connection)],
        Submission,
    )
    return [version for (version,) in rows]


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
