"""A fake business register: an HTTP server on 127.0.0.1 speaking the contract of
``portal.employers.register.http``, serving the companies of the shipped fictional file.

Tests change single answers with ``FakeRegister.script`` and read what the adapter sent from
``FakeRegister.requests``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from portal.employers.register import SHIPPED_FILE, HttpRegister, RegisterUnavailable

BASE_PATH = "/register/v1"


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    #: Seconds to wait before answering (cut short when the test ends).
    delay: float = 0.0
    location: str = ""
    #: Without Content-Length the body runs until the connection closes (HTTP/1.0).
    declare_length: bool = True


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]


def shipped_organisations() -> list[dict[str, Any]]:
    """The shipped file's organisations, as the JSON objects the register would send."""
    data: dict[str, Any] = json.loads(SHIPPED_FILE.read_text(encoding="utf-8"))
    return list(data["organisations"])


#: ``changed``'s value to delete the field.
DELETE: Any = object()


def changed(organisation: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """The organisation with the field at the dotted path (list indices as numbers) set or deleted."""
    *parents, last = path.split(".")
    target: Any = organisation
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if isinstance(target, list):
        if value is DELETE:
            del target[int(last)]
        else:
            target[int(last)] = value
    elif value is DELETE:
        del target[last]
    else:
        target[last] = value
    return organisation


def problem(status: int, title: str) -> Answer:
    body = {"type": "about:blank", "title": title, "status": status}
    return Answer(status, json.dumps(body).encode(), "application/problem+json")


class FakeRegister:
    def __init__(self) -> None:
        self.organisations = {item["organisationNumber"]: item for item in shipped_organisations()}
        self.scripted: dict[str, Answer] = {}
        self.requests: list[Request] = []
        self.required_token = ""
        self.stopping = threading.Event()
        self.url = ""

    def script(self, number: str, answer: Answer) -> None:
        self.scripted[number] = answer

    def script_json(self, number: str, data: Any) -> None:
        self.script(number, Answer(body=json.dumps(data).encode()))

    def organisation(self, number: str) -> dict[str, Any]:
        """A deep copy of a shipped organisation, to break in a test."""
        copy: dict[str, Any] = json.loads(json.dumps(self.organisations[number]))
        return copy

    def answer(self, path: str, headers: dict[str, str]) -> Answer:
        self.requests.append(Request(path, headers))
        if self.required_token and headers.get("Authorization") != f"Bearer {self.required_token}":
            return problem(401, "Unauthorized")
        prefix = f"{BASE_PATH}/organisations/"
        if not path.startswith(prefix):
            return problem(404, "No such resource")
        number = path.removeprefix(prefix)
        if number in self.scripted:
            return self.scripted[number]
        if number in self.organisations:
            return Answer(body=json.dumps(self.organisations[number]).encode())
        return problem(404, "No such organisation")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeRegister


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        fake = self.server.fake
        answer = fake.answer(self.path, dict(self.headers.items()))
        if answer.delay:
            fake.stopping.wait(answer.delay)
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            if answer.declare_length:
                self.send_header("Content-Length", str(len(answer.body)))
            if answer.location:
                self.send_header("Location", answer.location)
            self.end_headers()
            self.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):
            # The adapter gave up waiting (the slow answer): nobody is listening any more.
            pass

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def unavailable(reason: str) -> Iterator[None]:
    """Expect ``RegisterUnavailable`` whose reason (for the logs, not the person) matches."""
    with pytest.raises(RegisterUnavailable) as caught:
        yield
    assert re.search(reason, caught.value.reason), caught.value.reason


@pytest.fixture
def fake_register() -> Iterator[FakeRegister]:
    fake = FakeRegister()
    server = _Server(("127.0.0.1", 0), _Handler)  # port 0: the system picks a free one
    server.fake = fake
    fake.url = f"http://127.0.0.1:{server.server_address[1]}{BASE_PATH}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield fake
    finally:
        fake.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def http_register(fake_register: FakeRegister) -> Iterator[HttpRegister]:
    register = HttpRegister(fake_register.url, timeout=10.0)
    yield register
    register.close()
