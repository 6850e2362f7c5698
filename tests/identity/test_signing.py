"""Signing with BankID (/sign): the signature and OCSP response are kept with what was signed."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import httpx
import pytest
from cryptography.x509 import ocsp
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse

from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.identity import services
from portal.identity.models import EidTransaction, Signature
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

TEXT = "Jag godkänner villkoren för e-tjänster för arbetsgivare, version 2027-01."


@pytest.fixture(autouse=True)
def _poll_without_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "POLL_INTERVAL", timedelta(0))


def request_as(rf: Any, person: Any) -> HttpRequest:
    request: HttpRequest = rf.post("/", REMOTE_ADDR="192.0.2.7")
    SessionMiddleware(lambda _request: HttpResponse()).process_request(request)
    request.session.save()
    request.user = person
    return request


def sign(rf: Any, bankid: Any, signer_number: str) -> tuple[EidTransaction, HttpRequest]:
    person = PersonFactory(personal_number="198001011231", given_name="Astrid", surname="Demosson")
    request = request_as(rf, person)
    order = services.eid_order_start(
        request=request,
        provider_code="bankid",
        purpose=EidTransaction.Purpose.SIGN,
        same_device=False,
        visible_text=TEXT,
        object_type="terms-acceptance",
        object_id="42",
    )
    response = httpx.post(
        f"{bankid.app_url}/control/orders/{order.transaction_id}/approve",
        json={"personalNumber": signer_number},
    )
    assert response.status_code == 200
    return services.eid_order_poll(request=request, order=order), request


def test_a_signature_is_stored_with_the_text_the_object_and_the_ocsp_proof(
    rf: Any, bankid: Any
) -> None:
    order, _request = sign(rf, bankid, "198001011231")
    assert order.status == EidTransaction.Status.COMPLETE
    stored = Signature.objects.get()
    assert (stored.object_type, stored.object_id, stored.visible_text) == (
        "terms-acceptance",
        "42",
        TEXT,
    )
    assert stored.person.personal_number == "198001011231"
    # As in BankID's signature XML, the text the person saw is inside, base64-encoded.
    assert base64.b64encode(TEXT.encode()).decode() in base64.b64decode(stored.signature).decode()
    proof = ocsp.load_der_ocsp_response(base64.b64decode(stored.ocsp_response))
    assert proof.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert proof.certificate_status == ocsp.OCSPCertStatus.GOOD
    kinds = [event.event_type for event in AuditEvent.objects.order_by("id")]
    assert kinds == [EventType.SIGNATURE_STARTED, EventType.SIGNATURE_COMPLETED]
    completed = AuditEvent.objects.get(event_type=EventType.SIGNATURE_COMPLETED)
    assert (completed.object_type, completed.object_id) == ("terms-acceptance", "42")


def test_someone_elses_bankid_cannot_sign_for_the_person(rf: Any, bankid: Any) -> None:
    order, _request = sign(rf, bankid, "191212121212")
    assert order.status == EidTransaction.Status.REFUSED
    assert not Signature.objects.exists()
    failed = AuditEvent.objects.get(event_type=EventType.SIGNATURE_FAILED)
    assert failed.data["reason"] == "signer-is-not-the-person"


def test_signing_sends_the_visible_text_to_bankid(rf: Any, bankid: Any) -> None:
    person = PersonFactory()
    order = services.eid_order_start(
        request=request_as(rf, person),
        provider_code="bankid",
        purpose=EidTransaction.Purpose.SIGN,
        same_device=False,
        visible_text=TEXT,
    )
    listed = httpx.get(f"{bankid.app_url}/control/orders").json()
    mine = next(entry for entry in listed if entry["orderRef"] == order.transaction_id)
    assert mine["type"] == "sign"
