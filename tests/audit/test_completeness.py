"""Completeness of the audit log (R14): nothing changes, and no personal data is read, without an
event.

Two tests: every service function that writes to the database reaches ``audit.record`` (read from
the source: a function records if it calls ``record`` or a function of the service modules that
does); and every page and API operation that a logged-in person or staff member may GET either
records an event when requested, or is on the short list below with the reason it needs none.
Adding a writing service or a page that does neither fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from portal.audit.models import AuditEvent
from portal.common.routes import AUTHENTICATED, PUBLIC, access_of
from tests.access.test_route_matrix import ALLOWED, _path, _routes, api_allowed
from tests.access.world import build_world

SRC = Path(__file__).resolve().parents[2] / "src" / "portal"
SERVICE_MODULES = [
    "access/administration.py",
    "access/csv_io.py",
    "access/reviews.py",
    "access/services.py",
    "announcements/services.py",
    "audit/services.py",
    "backoffice/services.py",
    "employers/deregistration.py",
    "employers/paper.py",
    "employers/services.py",
    "employers/state.py",
    "employers/termination.py",
    "eservices/attachments.py",
    "eservices/framework.py",
    "eservices/inquiries/services.py",
    "eservices/intake.py",
    "identity/services.py",
    "identity/signing.py",
    "messaging/services.py",
    "privacy/extract.py",
    "privacy/retention.py",
    "notices/services.py",
    "notices/subscriptions.py",
    "terms/services.py",
]
#: What a call looks like when it writes to the database.
WRITES = {"create", "save", "update", "bulk_create", "delete", "get_or_create", "update_or_create"}
#: Writing functions that record nothing themselves, and why that is right.
WRITES_WITHOUT_EVENT = {
    # The outbox is part of the caller's change, whose service records the event.
    "outbox_enqueue": "part of the caller's change, which its service records",
    "outbox_flush": "housekeeping of the mail queue (re-queues messages already recorded)",
    "_person_from_identity": "part of the login, which is recorded",
    "draft_save": "the person's own unsent draft; sending it is recorded",
    "intake_publish": "numbering the feed's outbox; each submission is recorded when received",
    "attach_to_submission": "part of receiving a submission, which is recorded",
    "attachments_purge": "part of the drafts' purge, which is recorded with the count",
    "_write": "writes an upload's file (a hash's update, not the database); its service records",
}


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {
        node.name: node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("test")
    }


def _called_names(function: ast.FunctionDef) -> set[str]:
    names = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            target = node.func
            if isinstance(target, ast.Attribute):
                names.add(target.attr)
            elif isinstance(target, ast.Name):
                names.add(target.id)
    return names


def test_every_writing_service_records_an_event() -> None:
    functions: dict[str, ast.FunctionDef] = {}
    for module in SERVICE_MODULES:
        functions.update(_functions(ast.parse((SRC / module).read_text())))
    calls = {name: _called_names(function) for name, function in functions.items()}
    records = {"record"}
    changed = True
    while changed:  # who reaches record(), through the service modules' own functions
        changed = False
        for name, called in calls.items():
            if name not in records and called & records:
                records.add(name)
                changed = True
    silent = sorted(
        name
        for name, called in calls.items()
        if called & WRITES and name not in records and name not in WRITES_WITHOUT_EVENT
    )
    assert silent == [], "service functions that write without recording an event"
    assert {
        "person_add",
        "grant_set",
        "grant_revoke",
        "access_remove_all",
        "terms_publish",
    } <= records


def test_the_allow_list_names_real_functions() -> None:
    functions: set[str] = set()
    for module in SERVICE_MODULES:
        functions |= set(_functions(ast.parse((SRC / module).read_text())))
    assert set(WRITES_WITHOUT_EVENT) <= functions, set(WRITES_WITHOUT_EVENT) - functions


#: Pages a person may GET that record nothing, and why.
READS_WITHOUT_EVENT = {
    "identity:account": "the person's own account",
    "identity:logout": "POST only",
    "identity:logout-everywhere": "POST only",
    "employers:start": "a redirect",
    "employers:overview": "the person's own employers",
    "employers:enrol": "a form",
    "employers:enrol-details": "the company register's public facts",
    "employers:enrolment": "the person's own enrolment",
    "employers:enrolment-sign": "POST only",
    "employers:deregistration": "the person's own letter",
    "employers:deregister": "a form",
    "eservices:eservice": "records when it lists submissions (none in this world)",
    "eservices:new": "a form (the person's own draft)",
    "eservices:check": "the person's own draft (redirects to the form without one)",
    "eservices:correct": "POST only",
    "eservices:submission": "records (tested in tests/eservices); no submission in this world",
    "eservices:withdraw": "records (tested in tests/eservices); no submission in this world",
    "eservices:submission-pdf": "records (tested in tests/eservices); no submission in this world",
    "terms:notice": "the terms",
    "access:person-new": "a form",
    "access:person-role": "POST only",
    "access:person-email": "POST only",
    "access:person-grant": "POST only",
    "access:grant-revoke": "POST only",
    "access:import": "a form",
    "access:import-template": "a blank file",
    "access:import-apply": "POST only",
    "access:import-discard": "POST only",
    "access:import-preview": "the administrator's own upload (recorded when uploaded)",
    "backoffice:publish-terms": "a form",
    "backoffice:announcements": "the agency's own announcements; no one's personal data",
    "backoffice:announcement": "the agency's own announcement and its versions",
    "backoffice:announcement-new": "a form",
    "backoffice:announcement-revise": "a form (the agency's own announcement)",
    "backoffice:announcement-withdraw": "a confirmation (the agency's own announcement)",
    "backoffice:paper-enrolments": "a form",
    "backoffice:lookup": "a search form (the look-up itself is recorded)",
    "backoffice:terminate": "POST only",
    "backoffice:withdraw": "POST only",
    "backoffice:register-deregistration": "POST only",
    "backoffice:release-deregistration": "POST only",
    "api-v1:access_person_add": "POST only",
    "api-v1:access_grant_set": "POST only",
    "api-v1:access_grant_revoke": "DELETE only",
    "api-v1:access_role_add": "POST only",
    "api-v1:access_role_end": "DELETE only",
    "api-v1:access_remove_all": "DELETE only",
    "api-v1:eservice_submit": "POST only",
    "api-v1:eservice_attachment_upload": "POST only",
    "api-v1:intake_messages": "records (tests/eservices/test_intake.py); needs a client credential",
    "api-v1:intake_acknowledge": "POST only",
    "api-v1:eservice_submission": "records (tests/api/test_eservices_api.py); none in this world",
    "api-v1:intake_inquiry_create": "POST only",
    "api-v1:intake_inquiry": "records (tests/eservices/test_inquiries.py); needs a client credential",
    "eservices:inquiry": "records (tests/eservices/test_inquiries.py); no inquiry in this world",
    "eservices:inquiry-check": "records (tests/eservices/test_inquiries.py); no inquiry here",
    "backoffice:inquiry-new": "a form (the employer's page records the read)",
    "backoffice:home": "the staff member's own screens and roles",
    "backoffice:person-lookup": "a search form (the look-up itself is recorded)",
    "backoffice:staff-revoke": "a confirmation; none in this world (tests/backoffice/test_staff.py)",
    "backoffice:confirmation-resend": "POST only",
    "backoffice:availability": "planned outages and incidents: no personal data",
    "backoffice:outage-new": "a form",
    "backoffice:outage-cancel": "POST only",
    "backoffice:incident-new": "a form",
    "backoffice:incident-close": "POST only",
    "notices:subscription": "the administrator's own subscription and address",
    "backoffice:employer": "asks for a reason first and shows nothing; with one it records the "
    "read with the reason (tests/backoffice/test_support.py)",
    "privacy:my-data": "explains the register extract; shows no personal data",
    "eservices:attachment": "records (tests/eservices/test_work_aids.py); none in this world",
}


def _reads() -> list[str]:
    names = []
    for _route, name, callback in _routes():
        declared = "api" if name.startswith("api-v1:") else access_of(callback)
        if declared != PUBLIC:
            names.append(name)
    return sorted(set(names))


def _case_documents(world: Any) -> dict[str, str]:
    """Real objects for the pages about a case rather than an employer."""
    from datetime import timedelta  # noqa: PLC0415

    from django.utils import timezone  # noqa: PLC0415

    from portal.employers.models import DeregistrationRequest, Enrolment  # noqa: PLC0415
    from portal.terms.models import TermsVersion  # noqa: PLC0415

    letter = DeregistrationRequest.objects.create(
        employer=world.employer,
        channel="paper",
        received_on=timezone.localdate(),
    )
    terms = TermsVersion.objects.create(
        version="matris",
        title_sv="t",
        title_en="t",
        text_sv="t",
        text_en="t",
        published_at=timezone.now(),
        effective_from=timezone.localdate(),
    )
    paper = Enrolment.objects.create(
        employer=world.other,
        channel=Enrolment.Channel.PAPER,
        terms_version=terms,
        administrator_personal_number="191212121212",
        administrator_email="a@example.se",
        expires_at=timezone.now() + timedelta(days=30),
    )
    return {
        "backoffice:deregistration-letter": str(letter.public_id),
        "backoffice:paper-enrolment": str(paper.public_id),
    }


@pytest.mark.parametrize("name", _reads())
def test_every_read_of_personal_data_is_recorded(name: str, db: Any) -> None:
    world = build_world()
    documents = _case_documents(world)
    for route, route_name, callback in _routes():
        if route_name != name:
            continue
        if name in READS_WITHOUT_EVENT:
            return
        declared = "api" if name.startswith("api-v1:") else str(access_of(callback))
        if declared == AUTHENTICATED:
            actor = "admin"
        else:
            allowed = api_allowed(name, "get") if declared == "api" else ALLOWED[declared]
            actor = min(allowed)
        client = Client()
        client.force_login(world.people[actor])
        before = AuditEvent.objects.count()
        path = _path(route, name, world)
        if name in documents:
            path = "/" + route.replace("<uuid:public_id>", documents[name])
        response = client.get(path)
        recorded = AuditEvent.objects.count() > before
        assert response.status_code < 400, f"{name}: {response.status_code}"
        assert recorded, f"GET {name} as {actor} read data without recording it"
