"""What the employer's page shows beyond the employer itself, read with written-out statements.

The employer's page is the commonest page after a login; the ORM's query building cost it more
CPU than the reads themselves, and each statement costs a round trip (docs/performance.md). The
one statement here says in SQL what the ORM expressions beside it say;
tests/employers/test_page_reads.py holds it to the ORM.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db import connection
from django.utils import timezone

from portal.access.models import Membership, Role
from portal.common.rows import columns, constant, read
from portal.employers.models import DeregistrationRequest, Employer
from portal.identity.eidas_identifiers import masked_identity
from portal.identity.models import Person
from portal.terms.models import TermsAcceptance, TermsVersion

#: What the employer's page shows beyond the employer, in one statement of three parts, each
#: with its rows numbered in its own order (``ROW_NUMBER``), ordered by part and number:
#:
#: - ``a``: ``Membership.objects.active().filter(employer=..., role=ADMINISTRATOR)`` with the
#:   people's names, by surname;
#: - ``t``: ``employer.terms_acceptances`` (newest first, the model's ordering) with the version
#:   and who;
#: - ``d``: the open request to leave (received or held; there is at most one).
#:
#: Columns: part, number, given name, surname, personal number, eIDAS identifier (the people's),
#: version, accepted at, channel (the acceptances'), received on (the request's).
#:
#: The role and the states are the code's constants, written into the statement (``rows.constant``)
#: rather than sent as parameters: PostgreSQL then plans the prepared statement once for them.
#: With parameters its generic plan could not know that administrators are few among an
#: employer's memberships, priced itself above a plan made for the values, and PostgreSQL planned
#: the statement anew on every run (some 0.4 ms of the database's CPU for each employer's page).
_PAGE_FACTS_SQL = (
    "SELECT 'a', ROW_NUMBER() OVER (ORDER BY p.surname, m.id),"  # noqa: S608 (constants)
    " p.given_name, p.surname, p.personal_number, p.eidas_identifier, NULL, NULL, NULL,"
    # Typed, so that PostgreSQL gives the column the third part's type (an untyped NULL in
    # the first two would make it text).
    " CAST(NULL AS DATE)"
    " FROM access_membership m JOIN identity_person p ON p.id = m.person_id"
    f" WHERE m.employer_id = %s AND m.role = {constant(Role.ADMINISTRATOR)}"
    " AND m.ended_at IS NULL AND m.suspended_at IS NULL AND m.valid_from <= %s"
    " AND (m.valid_until IS NULL OR m.valid_until > %s)"
    " UNION ALL"
    " SELECT 't', ROW_NUMBER() OVER (ORDER BY a.accepted_at DESC, a.id DESC),"
    " p.given_name, p.surname, NULL, NULL, v.version, a.accepted_at, a.channel, NULL"
    " FROM terms_termsacceptance a JOIN terms_termsversion v ON v.id = a.terms_version_id"
    " LEFT JOIN identity_person p ON p.id = a.accepted_by_id"
    " WHERE a.employer_id = %s"
    " UNION ALL"
    " SELECT 'd', 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, received_on"
    " FROM employers_deregistrationrequest WHERE employer_id = %s AND state IN"
    f" ({constant(DeregistrationRequest.State.RECEIVED)},"
    f" {constant(DeregistrationRequest.State.HELD)})"
    " ORDER BY 1, 2"
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


@dataclass(frozen=True)
class PageFacts:
    """What the employer's page shows beyond the employer itself."""

    #: The names of the access administrators in force (the masked identity of one with no name
    #: yet), by surname.
    administrators: list[str]
    #: The acceptances of the terms, newest first.
    acceptances: list[Acceptance]
    #: The day the open request to leave came in, if there is one.
    open_deregistration: date | None


def page_facts(employer: Employer) -> PageFacts:
    """The employer's administrators, acceptances of the terms and open request to leave, read in
    one statement (``_PAGE_FACTS_SQL``)."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = read(
        Employer,
        _PAGE_FACTS_SQL,
        [employer.pk, now, now, employer.pk, employer.pk],
        # The part and the number need no conversion; each other column is converted as the
        # field it reads.
        [
            *columns(Membership, "role"),
            *columns(Membership, "id"),
            *columns(Person, "given_name", "surname", "personal_number", "eidas_identifier"),
            *columns(TermsVersion, "version"),
            *columns(TermsAcceptance, "accepted_at", "channel"),
            *columns(DeregistrationRequest, "received_on"),
        ],
    )
    facts = PageFacts(administrators=[], acceptances=[], open_deregistration=None)
    for part, _number, given, surname, number, eidas, version, at, channel, received in rows:
        if part == "a":
            name = f"{given} {surname}".strip()
            facts.administrators.append(name or masked_identity(number, eidas))
        elif part == "t":
            facts.acceptances.append(
                Acceptance(
                    version=version,
                    accepted_at=at,
                    channel=channel,
                    accepted_by=f"{given or ''} {surname or ''}".strip(),
                )
            )
        else:
            facts = PageFacts(facts.administrators, facts.acceptances, received)
    return facts
