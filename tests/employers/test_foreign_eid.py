"""Someone who logs in with a foreign e-ID (eIDAS) has no Swedish personal identity number, so the
company register can never name them as a signatory: they are told so, in words, whenever they
try to connect an employer, sign an enrolment or sign a de-registration (never a failure)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from portal.access.models import Membership, Role
from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.employers import services
from portal.employers.constants import EmployerState
from portal.employers.models import Employer, Enrolment, EnrolmentSignature
from portal.identity import services as identity_services
from portal.identity.models import EidTransaction, Person
from portal.terms.demo import DEMO_TERMS
from portal.terms.models import TermsVersion

pytestmark = pytest.mark.django_db

SOLE = "5599011235"  # Exempelbolaget i Sundsvall AB: Tolvan signs alone
TOLVAN = "191212121212"
EXPLANATION = "Du har loggat in med en utländsk e-legitimation."


@pytest.fixture(autouse=True)
def _setup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(identity_services, "POLL_INTERVAL", timedelta(0))
    for values in DEMO_TERMS:
        TermsVersion.objects.create(**values, published_at=timezone.now())


def _hans() -> Person:
    return Person.objects.create(
        eidas_identifier="DE/SE/1234567890", given_name="Hans", surname="Müller", password="!"
    )


def _client(person: Person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def _refusals() -> list[dict[str, Any]]:
    return [
        event.data
        for event in AuditEvent.objects.filter(event_type=EventType.ENROLMENT_REFUSED).order_by(
            "id"
        )
    ]


def test_the_enrol_page_explains_instead_of_asking_for_a_number() -> None:
    page = _client(_hans()).get("/anslut/")
    assert page.status_code == 200
    body = page.content.decode()
    assert EXPLANATION in body
    assert "Företagsregistret anger firmatecknare med svenskt personnummer" in body
    assert "ge dig behörighet med din eIDAS-identitet" in body
    assert 'name="organisation_number"' not in body
    # A Swedish person still gets the form.
    tolvan = Person.objects.create(personal_number=TOLVAN, password="!")
    assert 'name="organisation_number"' in _client(tolvan).get("/anslut/").content.decode()


def test_connecting_an_employer_is_refused_with_the_explanation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_register() -> None:
        raise AssertionError("the register is not asked about someone it cannot know")

    monkeypatch.setattr(services, "get_register", no_register)
    client = _client(_hans())
    for response in (
        client.post("/anslut/", {"organisation_number": "559901-1235"}),
        client.get(f"/anslut/{SOLE}/"),
        client.post(f"/anslut/{SOLE}/", {"administrator": "self", "accept_terms": "on"}),
    ):
        assert response.status_code == 400
        assert EXPLANATION in response.content.decode()
    assert _refusals() == [{"reason": "foreign-eid"}] * 3
    assert not Enrolment.objects.exists()
    assert not Employer.objects.exists()


def test_a_foreign_person_cannot_sign_an_enrolment(bankid: Any) -> None:
    tolvan = Person.objects.create(personal_number=TOLVAN, given_name="Tolvan", password="!")
    started = _client(tolvan).post(
        f"/anslut/{SOLE}/",
        {
            "administrator": "self",
            "administrator_personal_number": "",
            "administrator_email": "admin@exempel.se",
            "your_email": "tolvan@exempel.se",
            "accept_terms": "on",
        },
    )
    assert started.status_code == 302
    enrolment = Enrolment.objects.get()
    hans = _hans()
    client = _client(hans)
    # Not theirs to see or sign.
    assert client.get(f"/anslutningar/{enrolment.public_id}/").status_code == 404
    assert client.post(f"/anslutningar/{enrolment.public_id}/skriv-under").status_code == 404
    # A signature made anyway (say, with another provider) is refused and audited, not counted.
    signature = SimpleNamespace(object_id=str(enrolment.public_id), person=hans)
    services.on_enrolment_signed(signature=signature, request=None)  # type: ignore[arg-type]
    assert _refusals()[-1] == {"reason": "foreign-eid"}
    assert not EnrolmentSignature.objects.exists()
    enrolment.refresh_from_db()
    assert enrolment.state == Enrolment.State.AWAITING_SIGNATURES


def test_a_foreign_administrator_is_told_why_they_cannot_sign_a_deregistration() -> None:
    employer = Employer.objects.create(
        organisation_number=SOLE, name="Exempelbolaget AB", state=EmployerState.ACTIVE
    )
    hans = _hans()
    Membership.objects.create(
        employer=employer, person=hans, role=Role.ADMINISTRATOR, email="h@x.de", reason="t"
    )
    client = _client(hans)
    page = client.get(f"/arbetsgivare/{employer.public_id}/")
    assert page.status_code == 200
    assert "Hans Müller" in page.content.decode()
    url = f"/arbetsgivare/{employer.public_id}/avregistrera/"
    body = client.get(url).content.decode()
    assert "kräver svenskt personnummer" in body
    assert "Skriv under begäran med BankID" not in body
    refused = client.post(url)
    assert refused.status_code == 400
    assert "kräver svenskt personnummer" in refused.content.decode()
    assert not EidTransaction.objects.exists()


def test_the_overview_of_a_foreign_person_works() -> None:
    response = _client(_hans()).get("/arbetsgivare/")
    assert response.status_code == 200
