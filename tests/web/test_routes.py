"""Fail closed: every route declares who may reach it, or the suite fails."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from portal.common.routes import AUTHENTICATED, PUBLIC, access_of

# The API's routes are declared per operation in django-ninja (auth=...); its public operations
# are listed here by name, and every other API operation must carry an authentication.
PUBLIC_API_OPERATIONS = {
    "api-v1:api-root",
    "api-v1:status",
    "api-v1:openapi-json",
    "api-v1:openapi-view",
    "api-v1:audit_tree_head",
    "api-v1:audit_inclusion_proof",
    "api-v1:audit_consistency_proof",
}


def _walk(
    patterns: list[Any], prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, Any]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = (
                f"{namespace}:{entry.namespace}"
                if namespace and entry.namespace
                else entry.namespace or namespace
            )
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace else entry.name or ""
            yield prefix + str(entry.pattern), name, entry.callback


def test_every_route_declares_its_access() -> None:
    undeclared = []
    for route, name, callback in _walk(get_resolver().url_patterns):
        if name.startswith("api-v1:"):
            continue
        if access_of(callback) is None:
            undeclared.append(f"{route} ({name})")
    assert undeclared == [], "routes that declare neither public nor a permission"


def test_the_public_pages_are_the_ones_we_meant() -> None:
    public = {
        name
        for _route, name, callback in _walk(get_resolver().url_patterns)
        if access_of(callback) == PUBLIC
    }
    assert public == {
        "home",
        "terms:current",
        "terms:compare",
        "terms:version",
        "accessibility",
        "technical-requirements",
        "help",
        "status",
        "announcements:archive",
        "announcements:feed",
        "status-calendar",
        "status-feed",
        "set-language",
        "healthz",
        "readyz",
        "metrics",
        "identity:login",
        "identity:start",
        "identity:callback",
        "identity:saml-metadata",
        "identity:oidc-jwks",
        "identity:order",
        "identity:order-status",
        "identity:order-cancel",
    }


def test_the_pages_for_logged_in_people_are_the_ones_we_meant() -> None:
    logged_in = {
        name
        for _route, name, callback in _walk(get_resolver().url_patterns)
        if access_of(callback) == AUTHENTICATED
    }
    assert logged_in == {
        "identity:logout",
        "identity:logout-everywhere",
        "identity:account",
        "employers:start",
        "employers:overview",
        "employers:enrol",
        "employers:enrol-details",
        "employers:enrolment",
        "employers:enrolment-sign",
        "employers:deregistration",
        "privacy:my-data",
        "privacy:extract-json",
        "privacy:extract-pdf",
    }


def test_the_pages_that_check_a_permission_are_the_ones_we_meant() -> None:
    declared = {
        name: access_of(callback)
        for _route, name, callback in _walk(get_resolver().url_patterns)
        if access_of(callback) not in {PUBLIC, AUTHENTICATED, None}
    }
    assert declared == {
        "employers:employer": "employers:employer:view",
        "employers:deregister": "employers:employer:deregister",
        "terms:notice": "terms:acceptance:create",
        "access:people": "access:membership:view",
        "access:person": "access:membership:view",
        "access:export": "access:membership:view",
        "access:person-new": "access:membership:manage",
        "access:person-role": "access:membership:manage",
        "access:person-email": "access:membership:manage",
        "access:person-grant": "access:membership:manage",
        "access:grant-revoke": "access:membership:manage",
        "access:person-remove-all": "access:membership:manage",
        "access:import": "access:membership:manage",
        "access:import-template": "access:membership:manage",
        "access:import-preview": "access:membership:manage",
        "access:import-apply": "access:membership:manage",
        "access:import-discard": "access:membership:manage",
        "access:review": "access:membership:manage",
        "audit:activity": "audit:event:view",
        "audit:activity-export": "audit:event:view",
        "eservices:eservice": "eservices:eservice:view",
        "eservices:submission": "eservices:eservice:view",
        "eservices:submission-pdf": "eservices:eservice:view",
        "eservices:attachment": "eservices:eservice:view",
        "eservices:new": "eservices:eservice:submit",
        "eservices:check": "eservices:eservice:submit",
        "eservices:correct": "eservices:eservice:submit",
        "eservices:withdraw": "eservices:eservice:submit",
        "eservices:inquiry": "eservices:eservice:submit",
        "eservices:inquiry-check": "eservices:eservice:submit",
        "backoffice:lookup": "backoffice:employer:view",
        "backoffice:employer": "backoffice:employer:view",
        "backoffice:terminate": "backoffice:employer:terminate",
        "backoffice:withdraw": "backoffice:employer:terminate",
        "backoffice:register-deregistration": "backoffice:deregistration:register",
        "backoffice:release-deregistration": "backoffice:deregistration:register",
        "backoffice:deregistration-letter": "backoffice:employer:view",
        "backoffice:queues": "backoffice:queue:view",
        "backoffice:paper-enrolments": "backoffice:enrolment:register",
        "backoffice:paper-enrolment": "backoffice:enrolment:approve",
        "backoffice:publish-terms": "backoffice:terms:publish",
        "backoffice:announcements": "backoffice:announcement:publish",
        "backoffice:announcement-new": "backoffice:announcement:publish",
        "backoffice:announcement": "backoffice:announcement:publish",
        "backoffice:announcement-revise": "backoffice:announcement:publish",
        "backoffice:announcement-withdraw": "backoffice:announcement:publish",
        "backoffice:inquiry-new": "backoffice:inquiry:create",
        "backoffice:home": "backoffice:home:view",
        "backoffice:staff": "backoffice:staff:manage",
        "backoffice:staff-revoke": "backoffice:staff:manage",
        "backoffice:person-lookup": "backoffice:person:view",
        "backoffice:confirmation-resend": "backoffice:confirmation:resend",
        "backoffice:availability": "backoffice:availability:manage",
        "backoffice:outage-new": "backoffice:availability:manage",
        "backoffice:outage-cancel": "backoffice:availability:manage",
        "backoffice:incident-new": "backoffice:availability:manage",
        "backoffice:incident-close": "backoffice:availability:manage",
        "notices:subscription": "access:membership:manage",
    }


def test_every_api_operation_requires_a_session_unless_listed_public() -> None:
    """The API is authenticated by default (``NinjaAPI(auth=...)``); an operation that opts out
    must be on the public list. The OpenAPI document says which ones require a session."""
    from portal.api.v1 import api  # noqa: PLC0415

    schema = api.get_openapi_schema()
    unsecured = {
        operation["operationId"]
        for methods in schema["paths"].values()
        for operation in methods.values()
        if not operation.get("security")
    }
    # ninja names an operation without an explicit operation_id after its module and function.
    assert unsecured == {
        "portal_api_v1_status",
        "audit_tree_head",
        "audit_inclusion_proof",
        "audit_consistency_proof",
    }
    assert any(o.get("security") for m in schema["paths"].values() for o in m.values())
