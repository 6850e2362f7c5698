"""'Anslut ditt företag' end to end through the pages, the fictional register and the BankID
simulator: one signatory, joint signatories, every refusal, resubmits, expiry and races."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from typing import Any

import httpx
import psycopg
import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from portal.access.models import Membership, Role
from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.employers.constants import EmployerState
from portal.employers.models import Employer, Enrolment
from portal.employers.tasks import expire_enrolment
from portal.identity import services as identity_services
from portal.identity.models import EidTransaction, Person
from portal.messaging.models import OutboxMessage
from portal.terms.demo import DEMO_TERMS
from portal.terms.models import TermsAcceptance, TermsVersion

pytestmark = pytest.mark.django_db

SOLE = "5599011235"  # Exempelbolaget i Sundsvall AB: Tolvan signs alone
JOINT = "5599023453"  # Demostyrelsen i Umeå AB: two of Astrid, Bertil and Cecilia jointly
TOLVAN, ASTRID, BERTIL, CECILIA = "191212121212", "198001011231", "198503152343", "199006223458"
NAMES = {
    TOLVAN: ("Tolvan", "Tolvansson"),
    ASTRID: ("Astrid", "Demosson"),
    BERTIL: ("Bertil", "Exempelberg"),
    CECILIA: ("Cecilia", "Provström"),
}


@pytest.fixture(autouse=True)
def _setup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(identity_services, "POLL_INTERVAL", timedelta(0))
    for values in DEMO_TERMS:
        TermsVersion.objects.create(**values, published_at=timezone.now())


def logged_in(number: str) -> Client:
    given, surname = NAMES[number]
    person, _ = Person.objects.get_or_create(
        personal_number=number, defaults={"given_name": given, "surname": surname, "password": "!"}
    )
    client = Client()
    client.force_login(person)
    return client


def details(**overrides: str) -> dict[str, str]:
    return {
        "administrator": "self",
        "administrator_personal_number": "",
        "administrator_email": "admin@exempel.se",
        "your_email": "signatory@exempel.se",
        "accept_terms": "on",
        **overrides,
    }


def sign(client: Client, bankid: Any, response: Any, number: str) -> Any:
    """Follow a redirect to the BankID order page, approve it in the simulator, and poll."""
    assert response.status_code == 302, response.content.decode()[:800]
    match = re.fullmatch(r"/e-legitimation/([0-9a-f-]{36})/", response["Location"])
    assert match, response["Location"]
    order = EidTransaction.objects.get(public_id=match.group(1))
    assert order.purpose == EidTransaction.Purpose.SIGN
    httpx.post(
        f"{bankid.app_url}/control/orders/{order.transaction_id}/approve",
        json={"personalNumber": number},
    ).raise_for_status()
    return client.get(f"/e-legitimation/{order.public_id}/")


def events(event_type: EventType) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event_type).order_by("id"))


def test_a_sole_signatory_connects_the_company(bankid: Any) -> None:
    tolvan = logged_in(TOLVAN)
    start = tolvan.post("/anslut/", {"organisation_number": "559901-1235"})
    assert start["Location"] == f"/anslut/{SOLE}/"
    page = tolvan.get(start["Location"]).content.decode()
    assert "Exempelbolaget i Sundsvall AB" in page
    assert "tecknar firman ensam" in page
    assert "/villkor/2026-06/" in page

    done = sign(tolvan, bankid, tolvan.post(f"/anslut/{SOLE}/", details()), TOLVAN)
    enrolment = Enrolment.objects.get()
    assert done["Location"] == f"/anslutningar/{enrolment.public_id}/"
    assert "är anslutet" in tolvan.get(done["Location"]).content.decode()

    employer = Employer.objects.get(organisation_number=SOLE)
    assert employer.state == EmployerState.ACTIVE
    assert enrolment.state == Enrolment.State.COMPLETED
    membership = Membership.objects.get(employer=employer)
    assert (membership.person.personal_number, membership.role) == (TOLVAN, Role.ADMINISTRATOR)
    acceptance = TermsAcceptance.objects.get(employer=employer)
    assert acceptance.terms_version.version == "2026-06"
    assert acceptance.signature is not None
    assert acceptance.signature.object_id == str(enrolment.public_id)
    assert "559901-1235" in acceptance.signature.visible_text
    mails = OutboxMessage.objects.filter(template="enrolment_completed").order_by("recipient_email")
    assert [m.recipient_email for m in mails] == ["admin@exempel.se", "signatory@exempel.se"]
    assert "Exempelbolaget i Sundsvall AB" in mails[0].subject
    assert "behörighetsadministratör" in mails[0].body_text
    kinds = [e.event_type for e in AuditEvent.objects.order_by("id")]
    for expected in (
        EventType.ENROLMENT_STARTED,
        EventType.SIGNATURE_COMPLETED,
        EventType.ENROLMENT_SIGNED,
        EventType.MEMBERSHIP_CREATED,
        EventType.TERMS_ACCEPTED,
        EventType.ENROLMENT_COMPLETED,
    ):
        assert expected in kinds
    assert kinds.count(EventType.EMPLOYER_STATE_CHANGED) == 2


def test_another_person_can_be_named_administrator(bankid: Any) -> None:
    tolvan = logged_in(TOLVAN)
    response = tolvan.post(
        f"/anslut/{SOLE}/",
        details(administrator="other", administrator_personal_number="19850315-2343"),
    )
    sign(tolvan, bankid, response, TOLVAN)
    membership = Membership.objects.get()
    assert membership.person.personal_number == BERTIL
    assert membership.email == "admin@exempel.se"


def test_joint_signatories_each_sign_and_the_second_completes_it(bankid: Any) -> None:
    astrid = logged_in(ASTRID)
    form = astrid.get(f"/anslut/{JOINT}/").content.decode()
    assert "Du kan inte teckna firman ensam" in form
    response = astrid.post(
        f"/anslut/{JOINT}/", details(**{f"co_signer_{BERTIL}": "bertil@exempel.se"})
    )
    sign(astrid, bankid, response, ASTRID)
    enrolment = Enrolment.objects.get()
    assert enrolment.state == Enrolment.State.AWAITING_SIGNATURES
    assert Employer.objects.get().state == EmployerState.PENDING
    ask = OutboxMessage.objects.get(template="enrolment_co_sign")
    assert ask.recipient_email == "bertil@exempel.se"
    assert f"/anslutningar/{enrolment.public_id}/" in ask.body_text

    bertil = logged_in(BERTIL)
    overview = bertil.get("/arbetsgivare/").content.decode()
    assert "väntar på din underskrift" in overview
    page = bertil.get(f"/anslutningar/{enrolment.public_id}/").content.decode()
    assert "Astrid Demosson" in page
    sign(bertil, bankid, bertil.post(f"/anslutningar/{enrolment.public_id}/skriv-under"), BERTIL)
    enrolment.refresh_from_db()
    assert enrolment.state == Enrolment.State.COMPLETED
    assert Employer.objects.get().state == EmployerState.ACTIVE
    assert enrolment.signatures.count() == 2


def test_a_signatory_cannot_sign_twice_to_satisfy_a_joint_rule(bankid: Any) -> None:
    astrid = logged_in(ASTRID)
    sign(astrid, bankid, astrid.post(f"/anslut/{JOINT}/", details()), ASTRID)
    enrolment = Enrolment.objects.get()
    page = astrid.get(f"/anslutningar/{enrolment.public_id}/").content.decode()
    assert "Skriv under med BankID" not in page
    sign(astrid, bankid, astrid.post(f"/anslutningar/{enrolment.public_id}/skriv-under"), ASTRID)
    enrolment.refresh_from_db()
    assert enrolment.state == Enrolment.State.AWAITING_SIGNATURES
    assert events(EventType.ENROLMENT_REFUSED)[-1].data == {"reason": "already-signed"}


def test_someone_elses_bankid_cannot_sign_the_enrolment(bankid: Any) -> None:
    tolvan = logged_in(TOLVAN)
    sign(tolvan, bankid, tolvan.post(f"/anslut/{SOLE}/", details()), CECILIA)
    assert Enrolment.objects.get().state == Enrolment.State.AWAITING_SIGNATURES
    assert events(EventType.SIGNATURE_FAILED)[0].data["reason"] == "signer-is-not-the-person"


def test_people_outside_the_enrolment_cannot_see_it(bankid: Any) -> None:
    tolvan = logged_in(TOLVAN)
    sign(tolvan, bankid, tolvan.post(f"/anslut/{SOLE}/", details()), TOLVAN)
    enrolment = Enrolment.objects.get()
    assert logged_in(CECILIA).get(f"/anslutningar/{enrolment.public_id}/").status_code == 404
    assert Client().get(f"/anslutningar/{enrolment.public_id}/").status_code == 302


@pytest.mark.parametrize(
    ("person", "number", "reason", "message"),
    [
        (TOLVAN, "556677-8899", "not-found", "finns inte i företagsregistret"),
        (TOLVAN, "559903-4567", "not-active", "är inte aktivt i företagsregistret"),
        (TOLVAN, "559904-5670", "not-active", "är inte aktivt i företagsregistret"),
        (TOLVAN, "559905-6784", "not-active", "är inte aktivt i företagsregistret"),
        (TOLVAN, "559906-7898", "not-employer", "är inte registrerat som arbetsgivare"),
        (CECILIA, "559901-1235", "not-signatory", "Du är inte registrerad som firmatecknare"),
    ],
)
def test_each_refusal_gives_its_reason_and_is_audited(
    bankid: Any, person: str, number: str, reason: str, message: str
) -> None:
    response = logged_in(person).post("/anslut/", {"organisation_number": number})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert events(EventType.ENROLMENT_REFUSED)[0].data == {"reason": reason}
    assert not Enrolment.objects.exists()


def test_an_employer_already_connected_says_who_administers_it(bankid: Any) -> None:
    tolvan = logged_in(TOLVAN)
    sign(tolvan, bankid, tolvan.post(f"/anslut/{SOLE}/", details()), TOLVAN)
    again = tolvan.post("/anslut/", {"organisation_number": SOLE})
    assert again.status_code == 302
    html = tolvan.get(again["Location"]).content.decode()
    assert "redan anslutet" in html
    assert "Tolvan Tolvansson" in html
    assert "Ny behörighetsadministratör för" in html


def test_a_signatory_names_a_new_administrator_of_a_connected_employer(bankid: Any) -> None:
    """When no administrator is left (or another is needed), a signatory names one with BankID;
    the employer stays connected and nothing else changes."""
    tolvan = logged_in(TOLVAN)
    sign(tolvan, bankid, tolvan.post(f"/anslut/{SOLE}/", details()), TOLVAN)
    employer = Employer.objects.get(organisation_number=SOLE)
    acceptances = employer.terms_acceptances.count()
    response = tolvan.post(
        f"/anslut/{SOLE}/",
        details(
            administrator="other",
            administrator_personal_number=CECILIA,
            administrator_email="cecilia@example.se",
        ),
    )
    enrolment = Enrolment.objects.filter(employer=employer).latest("created_at")
    assert enrolment.kind == Enrolment.Kind.ADMINISTRATOR
    sign(tolvan, bankid, response, TOLVAN)
    enrolment.refresh_from_db()
    assert enrolment.state == Enrolment.State.COMPLETED
    employer.refresh_from_db()
    assert employer.state == EmployerState.ACTIVE
    assert employer.terms_acceptances.count() == acceptances
    cecilia = Person.objects.get(personal_number=CECILIA)
    assert (
        Membership.objects.active()
        .filter(employer=employer, person=cecilia, role=Role.ADMINISTRATOR)
        .exists()
    )
    mail = OutboxMessage.objects.filter(template="enrolment_completed").latest("created_at")
    assert mail.subject.startswith("Ny behörighetsadministratör")
    # The administrator already there is told by the access notice.
    assert OutboxMessage.objects.filter(template="access_changed").exists()


@pytest.mark.parametrize("number", ["", "12345", "556677-8898", "abc-def", "5566778899" * 3])
def test_a_malformed_number_gets_a_field_error_in_the_summary(number: str) -> None:
    response = logged_in(TOLVAN).post("/anslut/", {"organisation_number": number})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="error-list portal-error-summary"' in html
    assert 'href="#id_organisation_number"' in html
    assert 'aria-invalid="true"' in html
    assert "<title>Fel:" in html


def test_form_errors_are_explained(bankid: Any) -> None:
    response = logged_in(TOLVAN).post(
        f"/anslut/{SOLE}/",
        details(
            administrator="other",
            administrator_personal_number="19121212-1213",
            administrator_email="x",
            accept_terms="",
        ),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Personnumret är inte giltigt" in html
    assert "Ange en e-postadress i rätt format" in html
    assert "Du behöver godkänna villkoren" in html
    assert not Enrolment.objects.exists()


def test_a_double_submit_creates_one_enrolment(bankid: Any) -> None:
    tolvan = logged_in(TOLVAN)
    first = tolvan.post(f"/anslut/{SOLE}/", details())
    second = tolvan.post(f"/anslut/{SOLE}/", details())
    assert first.status_code == second.status_code == 302
    assert Enrolment.objects.count() == 1
    # The second submit replaced the first BankID order (one order per browser session).
    assert EidTransaction.objects.filter(status=EidTransaction.Status.PENDING).count() == 1


def test_a_second_signatory_starting_meanwhile_is_led_to_the_open_enrolment(bankid: Any) -> None:
    astrid, bertil = logged_in(ASTRID), logged_in(BERTIL)
    astrid.post(f"/anslut/{JOINT}/", details())
    enrolment = Enrolment.objects.get()
    response = bertil.post("/anslut/", {"organisation_number": JOINT})
    assert response["Location"] == f"/anslutningar/{enrolment.public_id}/"
    assert Enrolment.objects.count() == 1


def test_an_enrolment_lapses_after_the_waiting_time(bankid: Any) -> None:
    astrid = logged_in(ASTRID)
    sign(astrid, bankid, astrid.post(f"/anslut/{JOINT}/", details()), ASTRID)
    enrolment = Enrolment.objects.get()
    assert round((enrolment.expires_at - enrolment.created_at).total_seconds() / 86400) == 30
    Enrolment.objects.filter(pk=enrolment.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert expire_enrolment.call(str(enrolment.public_id)) is True
    enrolment.refresh_from_db()
    assert enrolment.state == Enrolment.State.EXPIRED
    assert Employer.objects.get().state == EmployerState.NOT_CONNECTED
    assert "har förfallit" in astrid.get(f"/anslutningar/{enrolment.public_id}/").content.decode()
    assert events(EventType.ENROLMENT_EXPIRED)
    # It can be started again.
    assert (
        astrid.post("/anslut/", {"organisation_number": JOINT})["Location"] == f"/anslut/{JOINT}/"
    )


def test_the_expiry_task_leaves_a_completed_enrolment_alone(bankid: Any) -> None:
    tolvan = logged_in(TOLVAN)
    sign(tolvan, bankid, tolvan.post(f"/anslut/{SOLE}/", details()), TOLVAN)
    enrolment = Enrolment.objects.get()
    assert expire_enrolment.call(str(enrolment.public_id)) is False
    assert Employer.objects.get().state == EmployerState.ACTIVE


@pytest.mark.postgres
def test_two_enrolments_of_one_employer_at_the_same_moment_end_as_one() -> None:
    """Two transactions on separate connections insert an open enrolment for the same employer;
    the partial unique index lets exactly one commit."""
    settings = connection.settings_dict
    params = {
        "host": settings["HOST"] or "127.0.0.1",
        "port": settings["PORT"] or 5432,
        "user": settings["USER"],
        "password": settings["PASSWORD"] or None,
        "dbname": settings["NAME"],
    }
    with psycopg.connect(**params, autocommit=True) as setup:
        employer_id = setup.execute(
            "INSERT INTO employers_employer (public_id, organisation_number, name, legal_form, state, state_changed_at, created_at)"
            " VALUES (gen_random_uuid(), '5599099990', 'Kapplöpning AB', 'aktiebolag', 'pending', now(), now()) RETURNING id"
        ).fetchone()[0]
        terms_id = setup.execute(
            "INSERT INTO terms_termsversion (version, title_sv, title_en, text_sv, text_en, changes_sv, changes_en, published_at, effective_from, created_at)"
            " VALUES ('race', 't', 't', 't', 't', '', '', now(), now(), now()) RETURNING id"
        ).fetchone()[0]
    insert = (
        "INSERT INTO employers_enrolment (public_id, employer_id, channel, state, terms_version_id,"
        " administrator_personal_number, administrator_email, signatory_rule, company_snapshot, created_at, expires_at,"
        " case_number, scan_reference) VALUES (gen_random_uuid(), %s, 'eservice', 'awaiting_signatures', %s,"
        " '191212121212', 'a@example.se', '{}', '{}', now(), now() + interval '30 days', '', '')"
    )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def enrol() -> None:
        with psycopg.connect(**params) as conn:
            try:
                barrier.wait()
                conn.execute(insert, (employer_id, terms_id))
                conn.commit()
                outcomes.append("committed")
            except psycopg.errors.UniqueViolation:
                conn.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=enrol) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    try:
        assert sorted(outcomes) == ["committed", "refused"]
    finally:
        with psycopg.connect(**params, autocommit=True) as cleanup:
            cleanup.execute(
                "DELETE FROM employers_enrolment WHERE employer_id = %s", (employer_id,)
            )
            cleanup.execute("DELETE FROM employers_employer WHERE id = %s", (employer_id,))
            cleanup.execute("DELETE FROM terms_termsversion WHERE id = %s", (terms_id,))
