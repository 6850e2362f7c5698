"""The workplace-aids grant application, and the attachments every e-service can take: the grant
rule, the two conditions, files checked by their content, stored outside the web root and served
only to those allowed."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from fpdf import FPDF
from PIL import Image

from portal.access.models import Level, Role
from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.eservices import attachments, framework, intake, registry
from portal.eservices.checks import check_upload_dir
from portal.eservices.framework import drafts_purge
from portal.eservices.models import Attachment, Draft, IntakeMessage, Submission
from portal.eservices.work_aids.forms import twelve_months_before
from portal.eservices.work_aids.handler import grant
from tests.access.world import World, build_world, logged_in, membership
from tests.access.world import grant as give_grant
from tests.factories import PersonFactory

CODE = "work_aids"


@pytest.fixture
def world(db: Any, settings: Any, tmp_path: Path) -> World:
    settings.UPLOAD_DIR = tmp_path / "uploads"
    world = build_world()
    give_grant(world.grant.membership, eservice=CODE, level=Level.SUBMIT)
    user_view = world.people["user_view"].memberships.get(employer=world.employer)
    give_grant(user_view, eservice=CODE, level=Level.VIEW)
    return world


def _client(world: World, who: str = "user_submit") -> Client:
    return logged_in(world.people[who])


def _url(world: World, name: str, **kwargs: Any) -> str:
    return reverse(
        f"eservices:{name}", kwargs={"public_id": world.employer.public_id, "code": CODE, **kwargs}
    )


def _form(**overrides: Any) -> dict[str, Any]:
    return {
        "employee_personal_number": "19850315-2343",
        "employee_name": "Alva Andersson",
        "employed_since": (timezone.localdate() - timedelta(days=800)).isoformat(),
        "aid": "Höj- och sänkbart skrivbord med skärmarm",
        "aid_kind": "other",
        "need": "Alva har en ryggskada och behöver kunna växla mellan att sitta och stå.",
        "supplier": "Kontorshjälpen AB",
        "cost": "24 000 kr",
        "purchased": "no",
        "contact_name": "Lisa Lön",
        "contact_phone": "060-12 34 56",
        **overrides,
    }


def pdf_bytes() -> bytes:
    document = FPDF()
    document.add_page()
    document.set_font("helvetica", size=12)
    document.cell(text="Offert: skrivbord 24 000 kr")
    return bytes(document.output())


def image_bytes(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, format=kind)
    return out.getvalue()


def _file(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def _files_on_disk(settings: Any) -> list[Path]:
    root = Path(settings.UPLOAD_DIR)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize(
    ("cost", "kind", "expected"),
    [
        (8_000, "other", 0),
        (10_000, "other", 0),
        (10_001, "other", 0),  # half a krona is rounded down
        (24_000, "other", 7_000),
        (110_000, "other", 50_000),
        (500_000, "other", 50_000),
        (110_000, "computer", 50_000),
        (150_000, "computer", 70_000),
        (500_000, "computer", 100_000),
    ],
)
def test_the_grant_is_half_the_cost_above_10_000_within_the_cap(
    cost: int, kind: str, expected: int
) -> None:
    assert grant(cost, kind) == expected


def test_the_computer_cap_is_configurable(settings: Any) -> None:
    settings.WORK_AIDS_COMPUTER_CAP = 80_000
    assert grant(500_000, "computer") == 80_000
    assert grant(500_000, "other") == 50_000


def test_an_application_with_attachments_from_form_to_receipt(world: World, settings: Any) -> None:
    client = _client(world)
    # "Ladda upp" keeps the person on the form with the files listed.
    page = client.post(
        _url(world, "new"),
        {
            **_form(),
            "upload": "1",
            "attachments": [
                _file("offert.pdf", pdf_bytes()),
                _file("intyg.png", image_bytes("PNG"), "image/png"),
            ],
        },
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert "offert.pdf" in text
    assert "intyg.png" in text
    # The grant is shown from what is typed, also without JavaScript.
    assert "7\u00a0000\u00a0kr" in text
    assert Attachment.objects.filter(submission__isnull=True).count() == 2
    assert len(_files_on_disk(settings)) == 2

    assert client.post(_url(world, "new"), _form())["Location"] == _url(world, "check")
    check = client.get(_url(world, "check"))
    summary = {str(label): value for label, value in check.context["summary"]}
    assert summary["Beräknat bidrag"] == "7\u00a0000\u00a0kr"
    assert "offert.pdf" in summary["Bilagor"]
    assert "intyg.png" in summary["Bilagor"]
    sent = client.post(_url(world, "check"), {"token": check.context["token"]})
    submission = Submission.objects.get(eservice=CODE)
    assert sent["Location"] == _url(world, "submission", reference=submission.reference)
    assert submission.reference.startswith("HJM-")
    assert submission.content["grant"] == 7_000
    assert submission.content["cost"] == 24_000
    described = {item["name"]: item for item in submission.content["attachments"]}
    assert described["offert.pdf"]["type"] == "application/pdf"
    assert described["intyg.png"]["type"] == "image/png"
    assert set(submission.attachments.values_list("name", flat=True)) == {"offert.pdf", "intyg.png"}
    assert not Draft.objects.exists()
    # The agency receives the attachments' descriptions with the content.
    intake.intake_publish()
    payload = intake.message_payload(IntakeMessage.objects.get(submission=submission))
    assert len(payload["content"]["attachments"]) == 2
    pdf = client.get(_url(world, "submission-pdf", reference=submission.reference))
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")
    receipt = client.get(sent["Location"]).content.decode()
    assert "offert.pdf" in receipt
    assert "7\u00a0000\u00a0kr" in receipt


def test_files_are_judged_by_their_content_not_their_name(world: World, settings: Any) -> None:
    client = _client(world)
    cases = [
        _file("offert.pdf", "Det här är bara text, inte en PDF.\n".encode() * 20),
        _file("bild.png", b"\x89PNG\r\n\x1a\n" + b"inte en bild" * 10, "image/png"),
        _file("halv.pdf", pdf_bytes()[:200]),  # a PDF cut off before its end
        _file("tom.pdf", b""),
        _file("program.jpg", b"MZ\x90\x00" + b"\x00" * 200, "image/jpeg"),
    ]
    for upload in cases:
        page = client.post(_url(world, "new"), {**_form(), "attachments": [upload]})
        assert page.status_code == 400, upload.name
        assert upload.name in page.content.decode()
    assert not Attachment.objects.exists()
    assert _files_on_disk(settings) == []
    refusals = AuditEvent.objects.filter(event_type=EventType.ATTACHMENT_REFUSE)
    assert refusals.count() == len(cases)
    # The log says why, never the file's name (which may hold a personal number).
    assert {event.data["reason"] for event in refusals} == {"not-pdf-jpeg-png", "empty"}
    # A real JPEG named .pdf is accepted as what it is.
    client.post(
        _url(world, "new"), {**_form(), "attachments": [_file("foto.pdf", image_bytes("JPEG"))]}
    )
    assert Attachment.objects.get().content_type == "image/jpeg"


def test_a_file_over_the_limit_is_skipped_as_it_arrives(world: World, settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 4096
    client = _client(world)
    big = pdf_bytes() + b"%" + b"x" * 8000 + b"\n%%EOF\n"
    page = client.post(_url(world, "new"), {**_form(), "attachments": [_file("stor.pdf", big)]})
    assert page.status_code == 400
    assert "stor.pdf är större än" in page.content.decode()
    assert not Attachment.objects.exists()
    assert _files_on_disk(settings) == []
    # What was typed is still kept.
    assert Draft.objects.get().data["raw"]["employee_name"] == "Alva Andersson"


def test_at_most_ten_attachments(world: World) -> None:
    client = _client(world)
    files = [_file(f"sida{n}.png", image_bytes("PNG"), "image/png") for n in range(11)]
    page = client.post(_url(world, "new"), {**_form(), "attachments": files})
    assert page.status_code == 400
    assert "högst 10 filer" in page.content.decode()
    assert Attachment.objects.count() == attachments.MAX_ATTACHMENTS


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"employed_since": "today"}, "employed_since", "Arbetsförmedlingen"),
        ({"employed_since": "eleven_months"}, "employed_since", "Arbetsförmedlingen"),
        ({"purchased": "yes"}, "purchased", "inte har köpts in"),
        ({"cost": "tjugo tusen"}, "cost", "hela kronor"),
        ({"cost": "0"}, "cost", "minst 1 krona"),
        ({"aid_kind": "rymdskepp"}, "aid_kind", ""),
        ({"employee_personal_number": "19850315-2344"}, "employee_personal_number", ""),
    ],
)
def test_the_conditions_are_explained_and_nothing_is_sent(
    world: World, overrides: dict[str, str], field: str, words: str
) -> None:
    today = timezone.localdate()
    dates = {
        "today": today.isoformat(),
        "eleven_months": (twelve_months_before(today) + timedelta(days=30)).isoformat(),
    }
    overrides = {key: dates.get(value, value) for key, value in overrides.items()}
    page = _client(world).post(_url(world, "new"), _form(**overrides))
    assert page.status_code == 400
    errors = page.context["form"].errors
    assert field in errors
    assert words in " ".join(errors[field])
    assert not Submission.objects.exists()


def test_exactly_twelve_months_is_not_yet_more_than_twelve(world: World) -> None:
    today = timezone.localdate()
    client = _client(world)
    at = client.post(
        _url(world, "new"), _form(employed_since=twelve_months_before(today).isoformat())
    )
    assert at.status_code == 400
    day_before = twelve_months_before(today) - timedelta(days=1)
    assert (
        client.post(_url(world, "new"), _form(employed_since=day_before.isoformat())).status_code
        == 302
    )


def test_who_may_open_an_attachment(world: World) -> None:
    owner = _client(world)
    owner.post(_url(world, "new"), {**_form(), "attachments": [_file("offert.pdf", pdf_bytes())]})
    attachment = Attachment.objects.get()
    url = _url(world, "attachment", attachment_id=attachment.public_id)
    download = owner.get(url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in download["Content-Security-Policy"]
    body = b"".join(download.streaming_content)
    assert body == attachments.stored_path(attachment).read_bytes()
    assert body.startswith(b"%PDF-")
    # Before it is sent, only the uploader sees it.
    assert _client(world, "user_view").get(url).status_code == 404
    # Once sent, everyone who may see the e-service's submissions.
    owner.post(_url(world, "new"), _form())
    owner.post(_url(world, "check"), {"token": owner.get(_url(world, "check")).context["token"]})
    seen = _client(world, "user_view").get(url)
    assert seen.status_code == 200
    assert b"".join(seen.streaming_content).startswith(b"%PDF-")  # read to the end, closed
    assert AuditEvent.objects.filter(event_type=EventType.ATTACHMENT_VIEWED).count() == 2
    # Not those without the grant, nor another employer's administrator.
    assert _client(world, "user_none").get(url).status_code in {403, 404}
    assert _client(world, "other_admin").get(url).status_code in {403, 404}
    # Nor through another e-service's address.
    other = reverse(
        "eservices:attachment",
        kwargs={
            "public_id": world.employer.public_id,
            "code": "sick_report",
            "attachment_id": attachment.public_id,
        },
    )
    assert owner.get(other).status_code == 404


def test_an_unsent_attachment_can_be_removed_and_its_file_goes(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = _client(world)
    client.post(_url(world, "new"), {**_form(), "attachments": [_file("fel.pdf", pdf_bytes())]})
    attachment = Attachment.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        with_removal = client.post(
            _url(world, "new"), {**_form(), "remove": str(attachment.public_id)}
        )
    assert with_removal.status_code == 200  # stays on the form
    assert not Attachment.objects.exists()
    assert _files_on_disk(settings) == []
    assert AuditEvent.objects.filter(event_type=EventType.ATTACHMENT_REMOVED).exists()


def test_a_correction_keeps_the_attachments_already_sent(world: World) -> None:
    client = _client(world)
    client.post(_url(world, "new"), {**_form(), "attachments": [_file("offert.pdf", pdf_bytes())]})
    client.post(_url(world, "check"), {"token": client.get(_url(world, "check")).context["token"]})
    first = Submission.objects.get()
    client.post(_url(world, "correct", reference=first.reference))
    client.post(
        _url(world, "new"),
        {
            **_form(cost="30 000"),
            "attachments": [_file("ny-offert.png", image_bytes("PNG"), "image/png")],
        },
    )
    client.post(_url(world, "check"), {"token": client.get(_url(world, "check")).context["token"]})
    correction = Submission.objects.get(version=2)
    assert correction.content["grant"] == 10_000
    assert {item["name"] for item in correction.content["attachments"]} == {
        "offert.pdf",
        "ny-offert.png",
    }
    # Each file belongs to the version it was first sent with.
    assert list(first.attachments.values_list("name", flat=True)) == ["offert.pdf"]
    assert list(correction.attachments.values_list("name", flat=True)) == ["ny-offert.png"]


def test_an_attachment_cannot_be_taken_from_someone_else(world: World) -> None:
    """Content naming an attachment the sender did not upload is refused (the API and forged
    drafts cannot borrow files)."""
    their_draft = framework.draft_save(
        person=world.people["admin"], employer=world.employer, eservice=CODE, data={}
    )
    theirs = attachments.attachment_store(
        person=world.people["admin"],
        employer=world.employer,
        eservice=CODE,
        draft=their_draft,
        upload=_file("offert.pdf", pdf_bytes()),
    )
    client = _client(world)
    client.post(_url(world, "new"), _form())
    draft = Draft.objects.get(person=world.people["user_submit"])
    draft.data["content"]["attachments"] = [theirs.describe()]
    draft.save()
    # The check page lists the draft's own attachments only; the forged entry is dropped.
    check = client.get(_url(world, "check"))
    assert "offert.pdf" not in {str(k): v for k, v in check.context["summary"]}["Bilagor"]
    # And the framework refuses content that names it.
    eservice = registry.get(CODE)
    assert eservice is not None
    with pytest.raises(attachments.AttachmentRefused):
        framework.submission_create(
            eservice=CODE,
            handler=eservice.handler,
            employer=world.employer,
            actor=world.people["user_submit"],
            content={**draft.data["content"], "attachments": [theirs.describe()]},
            idempotency_key="forged-attachment",
        )
    assert not Submission.objects.exists()
    assert Attachment.objects.get().submission is None


def test_unsent_attachments_are_purged_with_their_drafts(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = _client(world)
    client.post(_url(world, "new"), {**_form(), "attachments": [_file("offert.pdf", pdf_bytes())]})
    assert drafts_purge() == 0
    later = timezone.now() + timedelta(days=settings.DRAFT_DAYS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert drafts_purge(now=later) == 1
    assert not Attachment.objects.exists()
    assert _files_on_disk(settings) == []
    event = AuditEvent.objects.get(event_type=EventType.DRAFTS_PURGED)
    assert event.data["attachments"] == 1


def test_the_api_takes_an_application_without_attachments(world: World) -> None:
    client = _client(world)
    url = f"/api/v1/employers/{world.employer.public_id}/eservices/{CODE}/submissions"
    body = _form()
    response = client.post(
        url, body, content_type="application/json", headers={"Idempotency-Key": "arbetshjalp-1"}
    )
    assert response.status_code == 201, response.content
    assert response.json()["content"]["grant"] == 7_000
    refused = client.post(
        url,
        _form(purchased="yes"),
        content_type="application/json",
        headers={"Idempotency-Key": "arbetshjalp-2"},
    )
    assert refused.status_code == 422
    assert "purchased" in refused.json()["errors"]


def test_uploads_may_not_be_served_as_static_files(settings: Any, tmp_path: Path) -> None:
    settings.STATIC_ROOT = tmp_path / "static"
    settings.UPLOAD_DIR = tmp_path / "static" / "uploads"
    assert [error.id for error in check_upload_dir()] == ["portal.E301"]
    settings.UPLOAD_DIR = tmp_path / "uploads"
    assert check_upload_dir() == []


def test_the_api_takes_attachments_uploaded_first(world: World) -> None:
    client = _client(world)
    base = f"/api/v1/employers/{world.employer.public_id}/eservices/{CODE}"
    uploaded = client.post(f"{base}/attachments", {"file": _file("offert.pdf", pdf_bytes())})
    assert uploaded.status_code == 201, uploaded.content
    assert uploaded.json()["type"] == "application/pdf"
    file_id = uploaded.json()["id"]
    disguised = client.post(f"{base}/attachments", {"file": _file("x.pdf", b"text\n" * 100)})
    assert disguised.status_code == 422
    assert disguised["Content-Type"] == "application/problem+json"
    assert "file" in disguised.json()["errors"]
    # Not in an e-service without attachments.
    sick = f"/api/v1/employers/{world.employer.public_id}/eservices/sick_report/attachments"
    assert client.post(sick, {"file": _file("offert.pdf", pdf_bytes())}).status_code == 422

    def submit(key: str, files: Any) -> Any:
        return client.post(
            f"{base}/submissions",
            {**_form(), "attachments": files},
            content_type="application/json",
            headers={"Idempotency-Key": key},
        )

    for bad in ["inte en lista", [str(uuid.uuid4())], ["inte-ett-id"], [file_id] * 11]:
        refused = submit(f"dalig-{bad!s:.20}", bad)
        assert refused.status_code == 422, bad
        assert "attachments" in refused.json()["errors"]
    # Someone else cannot name it.
    colleague = PersonFactory(given_name="Kollega")
    give_grant(membership(world.employer, colleague, Role.USER), eservice=CODE)
    other = Client()
    other.force_login(colleague)
    assert (
        other.post(
            f"{base}/submissions",
            {**_form(), "attachments": [file_id]},
            content_type="application/json",
            headers={"Idempotency-Key": "lana-bilaga"},
        ).status_code
        == 422
    )
    sent = submit("med-bilaga-1", [file_id])
    assert sent.status_code == 201, sent.content
    assert [item["id"] for item in sent.json()["content"]["attachments"]] == [file_id]
    assert Attachment.objects.get(public_id=file_id).submission is not None
    # Once sent it cannot be sent again with another submission.
    assert submit("med-bilaga-2", [file_id]).status_code == 422
