"""People with a foreign e-ID (eIDAS), known by their eIDAS identifier instead of a Swedish
personal identity number: added by an access administrator, shown masked, found by search,
imported from a file, and using the e-services they are granted like anyone else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from portal.access import administration
from portal.access.administration import InvalidAccess
from portal.access.constants import Permission
from portal.access.models import AccessImport, Grant, Level, Membership, Role
from portal.access.services import can
from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.common.errors import ConflictError
from portal.common.logging import mask_identity_numbers
from portal.identity.eidas_identifiers import (
    InvalidEidasIdentifier,
    looks_like_eidas_identifier,
    mask_eidas_identifier,
    masked_identity,
    normalise_eidas_identifier,
)
from portal.identity.models import Person
from portal.messaging.models import OutboxMessage
from tests.access.world import World, grant, logged_in, membership

IDENTIFIER = "DE/SE/1234567890"
NATIONAL = "1234567890"
MASKED = "Utländsk e-legitimation (DE), DE/SE/****7890"


def _url(name: str, world: World, **kwargs: Any) -> str:
    return reverse(name, kwargs={"public_id": world.employer.public_id, **kwargs})


def _form(**overrides: str) -> dict[str, str]:
    return {
        "identity_kind": "eidas",
        "personal_number": "",
        "eidas_identifier": IDENTIFIER,
        "email": "hans@example.de",
        "user": "on",
        "eservice_sick_report": "submit",
        "reason": "Ny på lönekontoret i Hamburg",
        **overrides,
    }


def _foreign(identifier: str = IDENTIFIER, **extra: Any) -> Person:
    return Person.objects.create(eidas_identifier=identifier, password="!", **extra)


def _audit_text() -> str:
    return json.dumps([event.data for event in AuditEvent.objects.all()], ensure_ascii=False)


# --- the identifier itself ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("DE/SE/1234567890", "DE/SE/1234567890"),
        ("  de/se/1234567890 ", "DE/SE/1234567890"),
        ("De / sE / 1234567890", "DE/SE/1234567890"),
        # The national part keeps its case and may hold base64 (+ / =) and - . _ :
        ("AT/SE/+Nlk0aB/xYz=", "AT/SE/+Nlk0aB/xYz="),
        ("es/se/99999142H", "ES/SE/99999142H"),
        ("IT/SE/TINIT-RSSMRA80A01H501U", "IT/SE/TINIT-RSSMRA80A01H501U"),
        ("NL/SE/s00000000:900000007", "NL/SE/s00000000:900000007"),
    ],
)
def test_an_eidas_identifier_is_normalised(text: str, normalised: str) -> None:
    assert looks_like_eidas_identifier(text)
    assert normalise_eidas_identifier(text) == normalised


BAD_IDENTIFIERS = [
    ("", "Skriv personens eIDAS-identitet, till exempel DE/SE/1234567890."),
    ("   ", "Skriv personens eIDAS-identitet, till exempel DE/SE/1234567890."),
    ("1234567890", "Skriv eIDAS-identiteten som landskod/SE/identitet"),
    ("DE-SE-1234567890", "Skriv eIDAS-identiteten som landskod/SE/identitet"),
    ("DE/SE", "Skriv eIDAS-identiteten som landskod/SE/identitet"),
    ("D/SE/1234567890", "ska börja med landskoden för landet som har utfärdat"),
    ("DEU/SE/1234567890", "ska börja med landskoden för landet som har utfärdat"),
    ("12/SE/1234567890", "ska börja med landskoden för landet som har utfärdat"),
    ("DE/NO/1234567890", "Den andra delen av eIDAS-identiteten ska vara SE"),
    ("DE/S/1234567890", "Den andra delen av eIDAS-identiteten ska vara SE"),
    ("SE/SE/1234567890", "En svensk e-legitimation har ingen eIDAS-identitet här."),
    ("DE/SE/", "Personens identitet efter DE/SE/ saknas."),
    ("DE/SE/   ", "Personens identitet efter DE/SE/ saknas."),
    ("DE/SE/1234 567890", "får bara innehålla bokstäverna A–Z, siffror och tecknen"),
    ("DE/SE/12345ä7890", "får bara innehålla bokstäverna A–Z, siffror och tecknen"),
    ("DE/SE/<script>", "får bara innehålla bokstäverna A–Z, siffror och tecknen"),
    ("DE/SE/" + "1" * 251, "eIDAS-identiteten får vara högst 256 tecken."),
]


@pytest.mark.parametrize(("text", "message"), BAD_IDENTIFIERS)
def test_a_bad_eidas_identifier_is_refused_with_its_reason(text: str, message: str) -> None:
    with pytest.raises(InvalidEidasIdentifier) as caught:
        normalise_eidas_identifier(text)
    assert message in caught.value.message


def test_the_longest_identifier_is_accepted() -> None:
    text = "DE/SE/" + "1" * 250
    assert normalise_eidas_identifier(text) == text


def test_an_identifier_is_masked_to_its_countries_and_last_four_characters() -> None:
    assert mask_eidas_identifier(IDENTIFIER) == "DE/SE/****7890"
    assert mask_eidas_identifier("AT/SE/+Nlk0aB/xYz=") == "AT/SE/****xYz="
    # A short national part shows nothing of itself.
    assert mask_eidas_identifier("DE/SE/1234567") == "DE/SE/****"
    assert mask_eidas_identifier("nonsense") == "****"
    assert masked_identity(None, IDENTIFIER) == MASKED
    assert masked_identity("191212121212", None) == "19121212-****"
    assert NATIONAL not in masked_identity(None, IDENTIFIER)


def test_logs_mask_eidas_identifiers() -> None:
    line = mask_identity_numbers(f"added {IDENTIFIER} and AT/SE/+Nlk0aB/xYz= at /arbetsgivare/x/")
    assert line == "added DE/SE/****7890 and AT/SE/****xYz= at /arbetsgivare/x/"
    assert mask_identity_numbers("19121212-1212 DE/SE/1234567890") == (
        "19121212-**** DE/SE/****7890"
    )


# --- adding a person ------------------------------------------------------------------------


def test_an_administrator_adds_a_person_with_a_foreign_eid(world: World) -> None:
    other_admin = Person.objects.create(personal_number="198001011231", password="!")
    membership(world.employer, other_admin, Role.ADMINISTRATOR, email="andra@example.se")
    response = logged_in(world.people["admin"]).post(
        _url("access:person-new", world),
        _form(eidas_identifier=" de/se/1234567890 ", personal_number="not looked at"),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    person = Person.objects.get(eidas_identifier=IDENTIFIER)
    assert person.personal_number is None
    assert response["Location"] == _url("access:person", world, person_id=person.public_id)
    user = Membership.objects.get(person=person, employer=world.employer)
    assert (user.role, user.email) == (Role.USER, "hans@example.de")
    assert list(Grant.objects.filter(membership=user).values_list("eservice", "level")) == [
        ("sick_report", Level.SUBMIT)
    ]
    # Audited as any addition, without the identifier or any part of it that identifies.
    (created,) = AuditEvent.objects.filter(event_type=EventType.MEMBERSHIP_CREATED)
    assert created.actor == world.people["admin"]
    assert created.data["person"] == person.pk
    assert len(AuditEvent.objects.filter(event_type=EventType.GRANT_CREATED)) == 1
    assert NATIONAL not in _audit_text()
    # The other administrators are told, without the identifier.
    (mail,) = OutboxMessage.objects.filter(template="access_changed")
    assert mail.recipient_email == "andra@example.se"
    assert NATIONAL not in mail.body_text
    # The person's page shows the foreign e-ID masked, and what they cannot do.
    page = logged_in(world.people["admin"]).get(response["Location"]).content.decode()
    assert MASKED in page
    assert NATIONAL not in page
    assert "Personen loggar in med utländsk e-legitimation (eIDAS)." in page
    assert "Se och lämna uppgifter i Sjukanmälan efter dag 14" in page


def test_the_add_person_page_offers_both_kinds_and_explains_the_foreign_one(world: World) -> None:
    page = logged_in(world.people["admin"]).get(_url("access:person-new", world)).content.decode()
    assert "Personen har svenskt personnummer" in page
    assert "Personen loggar in med utländsk e-legitimation (eIDAS)" in page
    # Both fields are on the page (it works without JavaScript); Swedish is chosen at first.
    assert 'name="personal_number"' in page
    assert 'name="eidas_identifier"' in page
    assert 'id="id_identity_kind_0" value="personal_number" checked' in page
    assert 'data-reveal-for="id_identity_kind_1"' in page
    assert "kan vara behörighetsadministratör och användare" in page
    assert "kan däremot inte ansluta arbetsgivaren" in page
    assert "skriva under som firmatecknare" in page


@pytest.mark.parametrize(("text", "message"), BAD_IDENTIFIERS)
def test_a_bad_identifier_on_the_page_is_explained_and_nothing_is_saved(
    world: World, text: str, message: str
) -> None:
    before = Person.objects.count(), Membership.objects.count(), AuditEvent.objects.count()
    response = logged_in(world.people["admin"]).post(
        _url("access:person-new", world), _form(eidas_identifier=text)
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert 'href="#id_eidas_identifier"' in page  # the error summary links to the field
    # The radio stays on the choice made.
    assert 'id="id_identity_kind_1" value="eidas" checked' in page
    assert (Person.objects.count(), Membership.objects.count()) == before[:2]
    assert AuditEvent.objects.count() == before[2]


def test_the_radio_decides_which_identity_is_required(world: World) -> None:
    client = logged_in(world.people["admin"])
    # A Swedish person: the identifier field is ignored, the personal number required.
    response = client.post(
        _url("access:person-new", world),
        _form(identity_kind="personal_number", personal_number="", eidas_identifier=IDENTIFIER),
    )
    assert response.status_code == 400
    assert "Skriv personens personnummer." in response.content.decode()
    assert not Person.objects.filter(eidas_identifier=IDENTIFIER).exists()
    response = client.post(
        _url("access:person-new", world),
        _form(identity_kind="personal_number", personal_number="19850315-2343"),
    )
    assert response.status_code == 302
    assert Person.objects.get(personal_number="198503152343").eidas_identifier is None
    assert not Person.objects.filter(eidas_identifier=IDENTIFIER).exists()
    # A form without the radio (an older page) is about a personal number.
    form = _form(personal_number="19800101-1231", eidas_identifier="")
    del form["identity_kind"]
    assert client.post(_url("access:person-new", world), form).status_code == 302
    # A choice that is not offered.
    response = client.post(_url("access:person-new", world), _form(identity_kind="passport"))
    assert response.status_code == 400
    assert "Välj om personen har svenskt personnummer eller utländsk e-legitimation." in (
        response.content.decode()
    )


def test_the_same_identifier_finds_the_same_person(world: World) -> None:
    known = _foreign(given_name="Hans", surname="Müller")  # logged in before, with no access
    admin, other_admin = world.people["admin"], world.people["other_admin"]
    first = administration.person_add(
        employer=world.employer,
        actor=admin,
        eidas_identifier="de/se/1234567890",
        email="hans@example.de",
        administrator=True,
        user=False,
        reason="Ny",
    )
    second = administration.person_add(
        employer=world.other,
        actor=other_admin,
        eidas_identifier=IDENTIFIER,
        email="hans@example.de",
        administrator=False,
        user=True,
        reason="Ny",
    )
    assert first == second == known
    assert Person.objects.filter(eidas_identifier=IDENTIFIER).count() == 1
    assert can(known, Permission.ACCESS_MANAGE, employer=world.employer)
    # Twice at the same employer: refused, pointing at the person's page.
    with pytest.raises(ConflictError) as caught:
        administration.person_add(
            employer=world.employer,
            actor=admin,
            eidas_identifier=IDENTIFIER,
            email="",
            administrator=False,
            user=True,
            reason="Igen",
        )
    assert caught.value.code == "already-member"
    assert caught.value.extra == {"person": str(known.public_id)}
    response = logged_in(admin).post(_url("access:person-new", world), _form())
    assert response.status_code == 400
    assert "Personen har redan behörighet hos arbetsgivaren." in response.content.decode()
    assert _url("access:person", world, person_id=known.public_id) in response.content.decode()


def test_the_service_takes_one_identity_only(world: World) -> None:
    with pytest.raises(InvalidAccess, match="antingen personens personnummer eller"):
        administration.person_add(
            employer=world.employer,
            actor=world.people["admin"],
            personal_number="19850315-2343",
            eidas_identifier=IDENTIFIER,
            email="",
            administrator=True,
            user=False,
            reason="Ny",
        )
    with pytest.raises(InvalidAccess, match="Den andra delen av eIDAS-identiteten ska vara SE"):
        administration.person_add(
            employer=world.employer,
            actor=world.people["admin"],
            eidas_identifier="DE/FR/123",
            email="",
            administrator=True,
            user=False,
            reason="Ny",
        )
    assert not Person.objects.filter(personal_number="198503152343").exists()


# --- a foreign person at work -----------------------------------------------------------------


def test_a_foreign_person_with_a_grant_uses_the_e_service(world: World) -> None:
    hans = _foreign(given_name="Hans", surname="Müller")
    grant(membership(world.employer, hans, Role.USER, email="hans@example.de"))
    client = logged_in(hans)
    page = client.get(reverse("employers:employer", args=[world.employer.public_id]))
    assert page.status_code == 200
    assert "Sjukanmälan efter dag 14" in page.content.decode()
    eservice = client.get(
        reverse(
            "eservices:eservice",
            kwargs={"public_id": world.employer.public_id, "code": "sick_report"},
        )
    )
    assert eservice.status_code == 200
    assert can(hans, Permission.ESERVICE_SUBMIT, employer=world.employer, eservice="sick_report")
    # Not the ones they were not granted.
    other = client.get(
        reverse(
            "eservices:eservice",
            kwargs={"public_id": world.employer.public_id, "code": "inquiries"},
        )
    )
    assert other.status_code == 403


def test_a_foreign_administrator_manages_access(world: World) -> None:
    hans = _foreign(given_name="Hans", surname="Müller")
    membership(world.employer, hans, Role.ADMINISTRATOR, email="hans@example.de")
    client = logged_in(hans)
    assert client.get(_url("access:people", world)).status_code == 200
    response = client.post(
        _url("access:person-new", world),
        _form(eidas_identifier="FR/SE/ABCDEF123456", email="marie@example.fr"),
    )
    assert response.status_code == 302
    marie = Person.objects.get(eidas_identifier="FR/SE/ABCDEF123456")
    assert Membership.objects.get(person=marie).created_by == hans


def test_the_people_list_shows_and_finds_a_foreign_person(world: World) -> None:
    hans = _foreign(given_name="Hans", surname="Müller")
    membership(world.employer, hans, Role.USER)
    late = _foreign("FR/SE/ABCDEF123456")  # has not logged in yet: no name
    membership(world.employer, late, Role.USER)
    client = logged_in(world.people["admin"])
    page = client.get(_url("access:people", world)).content.decode()
    assert MASKED in page
    assert "Utländsk e-legitimation (FR), FR/SE/****3456" in page
    assert NATIONAL not in page
    assert "Personnummer eller e-legitimation" in page

    def found(query: str) -> list[str]:
        response = client.get(_url("access:people", world), {"q": query})
        assert response.status_code == 200
        body = response.content.decode()
        return [name for name in ("Hans", "FR/SE/****3456") if name in body]

    assert found(IDENTIFIER) == ["Hans"]
    assert found("de/se/1234567890") == ["Hans"]
    assert found("DE/SE/") == ["Hans"]
    assert found("4567") == ["Hans"]
    assert found("FR/SE/ABCDEF123456") == ["FR/SE/****3456"]
    assert found("Müller") == ["Hans"]
    # A name does not match the letters inside someone's identifier.
    assert found("ABCDEF") == []
    # The search text (an identifier) is not written to the audit log.
    assert NATIONAL not in _audit_text()


def test_the_activity_log_shows_a_foreign_person_masked_and_finds_them(world: World) -> None:
    administration.person_add(
        employer=world.employer,
        actor=world.people["admin"],
        eidas_identifier=IDENTIFIER,
        email="hans@example.de",
        administrator=False,
        user=True,
        reason="Ny",
    )
    client = logged_in(world.people["admin"])
    url = reverse("audit:activity", kwargs={"public_id": world.employer.public_id})
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert MASKED in body
    assert NATIONAL not in body
    searched = client.get(url, {"person": IDENTIFIER}).content.decode()
    assert MASKED in searched
    assert "Roll gavs" in searched


def test_the_review_and_removal_pages_show_a_foreign_person(world: World) -> None:
    late = _foreign()
    membership(world.employer, late, Role.USER)
    client = logged_in(world.people["admin"])
    review = client.get(reverse("access:review", kwargs={"public_id": world.employer.public_id}))
    assert review.status_code == 200
    assert MASKED in review.content.decode()
    remove = client.get(_url("access:person-remove-all", world, person_id=late.public_id))
    assert remove.status_code == 200
    assert MASKED in remove.content.decode()
    response = client.post(
        _url("access:person-remove-all", world, person_id=late.public_id),
        {"reason": "Slutat", "confirm": "on"},
        follow=True,
    )
    assert MASKED in response.content.decode()
    assert NATIONAL not in response.content.decode()


# --- the CSV import ---------------------------------------------------------------------------

HEADER = "personnummer;e-post;roll;e-tjänst;nivå;från;till;skäl"


def _upload(client: Client, world: World, *rows: str) -> AccessImport:
    data = "\n".join([HEADER, *rows]).encode()
    response = client.post(
        _url("access:import", world),
        {"file": SimpleUploadedFile("lista.csv", data, content_type="text/csv"), "reason": "Fil"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return AccessImport.objects.filter(employer=world.employer).latest("pk")


def test_a_file_adds_a_person_by_eidas_identifier(world: World) -> None:
    known = _foreign("FR/SE/ABCDEF123456", given_name="Marie")
    client = logged_in(world.people["admin"])
    access_import = _upload(
        client,
        world,
        "de/se/1234567890;hans@example.de;användare;sick_report;lämna;;;",
        "DE/SE/1234567890;;behörighetsadministratör;;;;;",
        "FR/SE/ABCDEF123456;marie@example.fr;användare;;;;;",
    )
    assert access_import.errors == []
    assert [row["changes"] for row in access_import.rows] == [
        ["new-person", "new-grant"],
        ["new-role"],
        ["new-person"],
    ]
    preview = client.get(_url("access:import-preview", world, import_id=access_import.public_id))
    assert "DE/SE/1234567890" in preview.content.decode()  # the administrator's own file
    applied = client.post(_url("access:import-apply", world, import_id=access_import.public_id))
    assert applied.status_code == 302
    hans = Person.objects.get(eidas_identifier=IDENTIFIER)
    assert sorted(
        Membership.objects.filter(person=hans, employer=world.employer).values_list(
            "role", flat=True
        )
    ) == [Role.ADMINISTRATOR, Role.USER]
    assert Grant.objects.get(membership__person=hans).eservice == "sick_report"
    assert Membership.objects.get(person=known).email == "marie@example.fr"
    assert Person.objects.filter(eidas_identifier__isnull=False).count() == 2
    assert NATIONAL not in _audit_text()
    # Exported and imported again: nothing changes.
    response = client.get(_url("access:export", world))
    export = b"".join(response.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    assert "DE/SE/1234567890;hans@example.de;användare;sick_report" in export
    hans.given_name = "Hans"  # logged in since
    hans.save()
    again = _upload(client, world, *export.strip().split("\r\n")[1:])
    assert again.errors == []
    assert all(row["changes"] == [] for row in again.rows)
    preview = client.get(_url("access:import-preview", world, import_id=again.public_id))
    assert "Hans" in preview.content.decode()
    assert "Marie" in preview.content.decode()


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("DE/NO/1234567890", "Den andra delen av eIDAS-identiteten ska vara SE"),
        ("SE/SE/1234567890", "En svensk e-legitimation har ingen eIDAS-identitet här."),
        ("DE/SE/", "Personens identitet efter DE/SE/ saknas."),
        ("DE/SE/12 34", "får bara innehålla bokstäverna A–Z"),
        ("", "Personnummer saknas."),
        ("19850315-2344", "Personnumret är inte giltigt."),
    ],
)
def test_a_bad_identifier_in_a_file_is_reported_on_its_row(
    world: World, cell: str, message: str
) -> None:
    access_import = _upload(
        logged_in(world.people["admin"]), world, f"{cell};x@example.de;användare;;;;;"
    )
    assert [(e["line"], e["column"]) for e in access_import.errors] == [(2, "personnummer")]
    assert message in access_import.errors[0]["message"]
