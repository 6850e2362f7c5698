from __future__ import annotations

from django.test import Client

from portal.eservices.registry import all_eservices


def test_the_openapi_document_describes_the_api(client: Client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert document["info"]["version"] == "1"
    assert "/api/v1/status" in document["paths"]
    assert "get" in document["paths"]["/api/v1/status"]


def test_status_lists_every_eservice_and_the_planned_outages(client: Client, db: None) -> None:
    response = client.get("/api/v1/status")
    assert response.status_code == 200
    body = response.json()
    assert body["planned_outages"] == []
    assert [entry["code"] for entry in body["eservices"]] == [e.code for e in all_eservices()]
    assert {entry["status"] for entry in body["eservices"]} == {"open"}


def test_status_is_public_and_needs_no_session(client: Client, db: None) -> None:
    response = client.get("/api/v1/status")
    assert response.status_code == 200
    assert "sessionid" not in response.cookies


def test_the_api_docs_page_loads_its_scripts_from_here(client: Client) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
