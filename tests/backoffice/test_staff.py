"""Staff administration: a staff administrator grants and revokes staff roles in the back-office,
every change audited without a personal identity number, and the last staff administrator is
never removed. The back-office start page lists what the staff member's roles allow."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from portal.access.constants import STAFF_PERMISSIONS, STAFF_ROLES, Permission
from portal.access.services import can
from portal.audit.constants import EventType
from portal.audit.models import AuditEvent
from portal.backoffice.models import StaffRole
from portal.backoffice.services import (
    LastStaffAdministrator,
    RoleAlreadyActive,
    staff_role_grant,
    staff_role_revoke,
)
from portal.identity.models import Person
from tests.access.world import World, events
from tests.access.world import logged_in as client_for

pytestmark = pytest.mark.django_db

NEWCOMER = "199006223458"
NEWCOMER_WRITTEN = "900622-3458"


def assert_no_personal_numbers_in_the_log(*numbers: str) -> None:
    for event in AuditEvent.objects.all():
        written = json.dumps(event.data) + event.object_id
        for number in numbers:
            assert number not in written, f"{event.event_type} holds a personal number"
            assert number[2:] not in written, f"{event.event_type} holds a personal number"


def test_the_catalogue_knows_every_staff_role() -> None:
    assert set(STAFF_ROLES) == set(StaffRole.Role.values)
    assert set(STAFF_PERMISSIONS) == set(StaffRole.Role.values)
    for role in STAFF_ROLES:
        assert Permission.BACKOFFICE_HOME in STAFF_PERMISSIONS[role]
    holders = {
        r for r, perms in STAFF_PERMISSIONS.items() if Permission.BACKOFFICE_STAFF_MANAGE in perms
    }
    assert holders == {"staff_administrator"}


# --- the start page and the header -----------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "shown", "not_shown"),
    [
        (
            "case_worker",
            ["Sök arbetsgivare", "Sök person", "Anslutning på blankett"],
            ["Personal och roller"],
        ),
        (
            "partner_support",
            ["Sök arbetsgivare", "Sök person"],
            ["Personal och roller", "Anslutning på blankett"],
        ),
        ("auditor", ["Sök arbetsgivare", "Sök person"], ["Publicera villkor"]),
        ("terms_editor", ["Publicera villkor"], ["Sök person"]),
        ("staff_administrator", ["Personal och roller"], ["Sök arbetsgivare"]),
    ],
)
def test_the_start_page_lists_what_the_roles_allow(
    world: World, role: str, shown: list[str], not_shown: list[str]
) -> None:
    response = client_for(world.people[f"staff:{role}"]).get("/handlaggning/")
    assert response.status_code == 200
    page = response.content.decode()
    for title in shown:
        assert title in page
    for title in not_shown:
        assert title not in page


def test_the_start_page_is_for_staff_only(world: World) -> None:
    before = len(events(EventType.ACCESS_DENIED))
    assert client_for(world.people["admin"]).get("/handlaggning/").status_code == 403
    assert len(events(EventType.ACCESS_DENIED)) == before + 1
    assert Client().get("/handlaggning/").status_code == 302


def test_the_header_links_to_the_back_office_for_staff_only(world: World) -> None:
    staff_page = client_for(world.people["staff:operations"]).get("/hjalp/").content.decode()
    assert 'href="/handlaggning/"' in staff_page
    other_page = client_for(world.people["admin"]).get("/hjalp/").content.decode()
    assert 'href="/handlaggning/"' not in other_page
    home = client_for(world.people["staff:operations"]).get("/handlaggning/").content.decode()
    assert 'href="/handlaggning/" aria-current="page"' in home


def test_granting_and_revoking_changes_the_link_at_once(world: World) -> None:
    admin = client_for(world.people["staff:staff_administrator"])
    person = world.people["user_none"]
    assert 'href="/handlaggning/"' not in client_for(person).get("/hjalp/").content.decode()
    admin.post(
        "/handlaggning/personal/", {"personal_number": person.personal_number, "role": "auditor"}
    )
    assert 'href="/handlaggning/"' in client_for(person).get("/hjalp/").content.decode()
    admin.post(f"/handlaggning/personal/{person.public_id}/roller/auditor/ta-bort")
    assert 'href="/handlaggning/"' not in client_for(person).get("/hjalp/").content.decode()


def test_operations_and_editors_find_their_screens(world: World) -> None:
    operations = client_for(world.people["staff:operations"]).get("/handlaggning/")
    assert "Drift: avbrott och störningar" in operations.content.decode()
    editor = client_for(world.people["staff:terms_editor"]).get("/handlaggning/")
    assert "Meddelanden och instruktioner" in editor.content.decode()


def test_a_revoked_role_takes_the_link_away(world: World) -> None:
    person = world.people["staff:operations"]
    StaffRole.objects.filter(person=person).update(revoked_at="2026-01-01T00:00:00Z")
    page = client_for(person).get("/hjalp/").content.decode()
    assert 'href="/handlaggning/"' not in page


# --- the staff list and granting a role ------------------------------------------------------


def test_the_staff_administrator_sees_the_staff_and_the_read_is_recorded(world: World) -> None:
    admin = world.people["staff:staff_administrator"]
    page = client_for(admin).get("/handlaggning/personal/").content.decode()
    case_worker = world.people["staff:case_worker"]
    assert case_worker.full_name in page
    assert case_worker.masked_identifier in page
    assert case_worker.personal_number not in page
    assert "Handläggare" in page
    read = events(EventType.BACKOFFICE_STAFF_VIEWED)
    assert len(read) == 1
    assert read[0].actor == admin
    assert read[0].actor_kind == "staff"


@pytest.mark.parametrize("role", sorted(set(STAFF_ROLES) - {"staff_administrator"}))
def test_other_staff_cannot_administer_staff(world: World, role: str) -> None:
    client = client_for(world.people[f"staff:{role}"])
    before = len(events(EventType.ACCESS_DENIED))
    assert client.get("/handlaggning/personal/").status_code == 403
    response = client.post(
        "/handlaggning/personal/", {"personal_number": NEWCOMER, "role": "staff_administrator"}
    )
    assert response.status_code == 403
    assert len(events(EventType.ACCESS_DENIED)) == before + 2
    assert not StaffRole.objects.filter(person__personal_number=NEWCOMER).exists()


def test_granting_a_role_creates_the_person_and_is_audited(world: World) -> None:
    admin = world.people["staff:staff_administrator"]
    client = client_for(admin)
    response = client.post(
        "/handlaggning/personal/", {"personal_number": NEWCOMER_WRITTEN, "role": "partner_support"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/handlaggning/personal/"
    newcomer = Person.objects.get(personal_number=NEWCOMER)
    role = StaffRole.objects.get(person=newcomer, revoked_at__isnull=True)
    assert (role.role, role.granted_by) == ("partner_support", admin)
    [granted] = events(EventType.STAFF_ROLE_GRANTED)
    assert granted.actor == admin
    assert granted.object_id == str(newcomer.public_id)
    assert granted.data == {"role": "partner_support", "via": "backoffice"}
    page = client.get("/handlaggning/personal/").content.decode()
    assert "19900622-****" in page
    assert "fått rollen kundcenter för partner" in page
    assert can(newcomer, Permission.BACKOFFICE_PERSON_VIEW)
    assert_no_personal_numbers_in_the_log(NEWCOMER)


def test_granting_a_role_the_person_has_is_refused(world: World) -> None:
    client = client_for(world.people["staff:staff_administrator"])
    case_worker = world.people["staff:case_worker"]
    assert case_worker.personal_number is not None
    response = client.post(
        "/handlaggning/personal/",
        {"personal_number": case_worker.personal_number, "role": "case_worker"},
    )
    assert response.status_code == 400
    assert "Personen har redan rollen handläggare." in response.content.decode()
    assert StaffRole.objects.filter(person=case_worker, role="case_worker").count() == 1
    assert events(EventType.STAFF_ROLE_GRANTED) == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"personal_number": "", "role": "auditor"}, "Ange personnumret."),
        ({"personal_number": "19900622-3459", "role": "auditor"}, "Personnumret är inte giltigt."),
        ({"personal_number": NEWCOMER}, "Välj en roll."),
        ({"personal_number": NEWCOMER, "role": "owner"}, "Välj ett giltigt alternativ"),
    ],
)
def test_a_grant_needs_a_valid_number_and_role(
    world: World, data: dict[str, str], message: str
) -> None:
    client = client_for(world.people["staff:staff_administrator"])
    response = client.post("/handlaggning/personal/", data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert "Det finns fel i formuläret" in page
    assert not StaffRole.objects.filter(person__personal_number=NEWCOMER).exists()


def test_the_command_grants_through_the_service(world: World) -> None:
    out = io.StringIO()
    call_command("staff_grant", NEWCOMER_WRITTEN, "auditor", stdout=out)
    call_command("staff_grant", NEWCOMER, "auditor", "operations", "auditor", stdout=out)
    assert out.getvalue().splitlines() == [
        "19900622-****: auditor granted.",
        "19900622-****: auditor already held.",
        "19900622-****: operations granted.",
    ]
    granted = events(EventType.STAFF_ROLE_GRANTED)
    assert [(event.actor, event.actor_kind) for event in granted] == [(None, "system")] * 2
    assert [event.data for event in granted] == [
        {"role": "auditor", "via": "command"},
        {"role": "operations", "via": "command"},
    ]
    assert set(
        StaffRole.objects.filter(person__personal_number=NEWCOMER).values_list("role", flat=True)
    ) == {"auditor", "operations"}
    assert_no_personal_numbers_in_the_log(NEWCOMER)


def test_the_command_refuses_an_unknown_role_and_grants_nothing(world: World) -> None:
    with pytest.raises(CommandError, match="invalid choice: 'chef'"):
        call_command("staff_grant", NEWCOMER, "auditor", "chef")
    assert not StaffRole.objects.filter(person__personal_number=NEWCOMER).exists()


def test_the_service_refuses_a_role_held_already(world: World) -> None:
    staff_role_grant(personal_number=NEWCOMER, role="auditor", actor=None)
    with pytest.raises(RoleAlreadyActive):
        staff_role_grant(personal_number=NEWCOMER_WRITTEN, role="auditor", actor=None)
    assert StaffRole.objects.filter(person__personal_number=NEWCOMER).count() == 1


# --- revoking a role -------------------------------------------------------------------------


def test_revoking_asks_first_then_ends_the_role_at_once(world: World) -> None:
    admin = world.people["staff:staff_administrator"]
    client = client_for(admin)
    case_worker = world.people["staff:case_worker"]
    path = f"/handlaggning/personal/{case_worker.public_id}/roller/case_worker/ta-bort"
    confirm = client.get(path)
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert "Vill du ta bort rollen handläggare" in page
    assert case_worker.masked_identifier in page
    assert StaffRole.objects.get(person=case_worker).revoked_at is None
    assert can(case_worker, Permission.BACKOFFICE_EMPLOYER_VIEW)

    response = client.post(path)
    assert response.status_code == 302
    assert StaffRole.objects.get(person=case_worker).revoked_at is not None
    assert not can(case_worker, Permission.BACKOFFICE_EMPLOYER_VIEW)
    assert client_for(case_worker).get("/handlaggning/arbetsgivare/").status_code == 403
    [revoked] = events(EventType.STAFF_ROLE_REVOKED)
    assert revoked.actor == admin
    assert revoked.object_id == str(case_worker.public_id)
    assert revoked.data == {"role": "case_worker", "own": False}
    # Gone from the list, and a second revocation finds nothing.
    assert client.post(path).status_code == 404
    assert client.get(path).status_code == 404
    assert case_worker.personal_number is not None
    assert_no_personal_numbers_in_the_log(case_worker.personal_number)


def test_an_unknown_role_or_person_is_not_found(world: World) -> None:
    client = client_for(world.people["staff:staff_administrator"])
    case_worker = world.people["staff:case_worker"]
    assert (
        client.get(
            f"/handlaggning/personal/{case_worker.public_id}/roller/owner/ta-bort"
        ).status_code
        == 404
    )
    assert (
        client.get(
            f"/handlaggning/personal/{case_worker.public_id}/roller/auditor/ta-bort"
        ).status_code
        == 404
    )


def test_the_last_staff_administrator_cannot_revoke_their_own_role(world: World) -> None:
    admin = world.people["staff:staff_administrator"]
    client = client_for(admin)
    path = f"/handlaggning/personal/{admin.public_id}/roller/staff_administrator/ta-bort"
    assert "Det är din egen roll" in client.get(path).content.decode()
    response = client.post(path, follow=True)
    page = response.content.decode()
    assert "Du kan inte ta bort den sista administratören för personal." in page
    assert StaffRole.objects.get(person=admin).revoked_at is None
    assert events(EventType.STAFF_ROLE_REVOKED) == []
    with pytest.raises(LastStaffAdministrator):
        staff_role_revoke(person=admin, role="staff_administrator", actor=admin)


def test_with_another_administrator_one_may_step_down(world: World) -> None:
    admin = world.people["staff:staff_administrator"]
    staff_role_grant(personal_number=NEWCOMER, role="staff_administrator", actor=admin)
    client = client_for(admin)
    path = f"/handlaggning/personal/{admin.public_id}/roller/staff_administrator/ta-bort"
    assert client.post(path).status_code == 302
    assert not can(admin, Permission.BACKOFFICE_STAFF_MANAGE)
    [revoked] = events(EventType.STAFF_ROLE_REVOKED)
    assert revoked.data == {"role": "staff_administrator", "own": True}
    # The one left is now the last.
    newcomer = Person.objects.get(personal_number=NEWCOMER)
    with pytest.raises(LastStaffAdministrator):
        staff_role_revoke(person=newcomer, role="staff_administrator", actor=newcomer)
    assert client.get("/handlaggning/personal/").status_code == 403


def test_each_screen_is_listed_once() -> None:
    from portal.backoffice.screens import SCREENS  # noqa: PLC0415

    names = [screen.url_name for screen in SCREENS]
    assert len(names) == len(set(names))
