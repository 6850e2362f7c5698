"""The employer's activity as a CSV file: recorded in the audit log, then streamed.

The file is read from the log in keyset chunks while it is sent, so an export of millions of events
never holds more than one chunk in memory, and never uses OFFSET.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from portal import audit
from portal.audit.constants import EventType
from portal.audit.selectors import ActivityFilter, ActivityRow, activity_all
from portal.employers.models import Employer
from portal.identity.models import Person

COLUMNS = [
    "tid",
    "händelse",
    "händelsekod",
    "utfall",
    "aktör",
    "aktörens personnummer",
    "avser",
    "avser personnummer",
    "begäran-id",
    "IP-adress",
]
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection); an
# apostrophe in front makes it text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def _csv_row(row: ActivityRow) -> list[str]:
    return [
        row.occurred_at.isoformat(timespec="seconds"),
        row.label,
        row.event_type,
        row.outcome_label,
        row.actor_label,
        row.actor.number if row.actor else "",
        row.subject.name if row.subject else "",
        row.subject.number if row.subject else "",
        row.request_id,
        row.ip_address,
    ]


class _Line:
    """A file-like object that hands back what ``csv.writer`` writes, for streaming."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterator[ActivityRow]) -> Iterator[bytes]:
    """The file, line by line: a byte order mark (so that Excel reads it as UTF-8), the header,
    then one line per event; ``;`` separated, every cell guarded against being run as a formula."""
    writer = csv.writer(_Line(), delimiter=";", lineterminator="\r\n")
    yield ("\ufeff" + writer.writerow(COLUMNS)).encode("utf-8")
    for row in rows:
        yield writer.writerow([_cell(value) for value in _csv_row(row)]).encode("utf-8")


def activity_export(
    *,
    employer: Employer,
    filters: ActivityFilter,
    actor: Person,
    request: HttpRequest | None = None,
) -> Iterator[bytes]:
    """Record the export (with its filters: the number of rows is known only at the end) and
    return the file's lines, read from the log in keyset chunks while they are sent."""
    with transaction.atomic():
        audit.record(
            EventType.ACTIVITY_EXPORTED,
            actor=actor,
            request=request,
            object_type="employer",
            object_id=str(employer.public_id),
            employer=employer,
            data={"filters": filters.audit_data()},
        )
    return csv_lines(activity_all(employer, filters))


def export_filename(employer: Employer) -> str:
    return f"aktivitet-{employer.organisation_number}-{timezone.localdate().isoformat()}.csv"
