from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from portal.employers.register import (
    HttpRegister,
    InvalidEmployerId,
    RegisterUnavailable,
)
from tests.employers.register.conftest import (
    DELETE,
    Answer,
    FakeRegister,
    changed,
    problem,
    unavailable,
)
from tests.support.server import free_port

EXEMPELBOLAGET = "5599011235"
STYRELSEN = "5599023453"


def test_the_request_asks_for_json_by_the_normalised_number(
    fake_register: FakeRegister, http_register: HttpRegister
) -> None:
    company = http_register.lookup("16559901-1235")
    assert company is not None
    assert company.organisation_number == EXEMPELBOLAGET
    [request] = fake_register.requests
    assert request.path == f"/register/v1/organisations/{EXEMPELBOLAGET}"
    assert request.headers["Accept"] == "application/json"
    assert "Authorization" not in request.headers


def test_the_bearer_token_is_sent(fake_register: FakeRegister) -> None:
    fake_register.required_token = "s3cret-token"
    register = HttpRegister(fake_register.url, token="s3cret-token", timeout=10)
    try:
        assert register.lookup(EXEMPELBOLAGET) is not None
    finally:
        register.close()
    assert fake_register.requests[0].headers["Authorization"] == "Bearer s3cret-token"
    assert "s3cret-token" not in repr(register)


def test_a_refused_token_makes_the_register_unavailable(fake_register: FakeRegister) -> None:
    fake_register.required_token = "the-right-one"
    register = HttpRegister(fake_register.url, token="a-wrong-one", timeout=10)
    try:
        with unavailable("HTTP 401"):
            register.lookup(EXEMPELBOLAGET)
    finally:
        register.close()


def test_an_unknown_organisation_is_none(
    fake_register: FakeRegister, http_register: HttpRegister
) -> None:
    assert http_register.lookup("559999-9991") is None
    assert fake_register.requests[0].path.endswith("/5599999991")


def test_a_404_that_is_not_the_registers_json_makes_it_unavailable(
    fake_register: FakeRegister, http_register: HttpRegister
) -> None:
    fake_register.script(
        EXEMPELBOLAGET, Answer(404, b"<h1>Not Found</h1>", content_type="text/html")
    )
    with unavailable("404"):
        http_register.lookup(EXEMPELBOLAGET)


@pytest.mark.parametrize(
    "answer",
    [
        Answer(500, b'{"title": "Internal Server Error"}'),
        problem(500, "Internal Server Error"),
        Answer(502, b"<html>Bad Gateway</html>", content_type="text/html"),
        Answer(503, b"", content_type="text/plain"),
        problem(429, "Too Many Requests"),
        problem(400, "Bad Request"),
        Answer(302, b"", location="/elsewhere"),
        Answer(204, b""),
    ],
    ids=["500", "500-problem", "502-html", "503-empty", "429", "400", "302", "204"],
)
def test_other_statuses_make_the_register_unavailable(
    fake_register: FakeRegister, http_register: HttpRegister, answer: Answer
) -> None:
    fake_register.script(EXEMPELBOLAGET, answer)
    with pytest.raises(RegisterUnavailable) as caught:
        http_register.lookup(EXEMPELBOLAGET)
    assert f"HTTP {answer.status}" in caught.value.reason
    # Said to the person in Swedish; the reason is for the logs.
    assert "Försök igen" in str(caught.value)
    assert caught.value.status == 503


def test_a_slow_answer_is_given_up_on_after_the_timeout(fake_register: FakeRegister) -> None:
    fake_register.script(EXEMPELBOLAGET, Answer(body=b"{}", delay=30))
    register = HttpRegister(fake_register.url, timeout=0.3)
    started = time.monotonic()
    try:
        with unavailable("timeout"):
            register.lookup(EXEMPELBOLAGET)
    finally:
        register.close()
    assert time.monotonic() - started < 5


def test_no_answer_at_all_makes_the_register_unavailable() -> None:
    register = HttpRegister(f"http://127.0.0.1:{free_port()}/register/v1", timeout=1)
    try:
        with unavailable("cannot connect"):
            register.lookup(EXEMPELBOLAGET)
    finally:
        register.close()


def _mock_client(answers: list[Exception | httpx.Response]) -> tuple[httpx.Client, list[str]]:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.Client(transport=httpx.MockTransport(handler)), calls


def _organisation_json(number: str) -> dict[str, Any]:
    return FakeRegister().organisation(number)


def test_a_failed_connection_is_tried_once_more() -> None:
    client, calls = _mock_client(
        [
            httpx.ConnectError("refused"),
            httpx.Response(200, json=_organisation_json(EXEMPELBOLAGET)),
        ]
    )
    with client:
        company = HttpRegister("https://register.invalid/v1", client=client).lookup(EXEMPELBOLAGET)
    assert company is not None
    assert calls == [f"https://register.invalid/v1/organisations/{EXEMPELBOLAGET}"] * 2


def test_a_failed_connection_is_tried_only_once_more() -> None:
    client, calls = _mock_client([httpx.ConnectError("refused")] * 3)
    with client, unavailable("cannot connect"):
        HttpRegister("https://register.invalid/v1", client=client).lookup(EXEMPELBOLAGET)
    assert len(calls) == 2


@pytest.mark.parametrize(
    "error",
    [httpx.ReadTimeout("slow"), httpx.ConnectTimeout("slow"), httpx.RemoteProtocolError("bad")],
)
def test_other_transport_errors_are_not_retried(error: Exception) -> None:
    client, calls = _mock_client([error, httpx.Response(200)])
    with client, pytest.raises(RegisterUnavailable):
        HttpRegister("https://register.invalid/v1", client=client).lookup(EXEMPELBOLAGET)
    assert len(calls) == 1


def test_a_client_passed_in_is_left_open() -> None:
    client, _calls = _mock_client([httpx.Response(200, json=_organisation_json(EXEMPELBOLAGET))])
    register = HttpRegister("https://register.invalid/v1", client=client)
    register.close()
    assert not client.is_closed
    assert register.lookup(EXEMPELBOLAGET) is not None
    client.close()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"\xff\xfe{}", "application/json"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json"),
        (b'{"organisationNumber": "5599011235"}', "text/html"),
        (b"null", "application/json"),
        (b"[]", "application/json"),
    ],
    ids=["broken", "empty", "not-utf8", "nested", "html", "null", "array"],
)
def test_an_answer_that_is_not_a_json_object_makes_the_register_unavailable(
    fake_register: FakeRegister, http_register: HttpRegister, body: bytes, content_type: str
) -> None:
    fake_register.script(EXEMPELBOLAGET, Answer(body=body, content_type=content_type))
    with pytest.raises(RegisterUnavailable):
        http_register.lookup(EXEMPELBOLAGET)


@pytest.mark.parametrize("declare_length", [True, False])
def test_an_answer_larger_than_a_megabyte_is_refused(
    fake_register: FakeRegister, http_register: HttpRegister, declare_length: bool
) -> None:
    organisation = fake_register.organisation(EXEMPELBOLAGET)
    organisation["padding"] = "x" * 2_000_000
    fake_register.script(
        EXEMPELBOLAGET,
        Answer(body=json.dumps(organisation).encode(), declare_length=declare_length),
    )
    with unavailable("larger than allowed"):
        http_register.lookup(EXEMPELBOLAGET)


REQUIRED_FIELDS = [
    "organisationNumber",
    "name",
    "legalForm",
    "status",
    "registeredAsEmployer",
    "signatoryRule",
    "signatoryRule.description",
    "signatoryRule.jointlyRequired",
    "signatoryRule.signatories",
    "signatoryRule.signatories.0.personalNumber",
    "signatoryRule.signatories.0.name",
    "signatoryRule.signatories.0.signsAlone",
]


@pytest.mark.parametrize("field", REQUIRED_FIELDS)
def test_a_missing_field_makes_the_register_unavailable(
    fake_register: FakeRegister, http_register: HttpRegister, field: str
) -> None:
    fake_register.script_json(
        STYRELSEN, changed(fake_register.organisation(STYRELSEN), field, DELETE)
    )
    with pytest.raises(RegisterUnavailable) as caught:
        http_register.lookup(STYRELSEN)
    assert field.rsplit(".", maxsplit=1)[-1] in caught.value.reason


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("organisationNumber", 5599023453),
        ("name", ""),
        ("name", "   "),
        ("name", "A" * 1001),
        ("name", None),
        ("legalForm", "bolag"),
        ("legalForm", "Aktiebolag"),
        ("status", "dormant"),
        ("status", 1),
        ("registeredAsEmployer", "true"),
        ("registeredAsEmployer", 1),
        ("signatoryRule", []),
        ("signatoryRule.signatories", {}),
        ("signatoryRule.signatories.0", "198001011231"),
        ("signatoryRule.jointlyRequired", True),
        ("signatoryRule.jointlyRequired", "2"),
        ("signatoryRule.jointlyRequired", 2.0),
        ("signatoryRule.jointlyRequired", 4),
        ("signatoryRule.jointlyRequired", 1),
        ("signatoryRule.jointlyRequired", 0),
        ("signatoryRule.jointlyRequired", -2),
        ("signatoryRule.signatories.0.signsAlone", "no"),
        ("signatoryRule.description", 7),
    ],
)
def test_a_mistyped_or_impossible_field_makes_the_register_unavailable(
    fake_register: FakeRegister, http_register: HttpRegister, field: str, value: Any
) -> None:
    fake_register.script_json(
        STYRELSEN, changed(fake_register.organisation(STYRELSEN), field, value)
    )
    with pytest.raises(RegisterUnavailable):
        http_register.lookup(STYRELSEN)


@pytest.mark.parametrize(
    "personal_number",
    [
        "198001011232",  # wrong check digit
        "19800101-1231",  # not the contract's form
        "8001011231",  # ten digits
        "198013011231",  # month 13
        "168001011231",  # no one is born in the 1600s
        "",
        12,
        None,
    ],
)
def test_an_invalid_personal_number_in_the_answer_makes_the_register_unavailable(
    fake_register: FakeRegister, http_register: HttpRegister, personal_number: Any
) -> None:
    organisation = changed(
        fake_register.organisation(STYRELSEN),
        "signatoryRule.signatories.0.personalNumber",
        personal_number,
    )
    fake_register.script_json(STYRELSEN, organisation)
    with pytest.raises(RegisterUnavailable) as caught:
        http_register.lookup(STYRELSEN)
    assert "personalNumber" in caught.value.reason
    # The number itself stays out of the logs.
    if isinstance(personal_number, str) and personal_number:
        assert personal_number not in caught.value.reason


def test_the_same_signatory_twice_makes_the_register_unavailable(
    fake_register: FakeRegister, http_register: HttpRegister
) -> None:
    organisation = fake_register.organisation(STYRELSEN)
    signatories = organisation["signatoryRule"]["signatories"]
    signatories[1] = dict(signatories[0])
    fake_register.script_json(STYRELSEN, organisation)
    with unavailable("twice"):
        http_register.lookup(STYRELSEN)


def test_an_answer_about_another_organisation_makes_the_register_unavailable(
    fake_register: FakeRegister, http_register: HttpRegister
) -> None:
    fake_register.script_json(STYRELSEN, fake_register.organisation(EXEMPELBOLAGET))
    with unavailable("another organisation"):
        http_register.lookup(STYRELSEN)


def test_fields_the_register_adds_are_ignored(
    fake_register: FakeRegister, http_register: HttpRegister
) -> None:
    organisation = fake_register.organisation(STYRELSEN)
    organisation["registeredAt"] = "2024-01-01"
    organisation["signatoryRule"]["signatories"][0]["role"] = "ordförande"
    fake_register.script_json(STYRELSEN, organisation)
    company = http_register.lookup(STYRELSEN)
    assert company is not None
    assert company.signatory_rule.jointly_required == 2


def test_an_invalid_number_is_refused_before_the_register_is_asked(
    fake_register: FakeRegister, http_register: HttpRegister
) -> None:
    with pytest.raises(InvalidEmployerId):
        http_register.lookup("5599011236")
    with pytest.raises(InvalidEmployerId):
        http_register.lookup("../../admin")
    assert fake_register.requests == []


@pytest.mark.parametrize(
    ("url", "timeout"),
    [
        ("ftp://register.invalid", 5.0),
        ("register.invalid/v1", 5.0),
        ("http://", 5.0),
        ("", 5.0),
        ("https://r.invalid", 0),
    ],
)
def test_a_misconfigured_register_is_refused_at_once(url: str, timeout: float) -> None:
    with pytest.raises(ValueError, match="company register"):
        HttpRegister(url, timeout=timeout)
