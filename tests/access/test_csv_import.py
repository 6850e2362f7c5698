"""CSV import (preview, validation report, all or nothing) and CSV export of all access (R3)."""

from __future__ import annotations

import codecs
import time
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from stdnum import luhn

from portal.access import administration, csv_io
from portal.access.models import AccessImport, Grant, Level, Membership, Role
from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.common.errors import ConflictError
from portal.employers.constants import EmployerState
from portal.employers.models import Employer
from portal.identity.models import Person
from portal.messaging.models import OutboxMessage
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

HEADER = "personnummer;e-post;roll;e-tjänst;nivå;från;till;skäl"


def number(n: int) -> str:
    """A fictional, valid personal number (born 1 January 1990), written as people write it."""
    base = f"900101{n:03d}"
    return f"19{base[:6]}-{base[6:]}{luhn.calc_check_digit(base)}"


def normalised(text: str) -> str:
    return text.replace("-", "")


def csv_file(*rows: str, header: str = HEADER) -> bytes:
    return "\n".join([header, *rows]).encode("utf-8")


class Setup:
    def __init__(self) -> None:
        self.employer = Employer.objects.create(
            organisation_number="5599011235", name="Importbolaget AB", state=EmployerState.ACTIVE
        )
        self.other = Employer.objects.create(
            organisation_number="5599023453", name="Grannbolaget AB", state=EmployerState.ACTIVE
        )
        self.admin = PersonFactory(given_name="Ada")
        self.colleague = PersonFactory(given_name="Cecilia")
        self.user = PersonFactory(given_name="Ulf")
        self.other_admin = PersonFactory(given_name="Otto")
        self.membership(self.admin, Role.ADMINISTRATOR, "ada@exempel.se")
        self.membership(self.colleague, Role.ADMINISTRATOR, "cecilia@exempel.se")
        self.user_membership = self.membership(self.user, Role.USER, "ulf@exempel.se")
        Membership.objects.create(
            employer=self.other,
            person=self.other_admin,
            role=Role.ADMINISTRATOR,
            email="otto@exempel.se",
            reason="test",
        )
        self.client = Client()
        self.client.force_login(self.admin)
        self.base = f"/arbetsgivare/{self.employer.public_id}/behorigheter"

    def membership(self, person: Person, role: Role, email: str) -> Membership:
        return Membership.objects.create(
            employer=self.employer, person=person, role=role, email=email, reason="test"
        )

    def upload(self, data: bytes, *, reason: str = "Import", name: str = "lista.csv") -> Any:
        return self.client.post(
            f"{self.base}/import/",
            {"file": SimpleUploadedFile(name, data, content_type="text/csv"), "reason": reason},
        )

    def preview(self, data: bytes, *, reason: str = "Import") -> AccessImport:
        response = self.upload(data, reason=reason)
        assert response.status_code == 302, response.content.decode()[:2000]
        access_import = AccessImport.objects.filter(employer=self.employer).latest("pk")
        assert response["Location"] == f"{self.base}/import/{access_import.public_id}/"
        return access_import

    def apply(self, access_import: AccessImport) -> Any:
        return self.client.post(f"{self.base}/import/{access_import.public_id}/genomfor/")


@pytest.fixture
def s() -> Setup:
    return Setup()


def events(event_type: EventType) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event_type).order_by("id"))


def snapshot() -> tuple[int, int, int, int]:
    """Everything an import could change, to show that nothing was."""
    return (
        Membership.objects.count(),
        Grant.objects.count(),
        Person.objects.count(),
        OutboxMessage.objects.count(),
    )


# --- files that cannot be read at all ------------------------------------------------------


def _latin1() -> bytes:
    # Saved by a program in Windows-1252: the first letter outside ASCII is on line 3.
    rows = ["personnummer;roll;skal", f"{number(1)};user;x", f"{number(2)};user;Åsa"]
    return "\n".join(rows).encode("cp1252")


BAD_FILES = {
    "too large": (b"x" * (csv_io.MAX_BYTES + 1), "Filen är för stor. Den får vara högst 2 MB"),
    "not utf-8": (_latin1(), "Filen är inte sparad som UTF-8: rad 3"),
    "utf-16": (
        codecs.BOM_UTF16_LE
        + csv_file(f"{number(1)};;användare;;;;;x").decode().encode("utf-16-le"),
        "Filen är sparad som UTF-16",
    ),
    "excel": (b"PK\x03\x04" + b"\x00" * 100, "Filen är en Excel-fil, inte en CSV-fil"),
    "binary": (HEADER.encode() + b"\n\x00\x01\x02", "Filen är inte en textfil: rad 2"),
    "blank": (b" \n\n  \n", "Filen är tom"),
    "header only": (HEADER.encode(), "Filen har bara en rubrikrad"),
    "wrong columns": (
        b"namn;adress;telefon\nAda;Gatan 1;070",
        "Kolumnen ”namn” är okänd.",
    ),
    "column twice": (
        csv_file(f"{number(1)};användare;användare", header="personnummer;roll;Roll"),
        "Kolumnen ”roll” finns flera gånger.",
    ),
    "runaway quote": (
        csv_file(f'{number(1)};;användare;;;;;"' + "x" * 200_000),
        "Rad 2 kan inte läsas som CSV",
    ),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_a_file_that_cannot_be_read_is_refused_with_a_clear_message(s: Setup, kind: str) -> None:
    data, message = BAD_FILES[kind]
    before = snapshot()
    response = s.upload(data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert "Det finns fel i formuläret" in page
    assert not AccessImport.objects.exists()
    assert snapshot() == before


def test_wrong_columns_name_every_missing_and_unknown_column(s: Setup) -> None:
    page = s.upload(b"namn;adress\nAda;Gatan 1").content.decode()
    for message in (
        "Kolumnen ”namn” är okänd.",
        "Kolumnen ”adress” är okänd.",
        "Kolumnen ”personnummer” saknas.",
        "Kolumnen ”roll” saknas.",
        "Rubrikraden ska innehålla kolumnerna personnummer;e-post;roll;e-tjänst;nivå;från;till;skäl",
    ):
        assert message in page


def test_an_empty_upload_and_no_file_at_all_are_refused(s: Setup) -> None:
    page = s.upload(b"").content.decode()
    assert "Filen är tom" in page
    response = s.client.post(f"{s.base}/import/", {"reason": "x"})
    assert response.status_code == 400
    assert "Välj en CSV-fil att ladda upp." in response.content.decode()


def test_a_hundred_thousand_rows_are_refused_quickly(s: Setup) -> None:
    rows = [
        f"{number(n % 1000)};person{n}@exempel.se;användare;sick_report;se;;;Ny"
        for n in range(100_000)
    ]
    data = csv_file(*rows)
    assert len(data) > csv_io.MAX_BYTES
    started = time.monotonic()
    response = s.upload(data)
    assert time.monotonic() - started < 5
    assert response.status_code == 400
    assert "Filen är för stor" in response.content.decode()
    assert not AccessImport.objects.exists()


def test_more_rows_than_allowed_are_refused_without_reading_them_all(s: Setup) -> None:
    # Small enough in bytes, too many rows: refused at row 5 001.
    data = csv_file(*["1;u" for _ in range(100_000)], header="personnummer;roll")
    assert len(data) < csv_io.MAX_BYTES
    started = time.monotonic()
    response = s.upload(data)
    assert time.monotonic() - started < 5
    assert "Filen har fler än 5\u00a0000 rader" in response.content.decode()
    assert not AccessImport.objects.exists()


# --- rows with errors: a report per row, nothing applied -------------------------------------


def test_every_row_error_is_reported_and_nothing_can_be_applied(s: Setup) -> None:
    today = timezone.localdate()
    rows = [
        "19121212-1213;;användare;;;;;x",  # 2: bad check digit
        f"{number(1)};;användare;foo;se;;;x",  # 3: unknown e-service
        f"{number(2)};;användare;sick_report;se;2030-05-01;2030-04-01;x",  # 4: end before start
        f"{number(3)};;användare;sick_report;se;;{today - timedelta(days=1)};x",  # 5: past end
        f"{number(4)};;chef;;;;;x",  # 6: unknown role
        f"{number(5)};;användare;inquiries;allt;;;x",  # 7: unknown level
        f"{number(6)};;användare;inquiries;se;1/5 2030;;x",  # 8: bad date
        f"{number(1)};;användare;foo;se;;;x",  # 9: the same as row 3 (and the same error)
        f"{number(7)};;behörighetsadministratör;sick_report;se;;;x",  # 10: admin with e-service
        f"{number(8)};;användare;;;;;",  # 11: no reason (and none on the form)
        f"{number(9)};;användare;;;;;x;extra",  # 12: a value too many
        f"{number(10)};inte-en-adress;användare;;;;;x",  # 13: bad e-mail
        f"{number(11)};;användare;inquiries;;;;x",  # 14: no level
        f"{number(12)};;användare;;se;;;x",  # 15: a level without an e-service
        f"{number(13)};;användare;;;;;x",  # 16: fine
        f"{number(13)};;användare;;;;;y",  # 17: duplicate of 16
    ]
    before = snapshot()
    access_import = s.preview(csv_file(*rows), reason="")
    errors = {(e["line"], e["column"]): e["message"] for e in access_import.errors}
    expected = {
        (2, "personnummer"): "Personnumret är inte giltigt",
        (3, "e-tjänst"): "E-tjänsten ”foo” finns inte. Skriv en av koderna",
        (4, "till"): "Slutdatumet kan inte vara före startdatumet.",
        (5, "till"): "Slutdatumet har redan passerat.",
        (6, "roll"): "Rollen ”chef” finns inte.",
        (7, "nivå"): "Nivån ”allt” finns inte. Skriv se eller lämna.",
        (8, "från"): "Skriv datumet som ÅÅÅÅ-MM-DD",
        (10, "e-tjänst"): "Rollen behörighetsadministratör ger ingen behörighet till e-tjänster",
        (11, "skäl"): "Skriv varför ändringen görs",
        (12, ""): "Raden har fler värden (9) än rubrikraden har kolumner (8)",
        (13, "e-post"): "Skriv en e-postadress som namn@exempel.se.",
        (14, "nivå"): "Skriv nivån: se eller lämna.",
        (15, "nivå"): "Nivå och datum gäller en behörighet till en e-tjänst",
        (17, ""): "Rad 17 och rad 16 gäller samma person, roll och e-tjänst.",
    }
    for key, message in expected.items():
        assert message in errors.get(key, ""), (key, errors)
    assert (16, "") not in errors
    assert {line for line, _column in errors} == {*range(2, 16), 17}

    page = s.client.get(f"{s.base}/import/{access_import.public_id}/").content.decode()
    assert "15 rader har fel" in page
    assert 'href="#rad-5"' in page
    assert 'id="rad-5"' in page
    assert "Genomför" not in page
    response = s.apply(access_import)
    assert response.status_code == 409
    assert "Filen har fel och kan inte genomföras" in response.content.decode()
    assert snapshot() == before
    access_import.refresh_from_db()
    assert access_import.state == "previewed"
    (event,) = events(EventType.ACCESS_IMPORT_PREVIEWED)
    assert event.data["rows"] == 16
    assert event.data["rows_with_errors"] == 15
    assert "1990" not in str(event.data)


# --- preview and apply ----------------------------------------------------------------------


def test_preview_then_apply_changes_everything_at_once_and_tells_the_others_once(s: Setup) -> None:
    today = timezone.localdate()
    later = today + timedelta(days=200)
    administration.grant_set(
        employer=s.employer,
        person=s.user,
        spec=administration.GrantSpec("inquiries", "view"),
        reason="test",
        actor=s.admin,
    )
    administration.grant_set(
        employer=s.employer,
        person=s.user,
        spec=administration.GrantSpec("work_aids", "view"),
        reason="test",
        actor=s.admin,
    )
    OutboxMessage.objects.all().delete()
    ulf = f"{s.user.personal_number[:8]}-{s.user.personal_number[8:]}"
    rows = [
        f"{number(1)};nina@exempel.se;behörighetsadministratör;;;;;Ny chef",  # new person
        f"{number(1)};nina@exempel.se;användare;sick_report;lämna;;{later};",  # new role + grant
        f"{number(2)};;användare;Svara på förfrågningar;SE;;;Vikarie",  # new person by e-service name
        f"{ulf};ulf@exempel.se;användare;sick_report;lämna;;;",  # new grant
        f"{ulf};ulf@exempel.se;användare;inquiries;lämna;;;",  # changed grant
        f"{ulf};ulf@exempel.se;användare;work_aids;se;;;",  # unchanged
        f"{ulf};ulf@exempel.se;behörighetsadministratör;;;;;",  # new role
    ]
    access_import = s.preview(csv_file(*rows), reason="Omorganisation")
    assert access_import.errors == []
    changes = [row["changes"] for row in access_import.rows]
    assert changes == [
        ["new-person"],
        ["new-role", "new-grant"],
        ["new-person", "new-grant"],
        ["new-grant"],
        ["changed-grant"],
        [],
        ["new-role"],
    ]
    page = s.client.get(f"{s.base}/import/{access_import.public_id}/").content.decode()
    for text in (
        "Ny person, som behörighetsadministratör",
        "Ny roll: användare<br>Ny behörighet till e-tjänsten",
        "Ändrad behörighet till e-tjänsten",
        "Ingen ändring",
        "2 nya personer",
        "1 rad utan ändring",
        "Genomför",
        "<caption>",
        'scope="col"',
    ):
        assert text in page, text
    # Nothing has changed yet.
    assert not Person.objects.filter(personal_number=normalised(number(1))).exists()

    response = s.apply(access_import)
    assert response.status_code == 302
    assert response["Location"] == f"{s.base}/"
    nina = Person.objects.get(personal_number=normalised(number(1)))
    roles = set(
        Membership.objects.open()
        .filter(employer=s.employer, person=nina)
        .values_list("role", "email")
    )
    assert roles == {("administrator", "nina@exempel.se"), ("user", "nina@exempel.se")}
    grant = Grant.objects.open().get(membership__person=nina)
    assert (grant.eservice, grant.level, grant.valid_until) == ("sick_report", "submit", later)
    assert grant.reason == "Omorganisation"
    second = Grant.objects.open().get(membership__person__personal_number=normalised(number(2)))
    assert (second.eservice, second.level, second.reason) == ("inquiries", "view", "Vikarie")
    ulfs = {g.eservice: g.level for g in Grant.objects.open().filter(membership__person=s.user)}
    assert ulfs == {"sick_report": "submit", "inquiries": "submit", "work_aids": "view"}
    assert Membership.objects.open().filter(person=s.user, role="administrator").exists()

    access_import.refresh_from_db()
    assert access_import.state == "applied"
    (applied,) = events(EventType.ACCESS_IMPORT_APPLIED)
    assert applied.data["changes"] == {
        "new-person": 2,
        "new-role": 2,
        "new-grant": 3,
        "changed-grant": 1,
        "changed-email": 0,
        "unchanged": 1,
    }
    assert len(events(EventType.GRANT_CREATED)) == 2 + 4
    # One summary to the other administrator; none per change, none to the importer.
    mail = OutboxMessage.objects.get()
    assert (mail.template, mail.recipient_email) == ("access_imported", "cecilia@exempel.se")
    assert "2 nya personer" in mail.body_text
    assert "Ada" in mail.body_text
    page = s.client.get(response["Location"]).content.decode()
    assert "Importen är genomförd: 2 nya personer" in page

    # Once only.
    again = s.apply(access_import)
    assert again.status_code == 409
    assert "Importen är redan genomförd." in again.content.decode()
    assert len(events(EventType.ACCESS_IMPORT_APPLIED)) == 1


def test_a_file_with_commas_a_bom_and_columns_in_any_order_is_read(s: Setup) -> None:
    data = (
        codecs.BOM_UTF8
        + (
            "Roll,Personnummer,E-TJÄNST,Nivå\r\n"
            f"användare,{normalised(number(1))[2:]},work_aids,lämna\r\n"
            "\r\n"
            f'Användare,"{number(2)}",Bidrag till arbetshjälpmedel,se\r\n'
        ).encode()
    )
    access_import = s.preview(data, reason="Nya")
    assert access_import.errors == []
    assert [
        (r["line"], r["personal_number"], r["eservice"], r["level"]) for r in access_import.rows
    ] == [
        (2, normalised(number(1)), "work_aids", "submit"),
        (4, normalised(number(2)), "work_aids", "view"),
    ]


def test_a_changed_email_is_applied_to_every_role_and_conflicting_ones_are_refused(
    s: Setup,
) -> None:
    ulf = s.user.personal_number
    ok = s.preview(csv_file(f"{ulf};ny@exempel.se;användare;;;;;"), reason="")
    assert ok.errors == []
    assert ok.rows[0]["changes"] == ["changed-email"]
    assert s.apply(ok).status_code == 302
    s.user_membership.refresh_from_db()
    assert s.user_membership.email == "ny@exempel.se"

    s.membership(s.user, Role.ADMINISTRATOR, "ny@exempel.se")
    clash = s.preview(
        csv_file(
            f"{ulf};annan@exempel.se;användare;;;;;",
            f"{ulf};tredje@exempel.se;behörighetsadministratör;;;;;",
        )
    )
    assert clash.errors == [
        {
            "line": 3,
            "column": "e-post",
            "message": "Rad 3 och rad 2 har olika e-postadresser för samma person. "
            "Skriv samma adress på alla personens rader.",
        }
    ]


def test_nothing_is_applied_when_a_row_changed_after_the_preview(s: Setup) -> None:
    ulf = s.user.personal_number
    rows = [
        f"{number(1)};a@exempel.se;användare;sick_report;se;;;",
        f"{number(2)};b@exempel.se;användare;;;;;",
        f"{ulf};;användare;inquiries;lämna;;;",
    ]
    access_import = s.preview(csv_file(*rows), reason="Nya")
    assert access_import.errors == []
    # Meanwhile another administrator gives Ulf exactly that: the last row would change nothing.
    administration.grant_set(
        employer=s.employer,
        person=s.user,
        spec=administration.GrantSpec("inquiries", "submit"),
        reason="Hann före",
        actor=s.colleague,
    )
    before = snapshot()
    audit_before = AuditEvent.objects.count()
    response = s.apply(access_import)
    assert response.status_code == 409
    page = response.content.decode()
    assert "Ingenting har ändrats" in page
    assert "Rad 4" in page
    assert "Behörigheterna har ändrats sedan förhandsgranskningen" in page
    assert snapshot() == before
    assert AuditEvent.objects.count() == audit_before
    access_import.refresh_from_db()
    assert access_import.state == "previewed"


def test_nothing_is_applied_when_a_change_is_refused_half_way(
    s: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [
        f"{number(1)};a@exempel.se;användare;sick_report;se;;;",
        f"{number(2)};b@exempel.se;behörighetsadministratör;;;;;",
        f"{number(2)};b@exempel.se;användare;;;;;",
    ]
    access_import = s.preview(csv_file(*rows), reason="Nya")
    real_role_add = administration.role_add

    def refuse(**kwargs: Any) -> Membership:
        real_role_add(**kwargs)  # the change is made, then refused: it must be rolled back
        raise ConflictError("Personen har redan den rollen.", code="already-member")

    monkeypatch.setattr(csv_io, "role_add", refuse)
    before = snapshot()
    audit_before = AuditEvent.objects.count()
    response = s.apply(access_import)
    assert response.status_code == 409
    page = response.content.decode()
    assert "Ingenting har ändrats: rad 4 kunde inte genomföras." in page
    assert "Personen har redan den rollen." in page
    assert snapshot() == before
    assert AuditEvent.objects.count() == audit_before
    assert not Person.objects.filter(personal_number=normalised(number(1))).exists()


def test_an_import_can_be_discarded(s: Setup) -> None:
    access_import = s.preview(csv_file(f"{number(1)};;användare;;;;;"), reason="x")
    response = s.client.post(f"{s.base}/import/{access_import.public_id}/avbryt/")
    assert response.status_code == 302
    access_import.refresh_from_db()
    assert access_import.state == "discarded"
    assert len(events(EventType.ACCESS_IMPORT_DISCARDED)) == 1
    refused = s.apply(access_import)
    assert refused.status_code == 409
    assert "Importen är avbruten" in refused.content.decode()
    assert not Person.objects.filter(personal_number=normalised(number(1))).exists()


def test_the_template_file_can_be_imported(s: Setup) -> None:
    response = s.client.get(f"{s.base}/import/mall.csv")
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    access_import = s.preview(data)
    assert access_import.errors == []
    assert [row["changes"] for row in access_import.rows] == [
        ["new-person"],
        ["new-role", "new-grant"],
        ["new-person", "new-grant"],
    ]


def test_the_upload_page_explains_the_format(s: Setup) -> None:
    page = s.client.get(f"{s.base}/import/").content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert '<label class="label" for="id_file">' in page
    assert "sick_report" in page
    assert "Sjukanmälan efter dag 14" in page
    assert f"{s.base}/import/mall.csv" in page
    assert f"{s.base}/export.csv" in page


# --- export ---------------------------------------------------------------------------------


def export(s: Setup) -> bytes:
    response = s.client.get(f"{s.base}/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate().isoformat()
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="behorigheter-5599011235-{today}.csv"'
    )
    return b"".join(response.streaming_content)


def test_an_export_imports_again_as_no_change_at_all(s: Setup) -> None:
    today = timezone.localdate()
    administration.grant_set(
        employer=s.employer,
        person=s.user,
        spec=administration.GrantSpec(
            "sick_report", "submit", today + timedelta(days=10), today + timedelta(days=100)
        ),
        reason='=HYPERLINK("http://evil")',
        actor=s.admin,
    )
    administration.grant_set(
        employer=s.employer,
        person=s.user,
        spec=administration.GrantSpec("inquiries", "view"),
        reason="Sköter förfrågningar; även ”svåra”",
        actor=s.admin,
    )
    # A grant past its last day is no longer access, and is not exported.
    Grant.objects.create(
        membership=s.user_membership,
        eservice="work_aids",
        level=Level.VIEW,
        valid_from=date(2020, 1, 1),
        valid_until=date(2020, 12, 31),
        reason="gammal",
    )
    s.membership(s.admin, Role.USER, "-ada@exempel.se")  # a user without grants
    foreign = Person.objects.create(
        eidas_identifier="DE/SE/123456", given_name="Hans", password="!"
    )
    Membership.objects.create(
        employer=s.employer, person=foreign, role=Role.USER, email="hans@exempel.de", reason="test"
    )
    data = export(s)
    assert data.startswith(codecs.BOM_UTF8)
    text = data.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0] == HEADER
    assert '\'=HYPERLINK(""http://evil"")' in text
    assert ";'-ada@exempel.se;användare;;;;;test" in text
    assert '"Sköter förfrågningar; även ”svåra”"' in text
    assert "work_aids" not in text
    assert "DE/SE/123456;hans@exempel.de;användare" in text
    assert len([line for line in lines[1:] if line]) == 6
    (event,) = events(EventType.ACCESS_EXPORTED)
    assert event.data == {"rows": 6}
    assert normalised(number(1)) not in str(event.data)

    access_import = s.preview(data, reason="")
    assert access_import.errors == []
    assert [row["changes"] for row in access_import.rows] == [[]] * 6
    page = s.client.get(f"{s.base}/import/{access_import.public_id}/").content.decode()
    assert page.count("Ingen ändring") == 6
    assert "6 rader utan ändring" in page
    before = snapshot()
    assert s.apply(access_import).status_code == 302
    assert snapshot() == before
    assert not OutboxMessage.objects.filter(template="access_imported").exists()


def test_an_export_of_no_one_but_the_administrators_has_their_rows(s: Setup) -> None:
    text = export(s).decode("utf-8-sig")
    assert text.count("behörighetsadministratör") == 2
    assert text.count("användare") == 1


def test_a_head_request_for_the_export_records_nothing(s: Setup) -> None:
    response = s.client.head(f"{s.base}/export.csv")
    assert response.status_code == 200
    assert not events(EventType.ACCESS_EXPORTED)


def test_cells_that_look_like_formulas_are_neutralised() -> None:
    lines = list(csv_io.csv_lines([["=1+2", "+46", "-x", "@SUM(A1)", "\tx", "ok", "a=b"]]))
    assert lines[1] == "'=1+2;'+46;'-x;'@SUM(A1);'\tx;ok;a=b\r\n"


# --- who may --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/import/"),
        ("post", "/import/"),
        ("get", "/export.csv"),
        ("get", "/import/mall.csv"),
        ("get", "/import/{id}/"),
        ("post", "/import/{id}/genomfor/"),
        ("post", "/import/{id}/avbryt/"),
    ],
)
def test_only_the_employers_administrators_may_import_and_export(
    s: Setup, method: str, path: str
) -> None:
    access_import = s.preview(csv_file(f"{number(1)};;användare;;;;;"), reason="x")
    url = s.base + path.format(id=access_import.public_id)
    for person in (s.user, s.other_admin):
        client = Client()
        client.force_login(person)
        denied = AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).count()
        assert getattr(client, method)(url).status_code == 403
        assert AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).count() == denied + 1
    assert Client().get(url).status_code == 302  # to the login page
    access_import.refresh_from_db()
    assert access_import.state == "previewed"
    assert not events(EventType.ACCESS_EXPORTED)


def test_another_employers_import_is_not_found(s: Setup) -> None:
    access_import = s.preview(csv_file(f"{number(1)};;användare;;;;;"), reason="x")
    other = Client()
    other.force_login(s.other_admin)
    base = f"/arbetsgivare/{s.other.public_id}/behorigheter/import/{access_import.public_id}"
    assert other.get(f"{base}/").status_code == 404
    assert other.post(f"{base}/genomfor/").status_code == 404
    assert other.post(f"{base}/avbryt/").status_code == 404
    access_import.refresh_from_db()
    assert access_import.state == "previewed"
