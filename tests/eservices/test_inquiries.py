"""Svara på förfrågningar: the agency asks (a case worker, or a case system through the intake
API), the employer's users see their inbox by due date, answer once with structured fields, may
correct the answer, and are reminded before and after the due date."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.access.models import Level, Membership, Role
from portal.audit.constants import ActorKind, EventType
from portal.audit.models import AuditEvent
from portal.eservices import framework, registry
from portal.eservices.inquiries.models import Inquiry
from portal.eservices.inquiries.services import (
    InquiryRefused,
    inquiry_create,
    inquiry_reminders,
)
from portal.eservices.intake import intake_client_create
from portal.eservices.models import Draft, IntakeMessage, Submission
from portal.messaging.models import OutboxMessage
from tests.access.world import World, build_world, grant, logged_in

EMPLOYEE = "198503152343"
CODE = "inquiries"


@pytest.fixture
def world(db: Any) -> World:
    world = build_world()
    # user_submit may answer inquiries, user_view may only see them; user_none has no grant.
    for who, level in (("user_submit", Level.SUBMIT), ("user_view", Level.VIEW)):
        member = Membership.objects.get(
            employer=world.employer, person=world.people[who], role=Role.USER
        )
        grant(member, eservice=CODE, level=level)
    return world


def _today() -> date:
    return timezone.localdate()


def _ask(world: World, kind: str = "income", due_in: int = 10, **fields: Any) -> Inquiry:
    if kind == "absence":
        fields.setdefault("period_from", _today() - timedelta(days=40))
        fields.setdefault("period_to", _today() - timedelta(days=10))
    inquiry, created = inquiry_create(
        employer=world.employer,
        kind=kind,
        employee_personal_number=fields.pop("employee_personal_number", "19850315-2343"),
        due_date=_today() + timedelta(days=due_in),
        staff=world.people["staff:case_worker"],
        **fields,
    )
    assert created
    return inquiry


def _client(world: World, who: str = "user_submit") -> Client:
    return logged_in(world.people[who])


def _url(world: World, name: str, **kwargs: Any) -> str:
    return reverse(
        f"eservices:{name}", kwargs={"public_id": world.employer.public_id, "code": CODE, **kwargs}
    )


def _page(world: World, inquiry: Inquiry) -> str:
    return _url(world, "inquiry", reference=inquiry.reference)


def _income(**overrides: str) -> dict[str, str]:
    return {
        "monthly_salary": "32 500",
        "employment_extent": "80",
        "employment_start_date": "2019-03-01",
        "comment": "",
        **overrides,
    }


def _check(world: World, inquiry: Inquiry) -> str:
    return _url(world, "inquiry-check", reference=inquiry.reference)


def _answer(client: Client, world: World, inquiry: Inquiry, form: dict[str, str]) -> Any:
    """Answer as a person does: the form (saved as a draft), check your answers, send. The
    form's answer when it is refused there, else the send's, and the one-time token."""
    filled = client.post(_page(world, inquiry), form)
    if filled.status_code != 302:
        return filled, ""
    assert filled["Location"] == _check(world, inquiry)
    check = client.get(filled["Location"])
    assert check.status_code == 200, check.content.decode()[:3000]
    token = check.context["token"]
    return client.post(_check(world, inquiry), {"token": token}), token


# --- asking -----------------------------------------------------------------------------------


def test_a_case_worker_asks_and_the_users_with_the_grant_are_told(world: World) -> None:
    staff = _client(world, "staff:case_worker")
    url = reverse("backoffice:inquiry-new", kwargs={"public_id": world.employer.public_id})
    assert staff.get(url).status_code == 200
    response = staff.post(
        url,
        {
            "kind": "absence",
            "employee_personal_number": "19850315-2343",
            "period_from": (_today() - timedelta(days=30)).isoformat(),
            "period_to": (_today() - timedelta(days=1)).isoformat(),
            "due_date": (_today() + timedelta(days=14)).isoformat(),
            "question": "Gäller perioden före sjukskrivningen.",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    inquiry = Inquiry.objects.get()
    assert inquiry.reference.startswith("FRG-")
    assert inquiry.employee_personal_number == EMPLOYEE
    assert inquiry.created_by_staff == world.people["staff:case_worker"]
    event = AuditEvent.objects.get(event_type=EventType.INQUIRY_CREATED)
    assert event.actor_kind == ActorKind.STAFF
    assert event.employer_ref == str(world.employer.public_id)
    assert EMPLOYEE not in json.dumps(event.data)
    assert event.data["employee"] == "19850315-****"
    # The users with a grant for the e-service (view or submit) get an e-mail, nobody else;
    # the e-mail names no employee.
    mails = OutboxMessage.objects.filter(template="inquiry_received")
    assert {m.recipient_person for m in mails} == {
        world.people["user_submit"],
        world.people["user_view"],
    }
    body = mails[0].body_text
    assert inquiry.reference in body
    assert "19850315" not in body
    assert f"/forfragningar/{inquiry.reference}/" in body
    # The employer's page in the back-office lists it and links to a new one.
    page = staff.get(
        reverse("backoffice:employer", kwargs={"public_id": world.employer.public_id}),
        {"skal": "Ärende 1"},
    )
    assert inquiry.reference in page.content.decode()
    assert url in page.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"employee_personal_number": "19850315-2344"}, "employee_personal_number", "inte giltigt"),
        ({"due_date": "2020-01-01"}, "due_date", "efter i dag"),
        ({"kind": "absence", "period_from": ""}, "period_from", "första dag"),
        (
            {"kind": "absence", "period_from": "2026-02-10", "period_to": "2026-02-01"},
            "period_to",
            "före den första",
        ),
        ({"period_from": "2025-01-01"}, "period_from", "ingen period"),
        ({"kind": "salary"}, "kind", "giltigt alternativ"),
    ],
)
def test_a_bad_inquiry_is_explained_and_nothing_is_stored(
    world: World, overrides: dict[str, str], field: str, message: str
) -> None:
    form = {
        "kind": "income",
        "employee_personal_number": "19850315-2343",
        "period_from": "",
        "period_to": "",
        "due_date": (_today() + timedelta(days=14)).isoformat(),
        **overrides,
    }
    if form["kind"] == "absence" and "period_to" not in overrides:
        form["period_to"] = (_today() - timedelta(days=1)).isoformat()
    response = _client(world, "staff:case_worker").post(
        reverse("backoffice:inquiry-new", kwargs={"public_id": world.employer.public_id}), form
    )
    assert response.status_code == 400
    assert message in " ".join(map(str, response.context["form"].errors[field]))
    assert 'class="error-list portal-error-summary"' in response.content.decode()
    assert not Inquiry.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_only_case_workers_ask(world: World) -> None:
    url = reverse("backoffice:inquiry-new", kwargs={"public_id": world.employer.public_id})
    for who in ("staff:partner_support", "staff:auditor", "admin", "user_submit"):
        assert _client(world, who).get(url).status_code == 403, who
    with pytest.raises(InquiryRefused) as refused:
        inquiry_create(
            employer=world.employer,
            kind="income",
            employee_personal_number="19850315-2343",
            due_date=_today(),
            staff=world.people["staff:case_worker"],
        )
    assert set(refused.value.errors) == {"due_date"}


def test_a_case_system_asks_through_the_api_once_per_key(world: World) -> None:
    _system, secret = intake_client_create(name="Handläggningssystemet")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    body = {
        "organisation_number": world.employer.formatted_number,
        "kind": "absence",
        "employee_personal_number": "198503152343",
        "period_from": (_today() - timedelta(days=20)).isoformat(),
        "period_to": (_today() - timedelta(days=5)).isoformat(),
        "due_date": (_today() + timedelta(days=10)).isoformat(),
    }

    def post(data: Any, key: str = "frg-nyckel-0001") -> Any:
        return api.post(
            "/api/v1/intake/inquiries",
            data=json.dumps(data),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=key,
        )

    first = post(body)
    assert first.status_code == 201, first.content
    reference = first.json()["reference"]
    assert first.json()["status"] == "open"
    again = post(body)
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["reference"] == reference
    inquiry = Inquiry.objects.get()
    assert inquiry.created_by_client is not None
    assert inquiry.created_by_staff is None
    assert AuditEvent.objects.get(event_type=EventType.INQUIRY_CREATED).actor_kind == "system"
    # Bad input: a problem per field, nothing stored.
    for bad, field in (
        ({**body, "employee_personal_number": "198503152344"}, "employee_personal_number"),
        ({**body, "due_date": _today().isoformat()}, "due_date"),
        ({**body, "period_to": (_today() - timedelta(days=30)).isoformat()}, "period_to"),
        ({**body, "organisation_number": "5560360793"}, "organisation_number"),
        ({**body, "kind": "lön"}, "kind"),
    ):
        refused = post(bad, key="frg-nyckel-0002")
        assert refused.status_code == 422, (field, refused.content)
        assert refused["Content-Type"] == "application/problem+json"
        assert field in refused.json()["errors"], refused.json()
    unknown = post({**body, "salary": 1}, key="frg-nyckel-0003")
    assert unknown.status_code == 422
    assert unknown["Content-Type"] == "application/problem+json"
    assert Inquiry.objects.count() == 1
    # Its status, before and after the answer; a person's session does not open it.
    status = api.get(f"/api/v1/intake/inquiries/{reference}").json()
    assert (status["status"], status["answer_reference"]) == ("open", None)
    assert AuditEvent.objects.filter(event_type=EventType.INQUIRY_VIEWED).exists()
    assert _client(world).get(f"/api/v1/intake/inquiries/{reference}").status_code == 401
    assert api.get("/api/v1/intake/inquiries/FRG-XXXX-XXXX").status_code == 404
    _answer(_client(world), world, inquiry, {"absent": "no"})
    status = api.get(f"/api/v1/intake/inquiries/{reference}").json()
    assert status["status"] == "answered"
    assert status["answer_reference"] == Submission.objects.get().reference


# --- the inbox --------------------------------------------------------------------------------


def test_the_inbox_lists_open_inquiries_by_due_date_and_the_answered_ones(world: World) -> None:
    later = _ask(world, due_in=20)
    sooner = _ask(world, kind="absence", due_in=2)
    overdue = _ask(world, due_in=5)
    Inquiry.objects.filter(pk=overdue.pk).update(due_date=_today() - timedelta(days=1))
    page = _client(world).get(_url(world, "eservice"))
    assert page.status_code == 200
    listed = [inquiry.reference for inquiry in page.context["open_inquiries"]]
    assert listed == [overdue.reference, sooner.reference, later.reference]
    html = page.content.decode()
    assert "försenad" in html
    assert "19850315-****" in html
    assert EMPLOYEE not in html
    assert AuditEvent.objects.filter(event_type=EventType.INQUIRIES_LISTED).exists()
    # Answered ones move to their own list, with the answer's receipt.
    _answer(_client(world), world, later, _income())
    page = _client(world).get(_url(world, "eservice"))
    assert [i.reference for i in page.context["open_inquiries"]] == [
        overdue.reference,
        sooner.reference,
    ]
    assert [i.reference for i in page.context["answered_inquiries"]] == [later.reference]
    assert Submission.objects.get().reference in page.content.decode()


def test_who_sees_the_inbox_and_who_answers(world: World) -> None:
    inquiry = _ask(world)
    # A view grant sees the inbox but cannot open the answer form.
    viewer = _client(world, "user_view")
    assert viewer.get(_url(world, "eservice")).status_code == 200
    assert viewer.get(_page(world, inquiry)).status_code == 403
    # No grant for inquiries (a grant for another e-service is not enough): refused, audited.
    for who in ("user_none", "admin", "other_admin"):
        client = _client(world, who)
        before = AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).count()
        assert client.get(_url(world, "eservice")).status_code == 403, who
        assert client.get(_page(world, inquiry)).status_code == 403, who
        assert AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).count() == before + 2
    member = Membership.objects.get(person=world.people["user_submit"], role=Role.USER)
    member.grants.filter(eservice=CODE).update(ended_at=timezone.now())
    assert _client(world).get(_url(world, "eservice")).status_code == 403
    # An inquiry of another employer is not found under this employer's address.
    elsewhere, _created = inquiry_create(
        employer=world.other,
        kind="income",
        employee_personal_number="19850315-2343",
        due_date=_today() + timedelta(days=5),
        staff=world.people["staff:case_worker"],
    )
    member.grants.filter(eservice=CODE).update(ended_at=None)
    client = _client(world)
    assert client.get(_page(world, inquiry)).status_code == 200
    assert client.get(_url(world, "inquiry", reference=elsewhere.reference)).status_code == 404
    assert elsewhere.reference not in client.get(_url(world, "eservice")).content.decode()


# --- answering --------------------------------------------------------------------------------


def test_an_income_answer_once_however_often_it_is_sent(world: World) -> None:
    inquiry = _ask(world, question="Vilken lön gällde i mars?")
    client = _client(world)
    page = client.get(_page(world, inquiry))
    assert page.status_code == 200
    html = page.content.decode()
    assert "19850315-2343" in html  # the user must know whom it is about
    assert "Vilken lön gällde i mars?" in html
    assert "absence_1_from" not in html  # only the fields of its kind
    read = AuditEvent.objects.get(event_type=EventType.INQUIRY_VIEWED)
    assert read.object_id == str(inquiry.public_id)
    assert EMPLOYEE not in json.dumps(read.data)
    response, token = _answer(client, world, inquiry, _income())
    submission = Submission.objects.get()
    assert response["Location"] == _url(world, "submission", reference=submission.reference)
    assert submission.eservice == CODE
    assert submission.subject == EMPLOYEE
    assert submission.content == {
        "inquiry": inquiry.reference,
        "kind": "income",
        "employee_personal_number": EMPLOYEE,
        "monthly_salary": 32500,
        "employment_extent": 80,
        "employment_start_date": "2019-03-01",
        "comment": "",
    }
    inquiry.refresh_from_db()
    assert inquiry.answer == submission
    assert IntakeMessage.objects.filter(submission=submission).exists()
    answered = AuditEvent.objects.get(event_type=EventType.INQUIRY_ANSWERED)
    assert answered.data["answer"] == submission.reference
    assert AuditEvent.objects.filter(event_type=EventType.SUBMISSION_RECEIVED).count() == 1
    # Sending again with the same token (a double click, a retry) leads to the same answer.
    again = client.post(_check(world, inquiry), {"token": token})
    assert again["Location"] == response["Location"]
    # Another answer is refused: the inquiry is answered (and its draft is gone).
    other = client.post(_page(world, inquiry), _income())
    assert other["Location"] == _page(world, inquiry)
    assert not Draft.objects.exists()
    other = client.post(_check(world, inquiry), {"token": "ett-annat-token-123"})
    assert other["Location"] == _page(world, inquiry)
    assert Submission.objects.count() == 1
    # The receipt summarises the answer.
    receipt = client.get(response["Location"]).content.decode()
    assert "32 500 kr" in receipt
    assert "80 %" in receipt
    assert inquiry.reference in receipt
    assert EMPLOYEE not in receipt
    assert "Återkalla" not in receipt


def test_an_absence_answer_with_days_within_the_period(world: World) -> None:
    inquiry = _ask(world, kind="absence")
    start = inquiry.period_from
    assert start is not None
    response, _token = _answer(
        _client(world),
        world,
        inquiry,
        {
            "absent": "yes",
            "absence_1_from": (start + timedelta(days=10)).isoformat(),
            "absence_1_to": (start + timedelta(days=12)).isoformat(),
            "absence_2_from": start.isoformat(),
            "absence_2_to": (start + timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    content = Submission.objects.get().content
    assert content["absent"] is True
    assert content["absences"] == [
        {"from": start.isoformat(), "to": (start + timedelta(days=1)).isoformat()},
        {
            "from": (start + timedelta(days=10)).isoformat(),
            "to": (start + timedelta(days=12)).isoformat(),
        },
    ]
    assert content["period"]["from"] == start.isoformat()


def test_no_absence_is_an_answer_too(world: World) -> None:
    inquiry = _ask(world, kind="absence")
    response, _token = _answer(_client(world), world, inquiry, {"absent": "no"})
    assert response.status_code == 302
    content = Submission.objects.get().content
    assert (content["absent"], content["absences"]) == (False, [])
    receipt = _client(world).get(response["Location"]).content.decode()
    assert "Ingen frånvaro under perioden" in receipt


@pytest.mark.parametrize(
    ("kind", "form", "field", "message"),
    [
        ("income", _income(monthly_salary="-100"), "monthly_salary", "siffror"),
        ("income", _income(monthly_salary="0"), "monthly_salary", "större än noll"),
        ("income", _income(monthly_salary="5000000"), "monthly_salary", "Kontrollera"),
        ("income", _income(employment_extent="120"), "employment_extent", "mellan 1 och 100"),
        ("income", _income(employment_extent=""), "employment_extent", "Skriv"),
        (
            "income",
            _income(employment_start_date=(date.today() + timedelta(days=3)).isoformat()),  # noqa: DTZ011
            "employment_start_date",
            "framtiden",
        ),
        ("absence", {}, "absent", "Svara om"),
        ("absence", {"absent": "yes"}, "absence_1_from", "vilka dagar"),
        (
            "absence",
            {"absent": "yes", "absence_1_from": "2020-01-01", "absence_1_to": "2020-01-02"},
            "absence_1_from",
            "inom perioden",
        ),
        (
            "absence",
            {"absent": "yes", "absence_1_from": "2020-01-01"},
            "absence_1_to",
            "både första och sista",
        ),
    ],
)
def test_a_bad_answer_is_explained_and_nothing_is_stored(
    world: World, kind: str, form: dict[str, str], field: str, message: str
) -> None:
    inquiry = _ask(world, kind=kind)
    response, _token = _answer(_client(world), world, inquiry, form)
    assert response.status_code == 400
    assert message in " ".join(map(str, response.context["form"].errors[field]))
    assert 'class="error-list portal-error-summary"' in response.content.decode()
    assert not Submission.objects.exists()
    inquiry.refresh_from_db()
    assert inquiry.answer is None


def test_overlapping_absences_are_refused(world: World) -> None:
    inquiry = _ask(world, kind="absence")
    start = inquiry.period_from
    assert start is not None
    response, _token = _answer(
        _client(world),
        world,
        inquiry,
        {
            "absent": "yes",
            "absence_1_from": start.isoformat(),
            "absence_1_to": (start + timedelta(days=5)).isoformat(),
            "absence_2_from": (start + timedelta(days=3)).isoformat(),
            "absence_2_to": (start + timedelta(days=8)).isoformat(),
        },
    )
    assert response.status_code == 400
    assert "överlappar" in response.content.decode()


def test_the_framework_form_does_not_answer_without_an_inquiry(world: World) -> None:
    client = _client(world)
    assert client.get(_url(world, "new"))["Location"] == _url(world, "eservice")
    assert client.post(_url(world, "new"), _income())["Location"] == _url(world, "eservice")
    assert client.get(_url(world, "check"))["Location"] == _url(world, "new")
    assert not Draft.objects.exists()
    assert not Submission.objects.exists()


def test_the_api_answers_an_inquiry_of_the_employer_only(world: World) -> None:
    inquiry = _ask(world)
    client = _client(world)
    base = f"/api/v1/employers/{world.employer.public_id}/eservices/{CODE}/submissions"

    def post(body: dict[str, Any], key: str) -> Any:
        return client.post(
            base, data=json.dumps(body), content_type="application/json", HTTP_IDEMPOTENCY_KEY=key
        )

    unknown = post({"inquiry": "FRG-XXXX-XXXX", **_income()}, "svar-nyckel-0000")
    assert unknown.status_code == 422
    assert "inquiry" in unknown.json()["errors"]
    sent = post({"inquiry": inquiry.reference, **_income()}, "svar-nyckel-0001")
    assert sent.status_code == 201, sent.content
    inquiry.refresh_from_db()
    assert inquiry.answer is not None
    assert inquiry.answer.reference == sent.json()["reference"]
    second = post({"inquiry": inquiry.reference, **_income()}, "svar-nyckel-0002")
    assert second.status_code == 422
    assert "redan besvarad" in second.json()["errors"]["inquiry"]
    assert Submission.objects.count() == 1


def test_an_answer_is_corrected_never_withdrawn(world: World) -> None:
    inquiry = _ask(world)
    client = _client(world)
    _answer(client, world, inquiry, _income())
    first = Submission.objects.get()
    # The receipt's "Rätta" starts a correction, which continues on the inquiry's page.
    started = client.post(_url(world, "correct", reference=first.reference))
    assert started["Location"] == _url(world, "new")
    assert client.get(_url(world, "new"))["Location"] == _page(world, inquiry)
    page = client.get(_page(world, inquiry))
    assert page.context["corrects"] == first
    assert 'value="32500"' in page.content.decode()
    corrected, _token = _answer(client, world, inquiry, _income(monthly_salary="33000"))
    assert corrected.status_code == 302, corrected.content.decode()[:3000]
    second = Submission.objects.get(version=2)
    assert corrected["Location"] == _url(world, "submission", reference=second.reference)
    assert not Draft.objects.exists()  # the correction's drafts are gone once it is sent
    assert second.case_id == first.case_id
    assert second.kind == Submission.Kind.CORRECTION
    assert second.content["monthly_salary"] == 33000
    inquiry.refresh_from_db()
    assert inquiry.answer == first  # the case's first version; the newest is the correction
    # Withdrawing is refused, and nothing changes.
    withdrawn = client.post(
        _url(world, "withdraw", reference=second.reference), {"token": "aterkalla-token-1"}
    )
    assert withdrawn.status_code == 400
    assert Submission.objects.count() == 2


# --- drafts and check your answers ------------------------------------------------------------


def _draft(world: World, inquiry: Inquiry, who: str = "user_submit") -> Draft:
    return Draft.objects.get(
        person=world.people[who], employer=world.employer, eservice=CODE, key=inquiry.reference
    )


def test_what_is_typed_is_kept_as_a_draft_valid_or_not(world: World) -> None:
    inquiry = _ask(world)
    client = _client(world)
    # Invalid: the error summary, and what was typed is saved all the same.
    refused = client.post(_page(world, inquiry), _income(employment_extent="120"))
    assert refused.status_code == 400
    assert 'class="error-list portal-error-summary"' in refused.content.decode()
    draft = _draft(world, inquiry)
    assert draft.data["valid"] is False
    assert draft.data["raw"]["monthly_salary"] == "32 500"
    assert draft.data["raw"]["employment_extent"] == "120"
    assert draft.corrects is None
    # Nothing to check yet: the check page sends the person back to the form.
    assert client.get(_check(world, inquiry))["Location"] == _page(world, inquiry)
    # Coming back, the form is filled in from the draft, and says so.
    page = client.get(_page(world, inquiry))
    html = page.content.decode()
    assert 'value="32 500"' in html
    assert 'value="120"' in html
    assert "Du har ett utkast som sparades" in html
    # Valid: saved with its content, then check your answers.
    filled = client.post(_page(world, inquiry), _income(comment="Lön enligt avtal."))
    assert filled["Location"] == _check(world, inquiry)
    draft = _draft(world, inquiry)
    assert draft.data["valid"] is True
    assert draft.data["content"]["monthly_salary"] == 32500
    assert draft.data["content"]["comment"] == "Lön enligt avtal."
    assert Draft.objects.count() == 1
    assert not Submission.objects.exists()  # nothing is sent before the check page
    before = AuditEvent.objects.filter(event_type=EventType.INQUIRY_VIEWED).count()
    check = client.get(_check(world, inquiry))
    assert check.status_code == 200
    assert check.context["token"] == draft.token
    rows = {str(label): value for label, value in check.context["summary"]}
    assert rows["Förfrågan"] == inquiry.reference
    assert rows["Den anställda"] == "19850315-2343"
    assert rows["Månadslön"] == "32 500 kr"
    assert rows["Övrigt"] == "Lön enligt avtal."
    html = check.content.decode()
    assert f'href="{_page(world, inquiry)}"' in html  # back and change lead to the inquiry
    assert _url(world, "new") not in html
    assert AuditEvent.objects.filter(event_type=EventType.INQUIRY_VIEWED).count() == before + 1
    # Back to change it: the form has the draft's values.
    assert "Lön enligt avtal." in client.get(_page(world, inquiry)).content.decode()


def test_drafts_of_two_inquiries_are_kept_side_by_side(world: World) -> None:
    income = _ask(world)
    absence = _ask(world, kind="absence")
    start = absence.period_from
    assert start is not None
    client = _client(world)
    client.post(_page(world, income), _income(monthly_salary="41 000"))
    client.post(
        _page(world, absence),
        {"absent": "yes", "absence_1_from": start.isoformat(), "absence_1_to": ""},
    )
    assert _draft(world, income).data["content"]["monthly_salary"] == 41000
    assert _draft(world, absence).data["raw"]["absence_1_from"] == start.isoformat()
    # Each inquiry's page resumes its own draft; the inbox marks both.
    assert 'value="41 000"' in client.get(_page(world, income)).content.decode()
    page = client.get(_page(world, absence)).content.decode()
    assert f'value="{start.isoformat()}"' in page
    assert "41 000" not in page
    inbox = client.get(_url(world, "eservice"))
    assert {i.reference: i.has_draft for i in inbox.context["open_inquiries"]} == {
        income.reference: True,
        absence.reference: True,
    }
    assert "utkast" in inbox.content.decode()
    # Another person's drafts are theirs: the inbox marks none for them.
    viewer_inbox = _client(world, "user_view").get(_url(world, "eservice"))
    assert not any(i.has_draft for i in viewer_inbox.context["open_inquiries"])
    # Untouched for PORTAL_DRAFT_DAYS, both are purged.
    assert framework.drafts_purge(now=timezone.now() + timedelta(days=29)) == 0
    assert framework.drafts_purge(now=timezone.now() + timedelta(days=31)) == 2
    assert not Draft.objects.exists()


def test_sending_removes_only_that_inquirys_draft(world: World) -> None:
    first = _ask(world)
    second = _ask(world)
    client = _client(world)
    client.post(_page(world, second), _income(monthly_salary="29 000"))
    client.post(_page(world, first), _income())
    # A draft of the framework's form (as a correction started from a receipt makes) and one of
    # another e-service are there too.
    framework.draft_save(
        person=world.people["user_submit"],
        employer=world.employer,
        eservice=CODE,
        data={"raw": {}, "content": {}, "valid": False},
    )
    framework.draft_save(
        person=world.people["user_submit"],
        employer=world.employer,
        eservice="sick_report",
        data={"raw": {"employee_name": "Alva"}, "content": {}, "valid": False},
    )
    token = client.get(_check(world, first)).context["token"]
    sent = client.post(_check(world, first), {"token": token})
    assert sent.status_code == 302
    assert set(Draft.objects.values_list("eservice", "key")) == {
        (CODE, second.reference),
        ("sick_report", ""),
    }
    # The other inquiry's answer is still there to finish, and is sent on its own.
    assert 'value="29 000"' in client.get(_page(world, second)).content.decode()
    response, _token = _answer(client, world, second, _income(monthly_salary="29 000"))
    assert response.status_code == 302
    assert Submission.objects.count() == 2
    assert set(Draft.objects.values_list("eservice", "key")) == {("sick_report", "")}


def test_sending_twice_with_the_same_token_makes_one_answer(world: World) -> None:
    inquiry = _ask(world)
    client = _client(world)
    client.post(_page(world, inquiry), _income())
    token = client.get(_check(world, inquiry)).context["token"]
    first = client.post(_check(world, inquiry), {"token": token})
    second = client.post(_check(world, inquiry), {"token": token})
    submission = Submission.objects.get()
    assert first["Location"] == second["Location"]
    assert first["Location"] == _url(world, "submission", reference=submission.reference)
    assert submission.idempotency_key == token
    assert AuditEvent.objects.filter(event_type=EventType.SUBMISSION_RECEIVED).count() == 1
    assert AuditEvent.objects.filter(event_type=EventType.INQUIRY_ANSWERED).count() == 1


def test_a_refusal_is_shown_on_the_check_page(world: World) -> None:
    inquiry = _ask(world)
    client = _client(world)
    client.post(_page(world, inquiry), _income())
    token = client.get(_check(world, inquiry)).context["token"]
    # Meanwhile the inquiry is answered another way (here through the API).
    answered = client.post(
        f"/api/v1/employers/{world.employer.public_id}/eservices/{CODE}/submissions",
        data=json.dumps({"inquiry": inquiry.reference, **_income()}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="svar-via-api-0001",
    )
    assert answered.status_code == 201, answered.content
    refused = client.post(_check(world, inquiry), {"token": token})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert 'class="error-list portal-error-summary"' in html
    assert "redan besvarad" in html
    assert [message for _label, message in refused.context["errors"]] == [
        "Förfrågan är redan besvarad. Rätta svaret i stället om något blev fel."
    ]
    assert Submission.objects.count() == 1
    assert _draft(world, inquiry).data["valid"] is True  # nothing typed is lost


def test_a_correction_overtaken_meanwhile_is_refused_on_the_check_page(world: World) -> None:
    inquiry = _ask(world)
    client = _client(world)
    _answer(client, world, inquiry, _income())
    first = Submission.objects.get()
    client.post(_url(world, "correct", reference=first.reference))
    client.post(_page(world, inquiry), _income(monthly_salary="33 000"))
    assert _draft(world, inquiry).corrects == first
    check = client.get(_check(world, inquiry))
    rows = {str(label): value for label, value in check.context["summary"]}
    assert rows["Svaret som rättas"] == first.reference
    assert "Skicka rättelsen" in check.content.decode()
    # Another correction is received first (here made directly, as from another window).
    eservice = registry.get(CODE)
    assert eservice is not None
    framework.submission_create(
        eservice=CODE,
        handler=eservice.handler,
        employer=world.employer,
        actor=world.people["user_submit"],
        content={**first.content, "monthly_salary": 34000},
        idempotency_key="en-annan-rattelse",
        corrects=first,
        kind=Submission.Kind.CORRECTION,
        draft_key="ett-annat-utkast",
    )
    refused = client.post(_check(world, inquiry), {"token": check.context["token"]})
    assert refused.status_code == 400
    assert "Ärendet har ändrats sedan du började" in refused.content.decode()
    assert Submission.objects.count() == 2
    assert _draft(world, inquiry).data["content"]["monthly_salary"] == 33000


def test_a_correction_past_its_days_goes_back_to_the_inquiry(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    inquiry = _ask(world)
    client = _client(world)
    _answer(client, world, inquiry, _income())
    first = Submission.objects.get()
    client.post(_url(world, "correct", reference=first.reference))
    client.post(_page(world, inquiry), _income(monthly_salary="33 000"))
    token = client.get(_check(world, inquiry)).context["token"]
    from portal.eservices.inquiries.handler import InquiryAnswer  # noqa: PLC0415

    monkeypatch.setattr(InquiryAnswer, "correction_days", 0)
    back = client.post(_check(world, inquiry), {"token": token})
    assert back["Location"] == _page(world, inquiry)
    assert Submission.objects.count() == 1
    page = client.get(_page(world, inquiry))
    assert page.context["form"] is None  # the answer, no longer a form to correct it
    assert "kan inte längre rättas" in page.content.decode()


# --- reminders --------------------------------------------------------------------------------


def test_reminders_before_and_after_the_due_date_go_once_each(world: World, settings: Any) -> None:
    settings.INQUIRY_REMIND_DAYS_BEFORE = 3
    inquiry = _ask(world, due_in=10)
    answered = _ask(world, due_in=10)
    _answer(_client(world), world, answered, _income())
    today = inquiry.due_date - timedelta(days=4)
    assert inquiry_reminders(today) == (0, 0)  # not yet
    today = inquiry.due_date - timedelta(days=3)
    assert inquiry_reminders(today) == (1, 0)
    assert inquiry_reminders(today) == (0, 0)  # run again: nothing twice
    assert inquiry_reminders(inquiry.due_date) == (0, 0)
    reminders = OutboxMessage.objects.filter(template="inquiry_reminder")
    assert {m.recipient_person for m in reminders} == {
        world.people["user_submit"],
        world.people["user_view"],
    }
    assert inquiry.reference in reminders[0].subject
    # The day after the due date, still unanswered: one more, once.
    assert inquiry_reminders(inquiry.due_date + timedelta(days=1)) == (0, 1)
    assert inquiry_reminders(inquiry.due_date + timedelta(days=2)) == (0, 0)
    assert OutboxMessage.objects.filter(template="inquiry_reminder").count() == 4
    assert "skulle ha besvarats" in OutboxMessage.objects.latest("id").body_text
    inquiry.refresh_from_db()
    assert inquiry.reminder_before_sent_at is not None
    assert inquiry.reminder_after_sent_at is not None
    events = AuditEvent.objects.filter(event_type=EventType.INQUIRY_REMINDED)
    assert sorted(event.data["occasion"] for event in events) == ["after", "before"]
    assert all(event.actor_kind == ActorKind.SYSTEM for event in events)


def test_an_inquiry_asked_late_gets_no_early_reminder_and_the_daily_task_runs(
    world: World, settings: Any
) -> None:
    settings.INQUIRY_REMIND_DAYS_BEFORE = 3
    inquiry = _ask(world, due_in=2)  # its notice has just gone
    assert inquiry_reminders(_today()) == (0, 0)
    Inquiry.objects.filter(pk=inquiry.pk).update(due_date=_today() - timedelta(days=1))
    out = io.StringIO()
    call_command("eservices_daily", stdout=out)
    assert "Inquiries: 0 reminded before the due date, 1 after it." in out.getvalue()
    inquiry.refresh_from_db()
    assert inquiry.reminder_after_sent_at is not None
    assert inquiry.reminder_before_sent_at is None
