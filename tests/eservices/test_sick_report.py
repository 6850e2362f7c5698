"""The sick-leave report after day 14, through the pages: form, draft, check your answers, one
submission however often it is sent, the receipt, the rules, corrections and withdrawals."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.eservices.models import Draft, Submission, SubmissionIsImmutable
from tests.access.world import World

EMPLOYEE = "198503152343"


def _client(world: World, who: str = "user_submit") -> Client:
    client = Client()
    client.force_login(world.people[who])
    return client


def _url(world: World, name: str, **kwargs: Any) -> str:
    return reverse(
        f"eservices:{name}",
        kwargs={"public_id": world.employer.public_id, "code": "sick_report", **kwargs},
    )


def _form(first_day: date | str | None = None, **overrides: str) -> dict[str, str]:
    first = first_day or timezone.localdate() - timedelta(days=16)
    return {
        "employee_personal_number": "19850315-2343",
        "first_day": first if isinstance(first, str) else first.isoformat(),
        "last_day": "",
        "extent": "full",
        "contact_name": "Lisa Lön",
        "contact_phone": "060-12 34 56",
        "late_explanation": "",
        **overrides,
    }


def _submit(client: Client, world: World, **form: Any) -> Any:
    filled = client.post(_url(world, "new"), _form(**form))
    assert filled.status_code == 302, filled.content.decode()[:2000]
    check = client.get(_url(world, "check"))
    token = check.context["token"]
    return client.post(_url(world, "check"), {"token": token}), token


def test_a_report_goes_from_form_to_receipt_once(world: World) -> None:
    client = _client(world)
    response, token = _submit(client, world)
    submission = Submission.objects.get()
    assert response["Location"] == _url(world, "submission", reference=submission.reference)
    assert submission.reference.startswith("SJK-")
    assert submission.subject == EMPLOYEE
    assert submission.content["extent"] == "full"
    assert not Draft.objects.exists()  # the draft is gone once sent
    # Sending again (a double click, a retry, back and send) never makes a second one.
    again = client.post(_url(world, "check"), {"token": token})
    assert again["Location"] == response["Location"]
    assert Submission.objects.count() == 1
    receipt = client.get(response["Location"]).content.decode()
    assert submission.reference in receipt
    assert "19850315-****" in receipt
    assert EMPLOYEE not in receipt
    event = AuditEvent.objects.get(event_type=EventType.SUBMISSION_RECEIVED)
    assert event.employer_ref == str(world.employer.public_id)
    assert event.data["reference"] == submission.reference
    assert AuditEvent.objects.filter(event_type=EventType.SUBMISSION_VIEWED).exists()


def test_what_is_typed_is_kept_as_a_draft_even_when_it_is_wrong(world: World) -> None:
    client = _client(world)
    wrong = client.post(_url(world, "new"), _form(employee_personal_number="19850315-2344"))
    assert wrong.status_code == 400
    assert "Personnumret är inte giltigt." in wrong.content.decode()
    draft = Draft.objects.get()
    assert draft.data["raw"]["contact_name"] == "Lisa Lön"
    assert not Submission.objects.exists()
    # Coming back later, the form is filled in as it was left.
    again = client.get(_url(world, "new")).content.decode()
    assert 'value="Lisa Lön"' in again
    assert client.get(_url(world, "check"))["Location"] == _url(world, "new")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"employee_personal_number": "19850315-2344"}, "Personnumret är inte giltigt."),
        ({"first_day": "2026-13-01"}, "Ange datumet som ÅÅÅÅ-MM-DD"),
        (
            {"first_day": (date.today() + timedelta(days=2)).isoformat()},  # noqa: DTZ011
            "kan inte ligga i framtiden",
        ),
        ({"extent": "most"}, "Välj ett giltigt alternativ"),
        ({"contact_phone": "ring mig"}, "Skriv telefonnumret med siffror"),
        ({"relapse": "on"}, "Skriv den tidigare periodens första dag."),
        (
            {"relapse": "on", "earlier_first_day": "2020-01-01", "earlier_last_day": "2020-01-05"},
            "mer än fem dagar före",
        ),
    ],
)
def test_bad_input_is_explained_and_nothing_is_stored(
    world: World, overrides: dict[str, str], message: str
) -> None:
    response = _client(world).post(_url(world, "new"), _form(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Submission.objects.exists()


def test_not_before_day_15(world: World) -> None:
    client = _client(world)
    first = timezone.localdate() - timedelta(days=10)
    response, _token = _submit(client, world, first_day=first)
    assert response.status_code == 400
    day15 = (first + timedelta(days=14)).isoformat()
    assert f"tidigast dag 15 i sjukperioden, den {day15}" in response.content.decode()
    assert not Submission.objects.exists()


def test_after_day_21_it_is_accepted_as_late_with_an_explanation(world: World) -> None:
    client = _client(world)
    first = timezone.localdate() - timedelta(days=30)
    response, _token = _submit(client, world, first_day=first)
    assert response.status_code == 400
    assert "Förklara varför den kommer senare" in response.content.decode()
    response, _token = _submit(
        client, world, first_day=first, late_explanation="Den anställda sa inget förrän nu."
    )
    assert response.status_code == 302
    submission = Submission.objects.get()
    assert submission.flags == {"late": True}
    assert "markerad som sen" in client.get(response["Location"]).content.decode()


def test_an_overlapping_report_is_refused_with_a_link_to_the_earlier(world: World) -> None:
    client = _client(world)
    _submit(client, world)
    earlier = Submission.objects.get()
    response, _token = _submit(client, world, first_day=timezone.localdate() - timedelta(days=15))
    assert response.status_code == 400
    page = response.content.decode()
    assert earlier.reference in page
    assert _url(world, "submission", reference=earlier.reference) in page
    assert Submission.objects.count() == 1
    # Another employee is another matter.
    other, _token = _submit(client, world, employee_personal_number="19121212-1212")
    assert other.status_code == 302


def test_a_correction_and_a_withdrawal_are_new_versions(world: World) -> None:
    client = _client(world)
    _submit(client, world)
    original = Submission.objects.get()
    client.post(_url(world, "correct", reference=original.reference))
    corrected = client.post(_url(world, "new"), _form(extent="half"))
    assert corrected.status_code == 302
    check = client.get(_url(world, "check"))
    assert "Skicka rättelsen" in check.content.decode()
    sent = client.post(_url(world, "check"), {"token": check.context["token"]})
    correction = Submission.objects.get(version=2)
    assert correction.kind == Submission.Kind.CORRECTION
    assert correction.case_id == original.case_id
    assert correction.content["extent"] == "half"
    assert Submission.objects.get(pk=original.pk).content["extent"] == "full"  # untouched
    # The old version can no longer be corrected; the newest can be withdrawn.
    assert client.post(_url(world, "correct", reference=original.reference)).status_code == 400
    confirm = client.get(_url(world, "withdraw", reference=correction.reference))
    assert ">Återkalla</button>" in confirm.content.decode()
    withdrawn = client.post(
        _url(world, "withdraw", reference=correction.reference), {"token": confirm.context["token"]}
    )
    assert withdrawn.status_code == 302
    assert Submission.objects.get(version=3).kind == Submission.Kind.WITHDRAWAL
    assert sent.status_code == 302
    # A withdrawn report no longer blocks a new one for the same employee.
    again, _token = _submit(client, world)
    assert again.status_code == 302


def test_the_eservice_page_lists_each_case_once_newest_first_a_page_at_a_time(
    world: World,
) -> None:
    client = _client(world)
    _submit(client, world)
    original = Submission.objects.get()
    client.post(_url(world, "correct", reference=original.reference))
    client.post(_url(world, "new"), _form(extent="half"))
    check = client.get(_url(world, "check"))
    client.post(_url(world, "check"), {"token": check.context["token"]})
    correction = Submission.objects.get(version=2)
    page = client.get(_url(world, "eservice")).content.decode()
    # A corrected case is shown once, by its newest version.
    assert correction.reference in page
    assert original.reference not in page
    # Thirty more cases: the newest 25 cases on the first page, the rest on the second.
    later = timezone.now() + timedelta(minutes=1)
    for n in range(30):
        Submission.objects.create(
            reference=f"SJK-TEST-{n:04d}",
            eservice="sick_report",
            employer=world.employer,
            submitted_by=world.people["user_submit"],
            submitted_at=later + timedelta(seconds=n),
            subject=f"subject-{n}",
            content={"extent": "full"},
            idempotency_key=f"test-{n}",
        )
    first = client.get(_url(world, "eservice"))
    shown = first.context["submissions"]
    assert [s.reference for s in shown] == [f"SJK-TEST-{n:04d}" for n in range(29, 4, -1)]
    assert "Sida 1 av 2" in first.content.decode()
    second = client.get(_url(world, "eservice") + "?sida=2")
    rest = [s.reference for s in second.context["submissions"]]
    assert rest == [f"SJK-TEST-{n:04d}" for n in range(4, -1, -1)] + [correction.reference]
    # What each page showed is in the activity log; a page number that is no number is page 1.
    listed = AuditEvent.objects.filter(event_type=EventType.SUBMISSIONS_LISTED).order_by("id")
    assert listed.last().data["submissions"] == rest
    assert listed.last().data["page"] == 2
    assert client.get(_url(world, "eservice") + "?sida=x").status_code == 200


def test_submissions_are_immutable(world: World) -> None:
    _submit(_client(world), world)
    submission = Submission.objects.get()
    submission.content = {}
    with pytest.raises(SubmissionIsImmutable):
        submission.save()
    with pytest.raises(SubmissionIsImmutable):
        Submission.objects.all().delete()
    from django.db import DatabaseError, connection, transaction  # noqa: PLC0415

    with (
        pytest.raises(DatabaseError, match="immutable"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE eservices_submission SET subject = 'x'")


def test_who_sees_and_who_sends(world: World) -> None:
    _submit(_client(world), world)
    reference = Submission.objects.get().reference
    viewer = _client(world, "user_view")
    assert viewer.get(_url(world, "submission", reference=reference)).status_code == 200
    assert reference in viewer.get(_url(world, "eservice")).content.decode()
    assert viewer.get(_url(world, "new")).status_code == 403
    for outsider in ("user_none", "admin", "other_admin"):
        assert (
            _client(world, outsider).get(_url(world, "submission", reference=reference)).status_code
            == 403
        )


def test_a_new_eservice_needs_no_change_elsewhere(world: World) -> None:
    """An e-service registered by a test works through the same pages and rules."""
    from django import forms  # noqa: PLC0415

    from portal.access.models import Grant, Membership  # noqa: PLC0415
    from portal.eservices import registry  # noqa: PLC0415
    from portal.eservices.framework import Handler  # noqa: PLC0415

    class NoteForm(forms.Form):
        note = forms.CharField(label="Anteckning", max_length=50)

    class Note(Handler):
        form_class = NoteForm
        reference_prefix = "NOT"

    registry.register(
        registry.EService(code="note", name="Anteckning", description="Test", handler=Note())
    )
    try:
        member = Membership.objects.get(person=world.people["user_submit"], employer=world.employer)
        Grant.objects.create(membership=member, eservice="note", level="submit", reason="test")
        client = _client(world)
        base = {"public_id": world.employer.public_id, "code": "note"}
        assert (
            client.post(reverse("eservices:new", kwargs=base), {"note": "hej"}).status_code == 302
        )
        token = client.get(reverse("eservices:check", kwargs=base)).context["token"]
        sent = client.post(reverse("eservices:check", kwargs=base), {"token": token})
        assert sent.status_code == 302
        assert Submission.objects.get(eservice="note").reference.startswith("NOT-")
    finally:
        registry.unregister("note")


def test_drafts_untouched_for_30_days_are_purged(world: World) -> None:
    from django.core.management import call_command  # noqa: PLC0415

    from portal.eservices.framework import drafts_purge  # noqa: PLC0415

    _client(world).post(_url(world, "new"), _form())
    assert drafts_purge(now=timezone.now() + timedelta(days=29)) == 0
    assert drafts_purge(now=timezone.now() + timedelta(days=31)) == 1
    assert not Draft.objects.exists()
    assert AuditEvent.objects.get(event_type=EventType.DRAFTS_PURGED).data["drafts"] == 1
    call_command("eservices_daily")


def _pdf_text(data: bytes) -> str:
    """The text drawn in a PDF made by fpdf2 (its content streams are zlib-compressed)."""
    import re  # noqa: PLC0415
    import zlib  # noqa: PLC0415

    text = []
    # Up to "endstream" with whatever line break precedes it: the decompressor stops at the end
    # of the zlib data itself (a compressed stream may end in a byte that looks like "\r").
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", data, re.DOTALL):
        try:
            text.append(zlib.decompressobj().decompress(stream).decode("latin-1"))
        except zlib.error:
            continue
    return "".join(text)


def test_the_receipt_as_a_pdf(world: World) -> None:
    client = _client(world)
    _submit(client, world)
    reference = Submission.objects.get().reference
    pdf = client.get(_url(world, "submission-pdf", reference=reference))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == f'attachment; filename="kvitto-{reference}.pdf"'
    assert pdf.content.startswith(b"%PDF-")
    text = _pdf_text(pdf.content)
    assert reference in text
    assert "Matrisbolaget Alfa AB" in text
    assert "19850315-****" in text
    assert "Lisa Lön" in text
