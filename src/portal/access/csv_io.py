"""Access as a CSV file (R3): an import that is previewed and validated before anything is applied,
then applied as a whole or not at all; and an export of all access in the same columns, so that an
export can be edited and imported again.

One row is one role of one person (``användare`` or ``behörighetsadministratör``), or one grant to an
e-service for a user. The import only adds and changes access, it never removes any: removing is
done one person at a time on their page, where the rule of the last administrator is explained.
Every change goes through ``access.administration``, so the same rules and audit events apply as
on the pages; the other administrators get one summary mail instead of one per change.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal import audit
from portal.access.administration import (
    GrantSpec,
    InvalidAccess,
    eidas_identifier_clean,
    grant_set,
    grant_spec_check,
    membership_email_change,
    person_add,
    personal_number_clean,
    reason_clean,
    role_add,
)
from portal.access.models import AccessImport, Grant, Level, Membership, Role
from portal.audit.constants import EventType
from portal.common.errors import ApplicationError, ConflictError
from portal.employers.models import Employer
from portal.eservices import registry
from portal.identity.eidas_identifiers import looks_like_eidas_identifier
from portal.identity.models import Person
from portal.messaging.services import outbox_enqueue
from portal.messaging.templates import register_template

#: The largest file accepted, and the most rows in it: larger lists are split into several files.
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5_000
_MAX_EMAIL_LENGTH = 254

register_template(
    "access_imported",
    "access/import_mail_subject.txt",
    "access/import_mail_body.txt",
    required_context=("employer", "by", "counts", "link"),
)


class Column(StrEnum):
    """The columns, by their Swedish header (in this order in an export and the template)."""

    PERSONAL_NUMBER = "personnummer"
    EMAIL = "e-post"
    ROLE = "roll"
    ESERVICE = "e-tjänst"
    LEVEL = "nivå"
    VALID_FROM = "från"
    VALID_UNTIL = "till"
    REASON = "skäl"


COLUMNS = tuple(Column)
REQUIRED_COLUMNS = (Column.PERSONAL_NUMBER, Column.ROLE)

# Headers as people write them: without the Swedish letters, with or without the hyphen.
_HEADER_ALIASES: dict[str, Column] = {
    "personnummer": Column.PERSONAL_NUMBER,
    "personnr": Column.PERSONAL_NUMBER,
    "e-post": Column.EMAIL,
    "epost": Column.EMAIL,
    "e-postadress": Column.EMAIL,
    "epostadress": Column.EMAIL,
    "roll": Column.ROLE,
    "e-tjänst": Column.ESERVICE,
    "etjänst": Column.ESERVICE,
    "e-tjanst": Column.ESERVICE,
    "etjanst": Column.ESERVICE,
    "nivå": Column.LEVEL,
    "niva": Column.LEVEL,
    "från": Column.VALID_FROM,
    "fran": Column.VALID_FROM,
    "till": Column.VALID_UNTIL,
    "skäl": Column.REASON,
    "skal": Column.REASON,
}
_ROLE_WORDS: dict[str, Role] = {
    "användare": Role.USER,
    "anvandare": Role.USER,
    "user": Role.USER,
    "behörighetsadministratör": Role.ADMINISTRATOR,
    "behorighetsadministrator": Role.ADMINISTRATOR,
    "administratör": Role.ADMINISTRATOR,
    "administrator": Role.ADMINISTRATOR,
}
_LEVEL_WORDS: dict[str, Level] = {
    "se": Level.VIEW,
    "se uppgifter": Level.VIEW,
    "view": Level.VIEW,
    "lämna": Level.SUBMIT,
    "lamna": Level.SUBMIT,
    "se och lämna": Level.SUBMIT,
    "se och lämna uppgifter": Level.SUBMIT,
    "submit": Level.SUBMIT,
}
#: How the export writes roles and levels (the first word the import accepts for each).
ROLE_CELL = {Role.USER: "användare", Role.ADMINISTRATOR: "behörighetsadministratör"}
LEVEL_CELL = {Level.VIEW: "se", Level.SUBMIT: "lämna"}

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection): the export
# puts an apostrophe before it, and the import takes that apostrophe away again.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ZIP_SIGNATURE = b"PK\x03\x04"


class Change(StrEnum):
    """What applying one row does (none of them: the row is already true)."""

    NEW_PERSON = "new-person"
    NEW_ROLE = "new-role"
    NEW_GRANT = "new-grant"
    CHANGED_GRANT = "changed-grant"
    CHANGED_EMAIL = "changed-email"


class CsvRefused(ApplicationError):
    """The file as a whole cannot be read as an access list (too large, not UTF-8, wrong
    columns...). ``messages`` holds one sentence per problem."""

    code = "invalid-csv"

    def __init__(self, messages: Sequence[str]) -> None:
        super().__init__(" ".join(messages))
        self.messages = list(messages)


class ImportNotApplied(ConflictError):
    """Applying stopped at a row and nothing was applied; ``errors`` says which rows and why."""

    code = "import-not-applied"

    def __init__(self, message: str, errors: Sequence[RowError]) -> None:
        super().__init__(message)
        self.errors = list(errors)


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str


@dataclass
class ImportRow:
    """One data row, normalised where it could be (as written where it could not), and what
    applying it would change. Kept in ``AccessImport.rows`` so that what is applied is what was
    previewed."""

    line: int
    personal_number: str = ""
    eidas: bool = False
    email: str = ""
    role: str = ""
    eservice: str = ""
    level: str = ""
    valid_from: str = ""
    valid_until: str = ""
    reason: str = ""
    changes: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImportRow:
        return cls(**data)

    def spec(self) -> GrantSpec:
        return GrantSpec(
            eservice=self.eservice,
            level=self.level,
            valid_from=date.fromisoformat(self.valid_from) if self.valid_from else None,
            valid_until=date.fromisoformat(self.valid_until) if self.valid_until else None,
        )


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


# --- reading a file ------------------------------------------------------------------------


def _text(data: bytes) -> str:
    if not data.strip():
        raise CsvRefused([_("Filen är tom. Den ska ha en rubrikrad och en rad per behörighet.")])
    if data.startswith(_ZIP_SIGNATURE):
        raise CsvRefused(
            [
                _(
                    "Filen är en Excel-fil, inte en CSV-fil. Spara den som ”CSV UTF-8 "
                    "(kommaavgränsad)” i Excel och ladda upp den igen."
                )
            ]
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CsvRefused(
            [
                _(
                    "Filen är sparad som UTF-16. Spara den som ”CSV UTF-8 (kommaavgränsad)” i Excel, "
                    "eller välj teckenkodningen UTF-8 i ditt program, och ladda upp den igen."
                )
            ]
        )
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise CsvRefused(
            [
                _(
                    "Filen är inte sparad som UTF-8: rad %(line)d innehåller tecken som inte kan "
                    "läsas (till exempel å, ä eller ö från ett annat teckenformat). Spara filen som "
                    "”CSV UTF-8 (kommaavgränsad)” i Excel, eller välj teckenkodningen UTF-8 i ditt "
                    "program, och ladda upp den igen."
                )
                % {"line": line}
            ]
        ) from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise CsvRefused(
            [_("Filen är inte en textfil: rad %(line)d innehåller binära tecken.") % {"line": line}]
        )
    return text


def _delimiter(text: str) -> str:
    """``;`` (Excel with Swedish settings) or ``,``, whichever the header line has more of."""
    header = text.lstrip("\r\n").split("\n", 1)[0]
    return "," if header.count(",") > header.count(";") else ";"


def _unescape(value: str) -> str:
    value = value.strip()
    if value.startswith("'") and value[1:2] and value[1:2] in _FORMULA_START:
        return value[1:]
    return value


def _header(cells: list[str]) -> dict[Column, int]:
    """Where each column is; ``CsvRefused`` naming every unknown, missing or repeated column."""
    positions: dict[Column, int] = {}
    unknown: list[str] = []
    repeated: list[str] = []
    for index, cell in enumerate(cells):
        name = _unescape(cell).strip('"').strip()
        if not name:
            continue
        column = _HEADER_ALIASES.get(name.lower().replace(" ", ""))
        if column is None:
            unknown.append(name)
        elif column in positions:
            repeated.append(column)
        else:
            positions[column] = index
    problems = [
        *(_("Kolumnen ”%(name)s” är okänd.") % {"name": name[:50]} for name in unknown),
        *(
            _("Kolumnen ”%(name)s” saknas.") % {"name": column}
            for column in REQUIRED_COLUMNS
            if column not in positions
        ),
        *(_("Kolumnen ”%(name)s” finns flera gånger.") % {"name": name} for name in repeated),
    ]
    if problems:
        problems.append(
            _("Rubrikraden ska innehålla kolumnerna %(columns)s (i valfri ordning).")
            % {"columns": ";".join(COLUMNS)}
        )
        raise CsvRefused(problems)
    return positions


def parse(data: bytes) -> list[tuple[int, dict[Column, str], list[RowError]]]:
    """The data rows of a CSV file: (line number, cell per column, errors of form). Raises
    ``CsvRefused`` for a file that cannot be read at all, without reading past ``MAX_ROWS``."""
    if len(data) > MAX_BYTES:
        raise _too_large()
    text = _text(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    positions: dict[Column, int] | None = None
    width = 0
    rows: list[tuple[int, dict[Column, str], list[RowError]]] = []
    line = 1
    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if positions is None:
                positions, width = _header(cells), len(cells)
                continue
            if len(rows) == MAX_ROWS:
                raise CsvRefused(
                    [
                        _(
                            "Filen har fler än %(max)s rader. Dela upp den i flera filer med högst "
                            "%(max)s rader var."
                        )
                        % {"max": format_count(MAX_ROWS)}
                    ]
                )
            errors = []
            if len(cells) > width and any(cell.strip() for cell in cells[width:]):
                errors.append(
                    RowError(
                        start,
                        "",
                        _(
                            "Raden har fler värden (%(cells)d) än rubrikraden har kolumner "
                            "(%(columns)d). Kontrollera avgränsarna och citattecknen."
                        )
                        % {"cells": len(cells), "columns": width},
                    )
                )
            values = {
                column: _unescape(cells[index]) if index < len(cells) else ""
                for column, index in positions.items()
            }
            rows.append((start, values, errors))
    except csv.Error:
        raise CsvRefused(
            [
                _(
                    "Rad %(line)d kan inte läsas som CSV. Kontrollera citattecknen på raden och att "
                    "inget värde är orimligt långt."
                )
                % {"line": line}
            ]
        ) from None
    if positions is None:
        raise CsvRefused([_("Filen är tom. Den ska ha en rubrikrad och en rad per behörighet.")])
    if not rows:
        raise CsvRefused(
            [_("Filen har bara en rubrikrad. Lägg till en rad per roll eller behörighet.")]
        )
    return rows


def _too_large() -> CsvRefused:
    return CsvRefused(
        [
            _(
                "Filen är för stor. Den får vara högst %(size)s MB och ha högst %(max)s rader; dela "
                "upp den i flera filer."
            )
            % {"size": MAX_BYTES // (1024 * 1024), "max": format_count(MAX_ROWS)}
        ]
    )


def format_count(value: int) -> str:
    # 5 000, as Swedish writes thousands (a no-break space).
    return f"{value:,}".replace(",", "\u00a0")


def _eservice_code(text: str) -> str | None:
    """An e-service by its code or by its Swedish name, in any case."""
    if registry.get(text) is not None:
        return text
    wanted = text.casefold()
    with translation.override("sv"):
        for eservice in registry.all_eservices():
            if wanted in {eservice.code.casefold(), str(eservice.name).casefold()}:
                return eservice.code
    return None


def _clean(
    line: int,
    values: dict[Column, str],
    *,
    default_reason: str,
    eidas_identifiers: set[str],
) -> tuple[ImportRow, list[RowError]]:
    """Check each cell of one row on its own, normalising what is right (the checks against the
    employer's people and the other rows come in ``_plan``)."""
    row = ImportRow(
        line=line,
        personal_number=values.get(Column.PERSONAL_NUMBER, ""),
        email=values.get(Column.EMAIL, ""),
        role=values.get(Column.ROLE, ""),
        eservice=values.get(Column.ESERVICE, ""),
        level=values.get(Column.LEVEL, ""),
        valid_from=values.get(Column.VALID_FROM, ""),
        valid_until=values.get(Column.VALID_UNTIL, ""),
        reason=values.get(Column.REASON, "") or default_reason,
    )
    problems = [
        *_check_identity(row, eidas_identifiers),
        *_check_email(row),
        *_check_role(row),
        *(_check_grant(row) if row.eservice else _check_no_grant(row)),
        *_check_reason(row),
    ]
    return row, [RowError(line, column, message) for column, message in problems]


Problems = Iterator[tuple[Column, str]]


def _check_identity(row: ImportRow, eidas_identifiers: set[str]) -> Problems:
    """The column ``personnummer`` holds a Swedish personal identity number, or the eIDAS
    identifier (``DE/SE/1234567890``) of someone who logs in with a foreign e-ID."""
    if not row.personal_number:
        yield (
            Column.PERSONAL_NUMBER,
            _(
                "Personnummer saknas. Skriv personnumret, eller eIDAS-identiteten för en person med utländsk e-legitimation."
            ),
        )
    elif row.personal_number in eidas_identifiers:
        # Someone here who logs in with a foreign e-ID: the export writes their identifier here.
        row.eidas = True
    elif looks_like_eidas_identifier(row.personal_number):
        try:
            row.personal_number = eidas_identifier_clean(row.personal_number)
        except InvalidAccess as error:
            yield Column.PERSONAL_NUMBER, error.message
        else:
            row.eidas = True
    else:
        try:
            row.personal_number = personal_number_clean(row.personal_number)
        except InvalidAccess as error:
            yield Column.PERSONAL_NUMBER, error.message


def _check_email(row: ImportRow) -> Problems:
    if not row.email:
        return
    try:
        validate_email(row.email)
    except ValidationError:
        yield Column.EMAIL, _("Skriv en e-postadress som namn@exempel.se.")
        return
    if len(row.email) > _MAX_EMAIL_LENGTH:
        yield Column.EMAIL, _("Skriv en e-postadress som namn@exempel.se.")


def _check_role(row: ImportRow) -> Problems:
    role = _ROLE_WORDS.get(row.role.casefold())
    if not row.role:
        yield Column.ROLE, _("Skriv rollen: användare eller behörighetsadministratör.")
    elif role is None:
        yield (
            Column.ROLE,
            _("Rollen ”%(value)s” finns inte. Skriv användare eller behörighetsadministratör.")
            % {"value": row.role[:50]},
        )
    else:
        row.role = role.value


def _check_grant(row: ImportRow) -> Problems:
    code = _eservice_code(row.eservice)
    if code is None:
        yield (
            Column.ESERVICE,
            _("E-tjänsten ”%(value)s” finns inte. Skriv en av koderna %(codes)s.")
            % {
                "value": row.eservice[:50],
                "codes": ", ".join(e.code for e in registry.all_eservices()),
            },
        )
    else:
        row.eservice = code
    if row.role == Role.ADMINISTRATOR:
        yield (
            Column.ESERVICE,
            _(
                "Rollen behörighetsadministratör ger ingen behörighet till e-tjänster. Skriv "
                "användare i kolumnen roll för att ge personen behörighet till e-tjänsten."
            ),
        )
    level = _LEVEL_WORDS.get(row.level.casefold())
    if not row.level:
        yield Column.LEVEL, _("Skriv nivån: se eller lämna.")
    elif level is None:
        yield (
            Column.LEVEL,
            _("Nivån ”%(value)s” finns inte. Skriv se eller lämna.") % {"value": row.level[:50]},
        )
    else:
        row.level = level.value
    dates: dict[Column, date | None] = {}
    for column, text in (
        (Column.VALID_FROM, row.valid_from),
        (Column.VALID_UNTIL, row.valid_until),
    ):
        if text:
            dates[column] = _iso_date(text)
            if dates[column] is None:
                yield column, _("Skriv datumet som ÅÅÅÅ-MM-DD, till exempel 2026-11-27.")
    start, end = dates.get(Column.VALID_FROM), dates.get(Column.VALID_UNTIL)
    if start and end and end < start:
        yield Column.VALID_UNTIL, _("Slutdatumet kan inte vara före startdatumet.")


def _iso_date(text: str) -> date | None:
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _check_no_grant(row: ImportRow) -> Problems:
    for column, text in (
        (Column.LEVEL, row.level),
        (Column.VALID_FROM, row.valid_from),
        (Column.VALID_UNTIL, row.valid_until),
    ):
        if text:
            yield (
                column,
                _(
                    "Nivå och datum gäller en behörighet till en e-tjänst. Skriv e-tjänsten, "
                    "eller lämna nivå, från och till tomma."
                ),
            )
            return


def _check_reason(row: ImportRow) -> Problems:
    if row.reason:
        try:
            row.reason = reason_clean(row.reason)
        except InvalidAccess as error:
            yield Column.REASON, error.message


# --- comparing with the access the employer has ---------------------------------------------


@dataclass
class _Access:
    """One person's open roles (with their e-mail) and open grants, as the import sees them."""

    roles: dict[str, str] = field(default_factory=dict)
    grants: dict[str, tuple[str, str, str]] = field(default_factory=dict)


def person_key(row: ImportRow) -> str:
    """Who a row is about: the personal number, or ``eidas:`` and the eIDAS identifier."""
    return ("eidas:" if row.eidas else "") + row.personal_number


def person_key_of(personal_number: str | None, eidas_identifier: str | None) -> str:
    """``person_key`` of a person."""
    return personal_number or f"eidas:{eidas_identifier}"


def _existing(employer: Employer) -> dict[str, _Access]:
    """Everyone with an open membership at ``employer``, keyed like ``person_key`` (two
    queries)."""
    access: dict[str, _Access] = {}
    memberships = (
        Membership.objects.open()
        .filter(employer=employer)
        .select_related("person")
        .prefetch_related(Prefetch("grants", queryset=Grant.objects.open()))
    )
    for membership in memberships:
        person = membership.person
        key = person_key_of(person.personal_number, person.eidas_identifier)
        entry = access.setdefault(key, _Access())
        entry.roles[membership.role] = membership.email
        for grant in membership.grants.all():
            entry.grants[grant.eservice] = (
                grant.level,
                grant.valid_from.isoformat(),
                grant.valid_until.isoformat() if grant.valid_until else "",
            )
    return access


def _eidas_identifiers(employer: Employer) -> set[str]:
    identifiers = Person.objects.filter(
        memberships__employer=employer,
        memberships__ended_at__isnull=True,
        personal_number__isnull=True,
    ).values_list("eidas_identifier", flat=True)
    return {identifier for identifier in identifiers if identifier}


def _plan(employer: Employer, rows: Sequence[ImportRow], skip: set[int]) -> list[RowError]:
    """Work out what each row changes, in file order, as if the rows before it were applied;
    and find what cannot be applied (duplicates, a reason missing for a change, a change that
    breaks a rule of the model). Rows whose line is in ``skip`` had errors already."""
    errors: list[RowError] = []
    people = _existing(employer)
    seen: dict[tuple[str, str, str], int] = {}
    for row in rows:
        row.changes = []
        if row.line in skip:
            continue
        first = seen.setdefault((person_key(row), row.role, row.eservice), row.line)
        if first != row.line:
            errors.append(
                RowError(
                    row.line,
                    "",
                    _(
                        "Rad %(line)d och rad %(first)d gäller samma person, roll och e-tjänst. "
                        "Ta bort en av raderna."
                    )
                    % {"line": row.line, "first": first},
                )
            )
            continue
        _plan_row(row, people, errors)
    errors.extend(_email_conflicts([row for row in rows if row.line not in skip]))
    return errors


def _plan_row(row: ImportRow, people: dict[str, _Access], errors: list[RowError]) -> None:
    key = person_key(row)
    person = people.get(key)
    if person is None:
        person = people[key] = _Access()
        row.changes.append(Change.NEW_PERSON.value)
    if row.role not in person.roles:
        if Change.NEW_PERSON not in row.changes:
            row.changes.append(Change.NEW_ROLE.value)
        person.roles[row.role] = row.email
    elif row.email and row.email != person.roles[row.role]:
        row.changes.append(Change.CHANGED_EMAIL.value)
    if row.eservice:
        _plan_grant(row, person, errors)
    if set(row.changes) - {Change.CHANGED_EMAIL} and not row.reason:
        errors.append(
            RowError(
                row.line,
                Column.REASON,
                _(
                    "Skriv varför ändringen görs, i kolumnen skäl eller i fältet Skäl när du "
                    "laddar upp filen. Skälet sparas i loggen."
                ),
            )
        )


def _email_conflicts(rows: Sequence[ImportRow]) -> list[RowError]:
    """A new address replaces the person's address in every role: two different addresses for a
    person whose address changes cannot both be right."""
    emails: dict[str, list[tuple[int, str]]] = {}
    changing: set[str] = set()
    for row in rows:
        if row.email:
            emails.setdefault(person_key(row), []).append((row.line, row.email))
        if Change.CHANGED_EMAIL in row.changes:
            changing.add(person_key(row))
    errors: list[RowError] = []
    for key in changing:
        first_line, first_email = emails[key][0]
        errors.extend(
            RowError(
                line,
                Column.EMAIL,
                _(
                    "Rad %(line)d och rad %(first)d har olika e-postadresser för samma person. "
                    "Skriv samma adress på alla personens rader."
                )
                % {"line": line, "first": first_line},
            )
            for line, email in emails[key][1:]
            if email != first_email
        )
    return errors


def _plan_grant(row: ImportRow, person: _Access, errors: list[RowError]) -> None:
    old = person.grants.get(row.eservice)
    new = (row.level, row.valid_from or (old[1] if old else ""), row.valid_until)
    if old is None:
        row.changes.append(Change.NEW_GRANT.value)
    elif new != old:
        row.changes.append(Change.CHANGED_GRANT.value)
    else:
        return
    person.grants[row.eservice] = new
    try:
        grant_spec_check(row.spec())
    except InvalidAccess as error:
        errors.append(RowError(row.line, Column.VALID_UNTIL, error.message))


def _sorted(errors: Sequence[RowError]) -> list[RowError]:
    def order(error: RowError) -> tuple[int, int]:
        return error.line, COLUMNS.index(Column(error.column)) if error.column in COLUMNS else -1

    return sorted(errors, key=order)


def counts(rows: Sequence[ImportRow]) -> dict[str, int]:
    """How many of each change, and the rows that change nothing."""
    result = {change.value: 0 for change in Change}
    result["unchanged"] = 0
    for row in rows:
        for change in row.changes:
            result[change] += 1
        if not row.changes:
            result["unchanged"] += 1
    return result


# --- the services ---------------------------------------------------------------------------


def access_import_preview(
    *,
    employer: Employer,
    actor: Person,
    upload: Readable,
    filename: str = "",
    reason: str = "",
    request: HttpRequest | None = None,
) -> AccessImport:
    """Read an uploaded CSV file, check every row and work out what applying it would change,
    and keep the result for the preview. Changes no access. ``reason`` is used for rows whose
    ``skäl`` is empty. Raises ``CsvRefused`` for a file that cannot be read at all."""
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise _too_large()
    parsed = parse(data)
    eidas = _eidas_identifiers(employer)
    rows: list[ImportRow] = []
    errors: list[RowError] = []
    for line, values, form_errors in parsed:
        row, row_errors = _clean(
            line, values, default_reason=" ".join(reason.split()), eidas_identifiers=eidas
        )
        rows.append(row)
        errors.extend(form_errors)
        errors.extend(row_errors)
    errors.extend(_plan(employer, rows, skip={error.line for error in errors}))
    errors = _sorted(errors)
    with transaction.atomic():
        access_import = AccessImport.objects.create(
            employer=employer,
            uploaded_by=actor,
            filename=filename[:255],
            rows=[asdict(row) for row in rows],
            errors=[asdict(error) for error in errors],
        )
        audit.record(
            EventType.ACCESS_IMPORT_PREVIEWED,
            actor=actor,
            request=request,
            object_type="employer",
            object_id=str(employer.public_id),
            data={
                "import": str(access_import.public_id),
                "rows": len(rows),
                "errors": len(errors),
                "rows_with_errors": len({error.line for error in errors}),
                "changes": counts(rows),
            },
        )
    return access_import


def access_import_at(
    request: HttpRequest, employer: Employer, import_id: UUID | str
) -> AccessImport:
    """One of ``employer``'s imports; an audited 404 for any other."""
    from portal.access.selectors import refuse_not_found  # noqa: PLC0415

    access_import = AccessImport.objects.filter(public_id=import_id, employer=employer).first()
    if access_import is None:
        refuse_not_found(request, employer, access_import=str(import_id))
    assert access_import is not None  # noqa: S101 (refuse_not_found raises)
    return access_import


def import_rows(access_import: AccessImport) -> list[ImportRow]:
    return [ImportRow.from_json(row) for row in access_import.rows]


def import_errors(access_import: AccessImport) -> list[RowError]:
    return [RowError(**error) for error in access_import.errors]


def access_import_apply(
    *, access_import: AccessImport, actor: Person, request: HttpRequest | None = None
) -> dict[str, int]:
    """Apply a previewed import: every row or none. The rows are checked again against the access
    the employer has now; if any of them would now change something else than the preview
    showed, or a change is refused, nothing is applied and ``ImportNotApplied`` says which row.
    Returns the counts of changes."""
    with transaction.atomic():
        # The employer first, as every access change locks it: no change by anyone else can slip
        # in between the check and the changes.
        employer = Employer.objects.select_for_update().get(pk=access_import.employer_id)
        locked = AccessImport.objects.select_for_update().get(pk=access_import.pk)
        _check_open(locked)
        if locked.errors:
            raise ImportNotApplied(
                _("Filen har fel och kan inte genomföras. Rätta filen och ladda upp den igen."),
                import_errors(locked),
            )
        rows = import_rows(locked)
        previewed = [list(row.changes) for row in rows]
        errors = _plan(employer, rows, skip=set())
        for row, before in zip(rows, previewed, strict=True):
            if row.changes != before:
                errors.append(
                    RowError(
                        row.line,
                        "",
                        _(
                            "Behörigheterna har ändrats sedan förhandsgranskningen, så raden "
                            "skulle nu göra något annat än det som visades."
                        ),
                    )
                )
        if errors:
            raise ImportNotApplied(
                _(
                    "Ingenting har ändrats. Ladda upp filen igen för att se en ny "
                    "förhandsgranskning."
                ),
                _sorted(errors),
            )
        recipients = list(
            Membership.objects.active()
            .filter(employer=employer, role=Role.ADMINISTRATOR)
            .exclude(person=actor)
            .select_related("person")
        )
        emails: dict[str, str] = {}
        for row in rows:
            if row.email:
                emails.setdefault(person_key(row), row.email)
        for row in rows:
            try:
                _apply(row, employer=employer, actor=actor, request=request, emails=emails)
            except ApplicationError as error:
                raise ImportNotApplied(
                    _("Ingenting har ändrats: rad %(line)d kunde inte genomföras.")
                    % {"line": row.line},
                    [RowError(row.line, "", error.message)],
                ) from error
        locked.state = AccessImport.State.APPLIED
        locked.applied_at = timezone.now()
        locked.save(update_fields=["state", "applied_at"])
        result = counts(rows)
        audit.record(
            EventType.ACCESS_IMPORT_APPLIED,
            actor=actor,
            request=request,
            object_type="employer",
            object_id=str(employer.public_id),
            data={"import": str(locked.public_id), "rows": len(rows), "changes": result},
        )
        if any(count for change, count in result.items() if change != "unchanged"):
            _tell_administrators(
                employer=employer, actor=actor, recipients=recipients, counts=result
            )
    access_import.refresh_from_db()
    return result


def access_import_discard(
    *, access_import: AccessImport, actor: Person, request: HttpRequest | None = None
) -> None:
    with transaction.atomic():
        locked = AccessImport.objects.select_for_update().get(pk=access_import.pk)
        _check_open(locked)
        locked.state = AccessImport.State.DISCARDED
        locked.save(update_fields=["state"])
        audit.record(
            EventType.ACCESS_IMPORT_DISCARDED,
            actor=actor,
            request=request,
            object_type="employer",
            object_id=str(access_import.employer.public_id),
            data={"import": str(locked.public_id)},
        )
    access_import.refresh_from_db()


def _check_open(access_import: AccessImport) -> None:
    if access_import.state == AccessImport.State.APPLIED:
        raise ConflictError(_("Importen är redan genomförd."), code="import-applied")
    if access_import.state == AccessImport.State.DISCARDED:
        raise ConflictError(
            _("Importen är avbruten. Ladda upp filen igen om du vill genomföra den."),
            code="import-discarded",
        )


def _apply(
    row: ImportRow,
    *,
    employer: Employer,
    actor: Person,
    request: HttpRequest | None,
    emails: dict[str, str],
) -> None:
    # The other administrators get one summary of the whole import instead of a mail per change.
    changes = set(row.changes)
    role = Role(row.role) if not row.eservice else Role.USER
    if Change.NEW_PERSON in changes:
        person_add(
            employer=employer,
            actor=actor,
            personal_number="" if row.eidas else row.personal_number,
            eidas_identifier=row.personal_number if row.eidas else "",
            email=row.email or emails.get(person_key(row), ""),
            administrator=role == Role.ADMINISTRATOR,
            user=role == Role.USER,
            grants=[row.spec()] if row.eservice else (),
            reason=row.reason,
            request=request,
            notify=False,
        )
        return
    if not changes:
        return
    person = (
        Person.objects.get(eidas_identifier=row.personal_number)
        if row.eidas
        else Person.objects.get(personal_number=row.personal_number)
    )
    if Change.NEW_ROLE in changes:
        role_add(
            employer=employer,
            person=person,
            role=role,
            email=row.email,
            reason=row.reason,
            actor=actor,
            request=request,
            notify=False,
        )
    if changes & {Change.NEW_GRANT, Change.CHANGED_GRANT}:
        grant_set(
            employer=employer,
            person=person,
            spec=row.spec(),
            reason=row.reason,
            actor=actor,
            request=request,
            notify=False,
        )
    if Change.CHANGED_EMAIL in changes:
        membership_email_change(
            employer=employer, person=person, email=row.email, actor=actor, request=request
        )


def _tell_administrators(
    *,
    employer: Employer,
    actor: Person,
    recipients: Sequence[Membership],
    counts: dict[str, int],
) -> None:
    """One mail to each other administrator (those before the import) about the whole import."""
    link = settings.BASE_URL + reverse("access:people", kwargs={"public_id": employer.public_id})
    for membership in recipients:
        address = membership.contact_email
        if not address:
            continue
        outbox_enqueue(
            template="access_imported",
            to_email=address,
            to_person=membership.person,
            context={
                "employer": employer.name,
                "by": actor.full_name,
                "counts": {key.replace("-", "_"): value for key, value in counts.items()},
                "link": link,
            },
            related_object_type="employer",
            related_object_id=str(employer.public_id),
        )


# --- export ---------------------------------------------------------------------------------


def _cell(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def _identifier(person: Person) -> str:
    number = person.personal_number
    if number:
        return f"{number[:8]}-{number[8:]}"
    return person.eidas_identifier or ""


def _exported_grants(today: date) -> Q:
    # What the person can do now or later: a grant past its last day is no longer access.
    return Q(valid_until__isnull=True) | Q(valid_until__gte=today)


def export_rows(employer: Employer, *, today: date | None = None) -> Iterator[list[str]]:
    """Every open role and every grant in force or to come, one row each (a user without grants
    gets a row with no e-service), sorted by person."""
    day = today or timezone.localdate()
    memberships = (
        Membership.objects.open()
        .filter(employer=employer)
        .select_related("person")
        .prefetch_related(
            Prefetch(
                "grants",
                queryset=Grant.objects.open().filter(_exported_grants(day)).order_by("eservice"),
            )
        )
        .order_by("person__personal_number", "person__eidas_identifier", "role", "pk")
    )
    for membership in memberships.iterator(chunk_size=500):
        identifier = _identifier(membership.person)
        role = ROLE_CELL[Role(membership.role)]
        grants = list(membership.grants.all()) if membership.role == Role.USER else []
        if not grants:
            yield [identifier, membership.email, role, "", "", "", "", membership.reason]
        for grant in grants:
            yield [
                identifier,
                membership.email,
                role,
                grant.eservice,
                LEVEL_CELL[Level(grant.level)],
                grant.valid_from.isoformat(),
                grant.valid_until.isoformat() if grant.valid_until else "",
                grant.reason,
            ]


def export_count(employer: Employer, *, today: date | None = None) -> int:
    day = today or timezone.localdate()
    memberships = Membership.objects.open().filter(employer=employer)
    grants = Grant.objects.open().filter(
        _exported_grants(day), membership__in=memberships.filter(role=Role.USER)
    )
    without_grants = memberships.exclude(role=Role.USER, pk__in=grants.values("membership"))
    return grants.count() + without_grants.count()


class _Line:
    """A file-like object that hands back what ``csv.writer`` writes, for streaming."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterator[list[str]] | Sequence[list[str]]) -> Iterator[str]:
    """The CSV text, line by line: a byte order mark (so that Excel reads it as UTF-8), the header,
    then ``rows``; ``;`` separated, every cell guarded against being run as a formula."""
    writer = csv.writer(_Line(), delimiter=";", lineterminator="\r\n")
    yield "\ufeff" + writer.writerow(COLUMNS)
    for row in rows:
        yield writer.writerow([_cell(value) for value in row])


def access_export(
    *, employer: Employer, actor: Person, request: HttpRequest | None = None
) -> Iterator[str]:
    """Record the export in the audit log and return the file's lines (streamed)."""
    today = timezone.localdate()
    with transaction.atomic():
        audit.record(
            EventType.ACCESS_EXPORTED,
            actor=actor,
            request=request,
            object_type="employer",
            object_id=str(employer.public_id),
            data={"rows": export_count(employer, today=today)},
        )
    return csv_lines(export_rows(employer, today=today))


def export_filename(employer: Employer) -> str:
    return f"behorigheter-{employer.organisation_number}-{timezone.localdate().isoformat()}.csv"


_EXAMPLE = (
    "19121212-1212;tolvan@exempel.se;behörighetsadministratör;;;;;Ansvarig för behörigheter",
    "19121212-1212;tolvan@exempel.se;användare;sick_report;lämna;;;Sköter sjukanmälningar",
    "19800101-0019;anna@exempel.se;användare;inquiries;se;;2030-12-31;Vikarie på lönekontoret",
)


def template_lines() -> Iterator[str]:
    """An example file to start from: the header and one row of each kind (fictional people)."""
    return csv_lines([line.split(";") for line in _EXAMPLE])


def change_labels(row: ImportRow) -> list[str]:
    """What applying the row does, in words for the preview."""
    role = Role(row.role) if row.role in Role.values else None
    labels = []
    for change in row.changes:
        if change == Change.NEW_PERSON:
            labels.append(
                _("Ny person, som behörighetsadministratör")
                if role == Role.ADMINISTRATOR and not row.eservice
                else _("Ny person, som användare")
            )
        elif change == Change.NEW_ROLE:
            labels.append(
                _("Ny roll: behörighetsadministratör")
                if role == Role.ADMINISTRATOR and not row.eservice
                else _("Ny roll: användare")
            )
        elif change == Change.NEW_GRANT:
            labels.append(_("Ny behörighet till e-tjänsten"))
        elif change == Change.CHANGED_GRANT:
            labels.append(_("Ändrad behörighet till e-tjänsten"))
        elif change == Change.CHANGED_EMAIL:
            labels.append(_("Ändrad e-postadress"))
    return labels


def summary(result: dict[str, int]) -> list[str]:
    """The counts in words, for the preview and the message after applying."""
    phrases = {
        Change.NEW_PERSON: ngettext(
            "%(n)d ny person", "%(n)d nya personer", result[Change.NEW_PERSON]
        ),
        Change.NEW_ROLE: ngettext("%(n)d ny roll", "%(n)d nya roller", result[Change.NEW_ROLE]),
        Change.NEW_GRANT: ngettext(
            "%(n)d ny behörighet till e-tjänst",
            "%(n)d nya behörigheter till e-tjänster",
            result[Change.NEW_GRANT],
        ),
        Change.CHANGED_GRANT: ngettext(
            "%(n)d ändrad behörighet till e-tjänst",
            "%(n)d ändrade behörigheter till e-tjänster",
            result[Change.CHANGED_GRANT],
        ),
        Change.CHANGED_EMAIL: ngettext(
            "%(n)d ändrad e-postadress",
            "%(n)d ändrade e-postadresser",
            result[Change.CHANGED_EMAIL],
        ),
        "unchanged": ngettext(
            "%(n)d rad utan ändring", "%(n)d rader utan ändring", result["unchanged"]
        ),
    }
    return [text % {"n": result[key]} for key, text in phrases.items() if result[key]]
