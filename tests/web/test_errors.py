"""Bad requests get the right 4xx in Swedish (problem details under /api/), never a 500."""

from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path

from portal.common.errors import NotFoundError
from portal.config.urls import urlpatterns as portal_urlpatterns


def _crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("an unexpected bug with secret detail 19121212-1212")


def _domain_error(request: HttpRequest) -> HttpResponse:
    raise NotFoundError("Arbetsgivaren finns inte.")


urlpatterns = [
    path("crash/", _crash),
    path("api/crash/", _crash),
    path("domain-error/", _domain_error),
    *portal_urlpatterns,
]
handler500 = "portal.web.errors.server_error"


def test_an_unknown_page_gives_a_swedish_404(client: Client) -> None:
    response = client.get("/finns-inte/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Sidan finns inte" in html
    assert '<html lang="sv">' in html
    assert response["X-Request-ID"] in html


def test_an_unknown_page_in_english(client: Client) -> None:
    client.cookies["__Host-portal_language"] = "en"
    assert "Page not found" in client.get("/no-such-page/").content.decode()


def test_an_unknown_api_address_gives_problem_details(client: Client) -> None:
    response = client.get("/api/v1/finns-inte")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404
    assert body["type"].endswith("/not-found")
    assert body["instance"] == "/api/v1/finns-inte"
    assert body["request_id"] == response["X-Request-ID"]


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_a_wrong_method_on_a_page_gives_a_swedish_405(client: Client, method: str) -> None:
    response = getattr(client, method)("/villkor/")
    assert response.status_code == 405
    assert "Sidan kan inte användas så" in response.content.decode()
    assert response["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_a_wrong_method_in_the_api_gives_problem_details(client: Client, method: str) -> None:
    response = getattr(client, method)("/api/v1/status")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 405
    assert "GET" in response["Allow"]


def test_a_get_on_the_language_switch_gives_405(client: Client) -> None:
    assert client.get("/sprak/").status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "%",
        "%ZZ=%%",
        "a=%ff%fe",
        "a[]=1&a[]=2&&&==",
        "next=javascript:alert(1)",
        "x=" + "y" * 5000,
        "%00=%00",
    ],
)
def test_malformed_query_strings_never_break_a_page(client: Client, query: str) -> None:
    for page in ("/", "/driftstatus/", "/api/v1/status", "/readyz"):
        response = client.get(f"{page}?{query}")
        assert response.status_code == 200, (page, query)


def test_too_many_form_fields_is_a_400_not_a_500(client: Client) -> None:
    fields = "&".join(f"f{i}=1" for i in range(1500))
    response = client.post("/sprak/", fields, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "Begäran kunde inte tolkas" in response.content.decode()


def test_an_unknown_host_is_a_400(client: Client) -> None:
    response = client.get("/", headers={"host": "evil.example"})
    assert response.status_code == 400


def test_a_post_without_csrf_token_gets_a_swedish_explanation() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/sprak/", {"language": "en"})
    assert response.status_code == 403
    assert "Ladda om sidan och försök igen" in response.content.decode()


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_bug_shows_a_request_id_and_no_stack_trace(client: Client) -> None:
    client.raise_request_exception = False
    response = client.get("/crash/")
    html = response.content.decode()
    assert response.status_code == 500
    assert "Tekniskt fel" in html
    assert "kontakta Demomyndigheten på 0771-00 00 00" in html
    assert response["X-Request-ID"] in html
    assert "Traceback" not in html
    assert "RuntimeError" not in html
    assert "secret detail" not in html


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_bug_in_the_api_is_a_problem_document(client: Client) -> None:
    client.raise_request_exception = False
    response = client.get("/api/crash/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["request_id"] == response["X-Request-ID"]
    assert "secret detail" not in response.content.decode()


@override_settings(ROOT_URLCONF=__name__)
def test_a_domain_error_becomes_a_page_with_its_message(client: Client) -> None:
    response = client.get("/domain-error/")
    assert response.status_code == 404
    assert "Arbetsgivaren finns inte." in response.content.decode()
