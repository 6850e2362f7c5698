"""The company register over its HTTP API (JSON over https).

The contract
============

One call::

    GET {base_url}/organisations/{number}
    Accept: application/json
    Authorization: Bearer {token}          (only when a token is configured)

``{number}`` is ten digits for an organisation, or a sole trader's twelve-digit personal number,
never with a hyphen. Answers:

``200 OK``, ``Content-Type: application/json``, the organisation::

    {
        "organisationNumber": "5599023453",
        "name": "Demostyrelsen i Umeå AB",
        "legalForm": "aktiebolag",
        "status": "active",
        "registeredAsEmployer": true,
        "signatoryRule": {
            "description": "Firman tecknas av styrelsen. Firman tecknas två i förening av ledamöterna.",
            "jointlyRequired": 2,
            "signatories": [
                {"personalNumber": "198001011231", "name": "Astrid Demosson", "signsAlone": false},
                {
                    "personalNumber": "198503152343",
                    "name": "Bertil Exempelberg",
                    "signsAlone": false,
                },
                {
                    "personalNumber": "199006223458",
                    "name": "Cecilia Provström",
                    "signsAlone": false,
                },
            ],
        },
    }

- ``organisationNumber``: the number asked for, in the same form.
- ``legalForm``: ``aktiebolag``, ``handelsbolag``, ``kommanditbolag``, ``enskild_naringsidkare``,
  ``ekonomisk_forening``, ``ideell_forening``, ``stiftelse`` or ``other``.
- ``status``: ``active``, ``in_liquidation``, ``in_bankruptcy`` or ``struck_off``.
- ``registeredAsEmployer``: registered with Skatteverket as an employer.
- ``signatoryRule.signatories[].personalNumber``: twelve digits (coordination numbers too).
  ``signsAlone``: the person signs on their own. ``jointlyRequired``: how many of those who do not
  sign alone must sign together; 0 if everyone signs alone, else 2 up to their number.
- ``signatoryRule.description``: the register's wording, in Swedish, shown as it stands.
- Other fields may be added by the register and are ignored.

``404 Not Found`` with a JSON body (RFC 9457 problem details, ``application/problem+json``): no
such organisation; ``lookup`` returns ``None``.

Anything else makes ``lookup`` raise ``RegisterUnavailable``: another status (401/403 mean our
token is wrong, 429 and 5xx that the register is struggling, 3xx is not followed), a 404 that is
not JSON (a proxy or a wrong base URL answered, not the register: saying "no such company" then
would be a lie), an answer that is not JSON or is larger than 1 MB, a missing or mistyped field, an
invalid personal or organisation number, or an answer about another organisation.

Timing: the connection must be made within 3 seconds (or ``timeout`` if shorter), no other wait
lasts longer than ``timeout`` seconds, and an answer still arriving ``timeout`` seconds after the
call began is given up on. A failed connection is tried once more, at once (nothing has reached the
register yet, and GET is safe to repeat); a timeout is not, since the person is waiting.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import structlog

from portal.employers.register.base import (
    Company,
    RegisterUnavailable,
    normalise_employer_id,
    parse_company,
)

logger = structlog.get_logger(__name__)

_CONNECT_TIMEOUT = 3.0
_MAX_ANSWER_BYTES = 1_000_000
_ATTEMPTS_ON_CONNECT_ERROR = 2
#: What ``_decode`` returns for a body that is not JSON (None would be the JSON ``null``).
_NOT_JSON: Any = object()


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


class HttpRegister:
    """``CompanyRegister`` over the register's HTTP API (the contract: the module docstring).

    Pass ``client`` to share a connection pool or to test with a mock transport; it is then the
    caller's to close. Otherwise the register owns its client: ``close()`` it when done.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str = "",
        timeout: float = 5.0,
        client: httpx.Client | None = None,
    ) -> None:
        try:
            url = httpx.URL(base_url)
        except httpx.InvalidURL:
            url = httpx.URL()
        if url.scheme not in {"http", "https"} or not url.host:
            raise ValueError("the company register's URL must be an http(s) URL")
        if timeout <= 0:
            raise ValueError("the company register's timeout must be positive")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, _CONNECT_TIMEOUT))
        self._headers = {"Accept": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._owns_client = client is None
        self._http = client if client is not None else httpx.Client(follow_redirects=False)

    def __repr__(self) -> str:
        # Never the token.
        return f"HttpRegister({self.base_url!r}, timeout={self.timeout})"

    def close(self) -> None:
        if self._owns_client:
            self._http.close()

    def lookup(self, organisation_number: str) -> Company | None:
        number = normalise_employer_id(organisation_number)
        status, content_type, body = self._get(f"{self.base_url}/organisations/{number}")
        if status == httpx.codes.NOT_FOUND:
            if not _is_json(content_type) or self._decode(body) is _NOT_JSON:
                raise self._unavailable("a 404 that is not the register's JSON", status=status)
            return None
        if status != httpx.codes.OK:
            raise self._unavailable("unexpected status", status=status)
        if not _is_json(content_type):
            raise self._unavailable(f"content type {content_type[:60]!r}", status=status)
        data = self._decode(body)
        if data is _NOT_JSON:
            raise self._unavailable("an answer that is not JSON", status=status)
        try:
            company = parse_company(data)
        except ValueError as error:
            raise self._unavailable(str(error), status=status) from None
        if company.organisation_number != number:
            raise self._unavailable("an answer about another organisation", status=status)
        return company

    # --- plumbing ------------------------------------------------------------------------------
    def _get(self, url: str) -> tuple[int, str, bytes]:
        attempt = 1
        while True:
            started = time.monotonic()
            try:
                with self._http.stream(
                    "GET", url, headers=self._headers, timeout=self._timeout
                ) as response:
                    body = self._read(response, deadline=started + self.timeout)
            except httpx.ConnectError as error:
                if attempt >= _ATTEMPTS_ON_CONNECT_ERROR:
                    raise self._unavailable(f"cannot connect: {type(error).__name__}") from None
                attempt += 1
                logger.warning("company_register_retry", reason=type(error).__name__)
                continue
            except httpx.TimeoutException as error:
                raise self._unavailable(f"timeout: {type(error).__name__}") from None
            except httpx.HTTPError as error:
                raise self._unavailable(f"transport: {type(error).__name__}") from None
            logger.info(
                "company_register_call",
                status=response.status_code,
                duration_ms=round((time.monotonic() - started) * 1000, 1),
                attempt=attempt,
            )
            return response.status_code, response.headers.get("Content-Type", ""), body

    def _read(self, response: httpx.Response, *, deadline: float) -> bytes:
        # httpx bounds each read, not the whole answer: a register trickling bytes would hold
        # the person's request for ever, and an endless answer would fill the memory.
        declared = response.headers.get("Content-Length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > _MAX_ANSWER_BYTES:
            raise self._unavailable("an answer larger than allowed", status=response.status_code)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > _MAX_ANSWER_BYTES:
                raise self._unavailable(
                    "an answer larger than allowed", status=response.status_code
                )
            if time.monotonic() > deadline:
                raise self._unavailable("timeout: the answer took too long")
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _decode(body: bytes) -> Any:
        try:
            return json.loads(body)
        # RecursionError: deeply nested arrays are valid JSON that json cannot read.
        except (ValueError, RecursionError):
            return _NOT_JSON

    def _unavailable(self, reason: str, *, status: int | None = None) -> RegisterUnavailable:
        logger.warning("company_register_unavailable", reason=reason, status=status)
        return RegisterUnavailable(reason if status is None else f"{reason} (HTTP {status})")
