"""What the employer's page shows beyond the employer itself, read with written-out statements.

The employer's page is the commonest page after a login; the ORM's query building cost it more
CPU than the reads themselves (docs/performance.md). Each statement here says in SQL what the
ORM expression beside it says; tests/employers/test_page_reads.py holds them to the ORM.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection
from django.utils import timezone

from portal.access.models import Membership, Role
from portal.common.rows import columns, read
from portal.employers.models import DeregistrationRequest, Employer
from portal.identity.eidas_identifiers import masked_identity
from portal.identity.models import Person
from portal.terms.models import TermsAcceptance, TermsVersion

#: ``Membership.objects.active().filter(employer=..., role=ADMINISTRATOR)`` with the people's
#: names, by surname.
_ADMINISTRATORS_SQL = (
    "SELECT p.given_name, p.surname, p.personal_number, p.eidas_identifier"
    " FROM access_membership m JOIN identity_person p ON p.id = m.person_id"
    " WHERE m.employer_id = %s AND m.role = %s"
    " AND m.ended_at IS NULL AND m.suspended_at IS NULL AND m.valid_from <= %s"
    " AND (m.valid_until IS NULL OR m.valid_until > %s)"
    " ORDER BY p.surname, m.id"
)

#: ``employer.terms_acceptances`` (newest first, the model's ordering) with the version and who.
_ACCEPTANCES_SQL = (
    "SELECT v.version, a.accepted_at, a.channel, p.given_name, p.surname"
    " FROM terms_termsacceptance a JOIN terms_termsversion v ON v.id = a.terms_version_id"
    " LEFT JOIN identity_person p ON p.id = a.accepted_by_id"
    " WHERE a.employer_id = %s ORDER BY a.accepted_at DESC, a.id DESC"
)

#: The open request to leave (received or held; there is at most one).
_OPEN_DEREGISTRATION_SQL = (
    "SELECT received_on FROM employers_deregistrationrequest"
    " WHERE employer_id = %s AND state IN (%s, %s)"
)


@dataclass(frozen=True)
class Acceptance:
    """An acceptance of the terms as the employer's page lists it."""

    version: str
    accepted_at: datetime
    channel: str
    #: Who accepted it (empty for the paper form).
    accepted_by: str

    @property
    def channel_label(self) -> str:
        return str(TermsAcceptance.Channel(self.channel).label)


def administrator_names(employer: Employer) -> list[str]:
    """The names of the employer's access administrators in force (the masked identity of one
    with no name yet), by surname."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = read(
        Membership,
        _ADMINISTRATORS_SQL,
        [employer.pk, Role.ADMINISTRATOR.value, now, now],
        columns(Person, "given_name", "surname", "personal_number", "eidas_identifier"),
    )
    return [
        f"{given} {surname}".strip() or masked_identity(number, eidas)
        for given, surname, number, eidas in rows
    ]


def acceptances(employer: Employer) -> list[Acceptance]:
    """The employer's acceptances of the terms, newest first."""
    rows = read(
        TermsAcceptance,
        _ACCEPTANCES_SQL,
        [employer.pk],
        [
            *columns(TermsVersion, "version"),
            *columns(TermsAcceptance, "accepted_at", "channel"),
            *columns(Person, "given_name", "surname"),
        ],
    )
    return [
        Acceptance(
            version=version,
            accepted_at=accepted_at,
            channel=channel,
            accepted_by=f"{given or ''} {surname or ''}".strip(),
        )
        for version, accepted_at, channel, given, surname in rows
    ]


def open_deregistration(employer: Employer) -> date | None:
    """The day the employer's open request to leave came in, if there is one."""
    held = DeregistrationRequest.State
    rows = read(
        DeregistrationRequest,
        _OPEN_DEREGISTRATION_SQL,
        [employer.pk, held.RECEIVED.value, held.HELD.value],
        columns(DeregistrationRequest, "received_on"),
    )
    return rows[0][0] if rows else None
