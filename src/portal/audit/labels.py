"""What the audit log's codes mean, in words an employer's administrator reads.

Every ``EventType`` has a label (a test checks it), so that the activity view never shows a raw
code for an event the portal itself writes. A code in the log that the catalogue no longer knows
is shown as it is (``event_label``).
"""

from __future__ import annotations

from functools import cache

from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from portal.audit.constants import EventType, Outcome

EVENT_LABELS: dict[EventType, Promise] = {
    # identity
    EventType.LOGIN_STARTED: _("Inloggning påbörjades"),
    EventType.LOGIN_SUCCEEDED: _("Loggade in"),
    EventType.LOGIN_FAILED: _("Inloggningen misslyckades"),
    EventType.LOGIN_CANCELLED: _("Inloggningen avbröts"),
    EventType.LOGIN_REFUSED: _("Inloggningen nekades"),
    EventType.SESSION_ENDED: _("Loggade ut"),
    EventType.SESSION_EXPIRED: _("Inloggningen gick ut"),
    EventType.SESSIONS_ENDED_EVERYWHERE: _("Loggade ut på alla enheter"),
    EventType.SIGNATURE_STARTED: _("Underskrift påbörjades"),
    EventType.SIGNATURE_COMPLETED: _("Underskrift med e-legitimation"),
    EventType.SIGNATURE_FAILED: _("Underskriften misslyckades"),
    EventType.SIGNATURE_CANCELLED: _("Underskriften avbröts"),
    EventType.EID_ORDER_REFUSED: _("Ogiltig begäran till e-legitimationen nekades"),
    # employers
    EventType.EMPLOYER_STATE_CHANGED: _("Arbetsgivarens anslutning ändrades"),
    EventType.ENROLMENT_STARTED: _("Anslutning påbörjades"),
    EventType.ENROLMENT_SIGNED: _("Anslutningen skrevs under"),
    EventType.ENROLMENT_COMPLETED: _("Arbetsgivaren anslöts"),
    EventType.ENROLMENT_EXPIRED: _("Anslutningen slutfördes inte i tid"),
    EventType.ENROLMENT_REFUSED: _("Anslutning nekades"),
    EventType.DEREGISTRATION_REQUESTED: _("Avregistrering begärdes"),
    EventType.DEREGISTRATION_REFUSED: _("Avregistrering nekades"),
    EventType.DEREGISTRATION_PROCESSED: _("Avregistreringen genomfördes"),
    EventType.DEREGISTRATION_RELEASED: _("Avregistreringen släpptes av handläggare"),
    EventType.TERMINATION_NOTIFIED: _("Myndigheten sade upp anslutningen"),
    EventType.TERMINATION_WITHDRAWN: _("Uppsägningen återkallades"),
    EventType.TERMINATION_TOOK_EFFECT: _("Uppsägningen trädde i kraft"),
    # terms
    EventType.TERMS_ACCEPTED: _("Villkoren godkändes"),
    EventType.TERMS_PUBLISHED: _("Nya villkor publicerades"),
    # access
    EventType.MEMBERSHIP_CREATED: _("Roll gavs"),
    EventType.MEMBERSHIP_ENDED: _("Roll togs bort"),
    EventType.MEMBERSHIP_CHANGED: _("Roll ändrades"),
    EventType.MEMBERSHIP_SUSPENDED: _("Roll blev vilande efter granskning"),
    EventType.MEMBERSHIP_REFUSED: _("Ändring av roll nekades"),
    EventType.GRANT_CREATED: _("Behörighet till e-tjänst gavs"),
    EventType.GRANT_REVOKED: _("Behörighet till e-tjänst togs bort"),
    EventType.GRANT_EXPIRED: _("Behörighet till e-tjänst upphörde"),
    EventType.ACCESS_REMOVED_ALL: _("All behörighet togs bort"),
    EventType.ACCESS_EXPORTED: _("Behörigheterna exporterades"),
    EventType.ACCESS_IMPORT_PREVIEWED: _("Fil med behörigheter lästes in för granskning"),
    EventType.ACCESS_IMPORT_APPLIED: _("Behörigheter importerades från fil"),
    EventType.ACCESS_IMPORT_DISCARDED: _("Import av behörigheter avbröts"),
    EventType.REVIEW_SCHEDULED: _("Granskning av behörigheter planerades"),
    EventType.REVIEW_DECIDED: _("Beslut i granskning av behörigheter"),
    EventType.REVIEW_COMPLETED: _("Granskning av behörigheter slutfördes"),
    EventType.REVIEW_REMINDED: _("Påminnelse om granskning skickades"),
    EventType.ACCESS_DENIED: _("Åtkomst nekades"),
    # e-services
    EventType.SUBMISSION_RECEIVED: _("Uppgifter skickades in i en e-tjänst"),
    EventType.SUBMISSION_VIEWED: _("Inskickade uppgifter visades"),
    EventType.SUBMISSIONS_LISTED: _("Listan över inskickade uppgifter visades"),
    EventType.DRAFTS_PURGED: _("Gamla utkast togs bort"),
    EventType.INTAKE_CLIENT_CREATED: _("Ett mottagande system fick behörighet till inflödet"),
    EventType.INTAKE_READ: _("Inskickade uppgifter hämtades till handläggning"),
    EventType.INTAKE_ACKNOWLEDGED: _("Handläggningen bekräftade mottagna uppgifter"),
    EventType.INQUIRY_CREATED: _("Myndigheten skickade en förfrågan"),
    EventType.INQUIRY_ANSWERED: _("En förfrågan besvarades"),
    EventType.INQUIRY_REMINDED: _("Påminnelse om en förfrågan skickades"),
    EventType.INQUIRY_VIEWED: _("En förfrågan visades"),
    EventType.INQUIRIES_LISTED: _("Listan över förfrågningar visades"),
    EventType.REGISTER_EXTRACT_MADE: _("Ett registerutdrag togs fram"),
    EventType.RETENTION_PURGED: _("Uppgifter togs bort när lagringstiden gick ut"),
    EventType.ATTACHMENT_UPLOADED: _("En bilaga laddades upp"),
    EventType.ATTACHMENT_REFUSE: _("En fil togs inte emot som bilaga"),
    EventType.ATTACHMENT_REMOVED: _("En bilaga togs bort från ett utkast"),
    EventType.ATTACHMENT_VIEWED: _("En bilaga öppnades"),
    # reads of personal data
    EventType.EMPLOYER_VIEWED: _("Arbetsgivarens sida visades"),
    EventType.ACCESS_PEOPLE_VIEWED: _("Listan över behörigheter visades"),
    EventType.ACCESS_PERSON_VIEWED: _("En persons behörigheter visades"),
    EventType.REVIEW_VIEWED: _("Granskningen av behörigheter visades"),
    EventType.ACTIVITY_VIEWED: _("Aktiviteten visades"),
    EventType.BACKOFFICE_EMPLOYER_VIEWED: _("Myndigheten visade arbetsgivarens uppgifter"),
    EventType.BACKOFFICE_ENROLMENT_VIEWED: _("Myndigheten visade en blankettanslutning"),
    EventType.BACKOFFICE_DEREGISTRATION_VIEWED: _("Myndigheten visade ett avregistreringsbrev"),
    # the agency's staff
    EventType.STAFF_ROLE_GRANTED: _("Roll för myndighetens personal gavs"),
    EventType.STAFF_ROLE_REVOKED: _("Roll för myndighetens personal togs bort"),
    EventType.BACKOFFICE_STAFF_VIEWED: _("Listan över myndighetens personal visades"),
    EventType.BACKOFFICE_PERSON_VIEWED: _("Myndighetens personal visade en persons uppgifter"),
    EventType.BACKOFFICE_QUEUES_VIEWED: _("Myndighetens personal visade arbetsköerna"),
    EventType.CONFIRMATION_RESENT: _("Myndighetens personal skickade en bekräftelse igen"),
    EventType.BACKOFFICE_LOOKUP: _("Myndighetens personal öppnade arbetsgivarens uppgifter"),
    EventType.ANNOUNCEMENT_PUBLISHED: _("Ett meddelande publicerades"),
    EventType.ANNOUNCEMENT_REVISED: _("Ett meddelande ändrades (ny version)"),
    EventType.ANNOUNCEMENT_WITHDRAWN: _("Ett meddelande återkallades"),
    EventType.OUTAGE_PLANNED: _("Ett planerat avbrott lades in"),
    EventType.OUTAGE_CANCELLED: _("Ett planerat avbrott ställdes in"),
    EventType.INCIDENT_DECLARED: _("En driftstörning meddelades"),
    EventType.INCIDENT_CLOSED: _("En driftstörning avslutades"),
    # notices
    EventType.NOTICE_SUBSCRIBED: _(
        "En behörighetsadministratör började prenumerera på driftmeddelanden"
    ),
    EventType.NOTICE_UNSUBSCRIBED: _(
        "En behörighetsadministratör slutade prenumerera på driftmeddelanden"
    ),
    # system
    EventType.SYSTEM_DEMO_DATA_LOADED: _("Demodata lästes in"),
    EventType.AUDIT_PURGED: _("Gamla händelser gallrades ur loggen"),
    # audit
    EventType.ACTIVITY_EXPORTED: _("Aktiviteten exporterades"),
}

#: The groups of the activity view's list of events, by the scope of the code.
SCOPE_LABELS: dict[str, Promise] = {
    "identity": _("Inloggning och underskrift"),
    "employers": _("Anslutning och avslut"),
    "terms": _("Villkor"),
    "access": _("Behörigheter"),
    "backoffice": _("Myndighetens handläggning"),
    "notices": _("Driftmeddelanden"),
    "system": _("Portalen"),
    "audit": _("Aktivitet"),
}

OUTCOME_LABELS: dict[Outcome, Promise] = {
    Outcome.SUCCESS: _("Genomförd"),
    Outcome.DENIED: _("Nekad"),
    Outcome.FAILURE: _("Misslyckad"),
}


def event_label(code: str) -> str:
    """The label of an event type, or the code itself for one the catalogue does not know."""
    return _labels(get_language()).get(code, code)


@cache
def _labels(language: str | None) -> dict[str, str]:
    """Every event type's label in ``language`` (the active one when it is called): the
    activity log shows a page of events, each with its label, on every request."""
    return {member.value: str(EVENT_LABELS[member]) for member in EventType}


def scope_label(scope: str) -> str:
    label = SCOPE_LABELS.get(scope)
    return str(label) if label is not None else scope


def event_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Every event type with its label, grouped by scope in catalogue order, labels sorted."""
    return [(scope, list(options)) for scope, options in _choices(get_language())]


@cache
def _choices(language: str | None) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    groups: dict[str, list[tuple[str, str]]] = {}
    labels = _labels(language)
    for member in EventType:
        groups.setdefault(member.value.split(":", 1)[0], []).append(
            (member.value, labels[member.value])
        )
    return tuple(
        (scope_label(scope), tuple(sorted(options, key=lambda option: option[1])))
        for scope, options in groups.items()
    )
