"""The HTTP plumbing the local e-ID counterparts share: the BankID and Freja simulators, the local
OpenID Provider and the SAML test IdP.

Each of them runs one or two threaded HTTP servers on 127.0.0.1 (or a host the developer picks)
and must stop promptly and completely: tests start and stop them many times in one process. So a
``LocalServer`` knows its open connections and ends them on stop, binds without looking up the
host's name, logs what clients break off at DEBUG only, and can do TLS (with the handshake in the
connection's own thread, so a client that never finishes it holds up nobody). ``LocalHandler``
has what their request handlers have in common, and ``RunningServers`` serves a set of servers in
daemon threads until ``stop()``.

Only the standard library is used, and nothing from Django, so the counterparts also run on their
own.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import json
import logging
import re
import socket
import socketserver
import ssl
import sys
import threading
import time
from collections.abc import Callable, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Literal, Self
from urllib.parse import parse_qs

logger = logging.getLogger("portal.identity.localserver")

#: How long a TLS client may take over its handshake.
HANDSHAKE_TIMEOUT = 10.0
#: How long a connection may stay idle between requests.
IDLE_TIMEOUT = 30.0
#: How often the serving loops look for stop(): the longest stop() waits.
POLL_INTERVAL = 0.05
#: How long stop() waits for a serving thread to end.
_JOIN_TIMEOUT = 5.0


def mutual_tls_context(cert: Path, key: Path, ca: Path) -> ssl.SSLContext:
    """A server's TLS with the certificate ``cert`` and its ``key``: 1.2 or newer, and a client
    certificate issued by the CA ``ca`` is required."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_cert_chain(cert, key)
    context.load_verify_locations(cafile=ca)
    context.set_alpn_protocols(["http/1.1"])
    return context


def html_page_headers(style: str, *, form_action: str | None = "'self'") -> dict[str, str]:
    """The security headers of a local server's HTML pages, whose only style is ``style`` (inline,
    allowed by its hash): nothing else loads, no framing, and forms post to ``form_action``
    (``None``: anywhere)."""
    style_hash = base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode()
    forms = f"form-action {form_action}; " if form_action else ""
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'sha256-{style_hash}'; {forms}"
            "frame-ancestors 'none'; base-uri 'none'"
        ),
        # Not no-referrer: with it, browsers send "Origin: null" on the page's own form posts.
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
    }


def url_host(host: str) -> str:
    """``host`` as it goes in a URL a local client can use: a wildcard address becomes loopback,
    and an IPv6 address gets its brackets."""
    if host in {"", "0.0.0.0"}:  # noqa: S104 -- compared, not bound
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


class LocalServer(ThreadingHTTPServer):
    """A threading HTTP server that knows its open connections, so ``stop`` can end them.

    Subclasses name themselves with ``label`` (the start of their log lines, such as "BankID
    simulator"), log to their own ``log`` and say what type their ``state`` is: what the handlers
    share (``self.server.state``). With an ``ssl_context`` the server speaks TLS: each connection's
    handshake runs in the connection's own thread, within ``HANDSHAKE_TIMEOUT``.
    """

    daemon_threads = True
    label: ClassVar[str] = "Local server"
    log: ClassVar[logging.Logger] = logger
    state: Any

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        *,
        state: Any = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.state = state
        self.ssl_context = ssl_context
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can stall on a machine without
        # working reverse DNS; a local server never needs the name.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, client_address = super().get_request()
        # Without it, Nagle's algorithm and delayed ACKs hold the body (a second write after the
        # headers) back by up to 40 ms on every answer.
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, client_address

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.ssl_context is None:
            self._serve_connection(request, client_address)
            return
        # The handshake runs here, in the connection's own thread, so that a client that never
        # finishes it cannot hold up the accept loop.
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            connection = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as error:
            self.log.info(
                "%s: TLS handshake refused: %s",
                self.label,
                getattr(error, "reason", None) or error,
            )
            return
        try:
            self._serve_connection(connection, client_address)
        finally:
            connection.close()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        try:
            super().finish_request(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            # A client that goes away mid-answer is normal (a closed browser tab, a timeout).
            self.log.debug("%s: connection ended: %s", self.label, error)
        else:
            self.log.error("%s: unexpected error", self.label, exc_info=error)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            # A connection the client has closed already cannot be shut down; that is fine.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


BodyProblem = Literal["chunked", "length", "too_large", "timeout", "short"]

_BODY_MESSAGES: dict[BodyProblem, str] = {
    "chunked": "Chunked request bodies are not supported.",
    "length": "Content-Length is not a number.",
    "too_large": "The request body is too large.",
    "timeout": "The request body did not arrive in time.",
    "short": "The request body ended early.",
}


class BodyError(Exception):
    """A request body that could not be read; the connection is closed after the answer."""

    def __init__(self, problem: BodyProblem) -> None:
        super().__init__(_BODY_MESSAGES[problem])
        self.problem = problem
        self.message = _BODY_MESSAGES[problem]

    @property
    def timed_out(self) -> bool:
        return self.problem == "timeout"


class LocalHandler(BaseHTTPRequestHandler):
    """What the counterparts' request handlers share: HTTP/1.1 with keep-alive, no access lines of
    http.server's own (each handler logs one line a request itself), reading a bounded body, and
    answering with no caching and no content sniffing."""

    protocol_version = "HTTP/1.1"
    sys_version = ""
    timeout = IDLE_TIMEOUT
    server: LocalServer
    #: The methods ``_handle`` answers; any other gets http.server's own 501 (``send_error``).
    methods: ClassVar[frozenset[str]] = frozenset({"GET", "HEAD", "POST"})
    #: The start of the access lines ``_serve_request`` logs; the server's label by default.
    access_label: ClassVar[str | None] = None
    #: The plain-text body of the answer to a request that failed unexpectedly.
    failure_text: ClassVar[bytes] = "Ett oväntat fel uppstod.".encode()
    #: The headers of an HTML page (``_send_page``), such as ``html_page_headers(style)``.
    page_headers: ClassVar[Mapping[str, str]] = {}

    def _handle(self) -> None:
        """Answer the request (one of ``methods``), for example with ``_serve_request``."""
        raise NotImplementedError

    def _serve_request(self, route: Callable[[], int], shown_path: str) -> None:
        """Answer with ``route()``, which returns the status it answered with, and log an access
        line with ``shown_path`` and the duration.

        An unexpected exception is logged and answered with a plain 500 (``failure_text``); an
        ``OSError`` (the client went away) ends the connection, as ``handle_error`` expects.
        """
        started = time.perf_counter()
        status: int = HTTPStatus.INTERNAL_SERVER_ERROR
        try:
            status = route()
        except OSError:
            raise
        except Exception:
            self.server.log.exception(
                "%s: error answering %s %s", self.server.label, self.command, shown_path
            )
            self.close_connection = True
            self._send(
                HTTPStatus.INTERNAL_SERVER_ERROR, self.failure_text, "text/plain; charset=utf-8"
            )
        self.server.log.info(
            "%s: %s %s %d %.1f ms",
            self.access_label or self.server.label,
            self.command,
            shown_path,
            status,
            (time.perf_counter() - started) * 1000,
        )

    def _dispatch(self) -> None:
        if self.command in self.methods:
            self._handle()
        else:
            # As BaseHTTPRequestHandler answers a method it has no do_ method for.
            self.send_error(HTTPStatus.NOT_IMPLEMENTED, f"Unsupported method ({self.command!r})")

    # http.server answers a request with the handler's do_<METHOD>.
    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _dispatch  # noqa: N815

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The handlers log their own access line, with the duration.
        pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 -- the base class's name
        # The base class writes to stderr what it refuses (a malformed request line, a timeout).
        self.server.log.debug("%s: %s", self.server.label, format % args)

    def _local_host(self) -> bool:
        """Whether the request names this server by its loopback address or ``localhost``: a
        page on another site may not use a local server through DNS rebinding."""
        port = self.server.server_port
        host = self.headers.get("Host", "").lower()
        return host in {f"127.0.0.1:{port}", f"localhost:{port}"}

    def _same_origin(self) -> bool:
        """Whether a form was posted from this server's own pages (or typed in): another site
        could otherwise approve logins."""
        fetch_site = self.headers.get("Sec-Fetch-Site")
        if fetch_site is not None:
            return fetch_site in {"same-origin", "none"}
        origin = self.headers.get("Origin")
        return origin is None or origin == f"http://{self.headers.get('Host', '')}"

    def _form_fields(self, body: bytes, max_fields: int) -> dict[str, list[str]]:
        """The urlencoded form in ``body`` (none if empty), or ``ValueError``."""
        if not body:
            return {}
        if self.headers.get_content_type() != "application/x-www-form-urlencoded":
            raise ValueError("not a form")
        return parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=max_fields)

    def _read_body(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """The request's body (empty without Content-Length), or ``BodyError``.

        With a ``timeout`` the whole body must arrive within it; without, the idle timeout holds
        for each read.
        """
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            raise BodyError("chunked")
        length_text = self.headers.get("Content-Length")
        if length_text is None:
            return b""
        if not (length_text.isascii() and length_text.isdigit()):
            self.close_connection = True
            raise BodyError("length")
        length = int(length_text)
        if length > max_bytes:
            self.close_connection = True
            raise BodyError("too_large")
        if timeout is None:
            body = self.rfile.read(length)
        else:
            self.connection.settimeout(timeout)
            try:
                body = self.rfile.read(length)
            except TimeoutError:
                self.close_connection = True
                raise BodyError("timeout") from None
            finally:
                self.connection.settimeout(self.timeout)
        if len(body) < length:
            self.close_connection = True
            raise BodyError("short")
        return body

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: Mapping[str, str] | None = None,
    ) -> int:
        """Answer with ``body`` (not for HEAD) and ``headers``; returns ``status``."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return status

    def _send_json(
        self,
        status: int,
        payload: Any,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> int:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return self._send(status, body, content_type, headers)

    def _send_page(self, status: int, page: str | bytes) -> int:
        body = page.encode("utf-8") if isinstance(page, str) else page
        return self._send(status, body, "text/html; charset=utf-8", self.page_headers)


class AppError(Exception):
    """A refusal of a simulator's test app or its control API, with a Swedish message for the
    person."""

    def __init__(self, status: HTTPStatus, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message


class SimulatorAppHandler(LocalHandler):
    """What the test apps of the BankID and Freja simulators share: refusals as ``AppError``."""

    def _check_host(self) -> None:
        if not self._local_host():
            raise AppError(HTTPStatus.BAD_REQUEST, "badHost", "Okänd värd i förfrågan.")

    def _check_same_origin(self) -> None:
        if not self._same_origin():
            raise AppError(
                HTTPStatus.FORBIDDEN, "crossSite", "Formuläret skickades från en annan webbplats."
            )

    def _control_request(
        self,
        path: str,
        body: bytes,
        *,
        listing: tuple[str, Callable[[], list[Any]]],
        pattern: re.Pattern[str],
        actions: set[str],
    ) -> tuple[re.Match[str] | None, dict[str, Any]] | None:
        """A control API request: answers the listing (``GET listing[0]``) itself and returns
        None; otherwise checks it is a JSON POST to an object path (``pattern``) or to one of
        ``actions`` and returns the match (None for an action) and the body."""
        listing_path, items = listing
        if path == listing_path:
            if self.command not in {"GET", "HEAD"}:
                raise AppError(HTTPStatus.METHOD_NOT_ALLOWED, "methodNotAllowed", "Använd GET.")
            self._send_json(HTTPStatus.OK, [view.as_json() for view in items()])
            return None
        match = pattern.fullmatch(path)
        if match is None and path not in actions:
            raise AppError(HTTPStatus.NOT_FOUND, "notFound", "Det finns ingen sådan resurs.")
        if self.command != "POST":
            raise AppError(HTTPStatus.METHOD_NOT_ALLOWED, "methodNotAllowed", "Använd POST.")
        # Requiring JSON also keeps other sites out: a plain HTML form cannot send it.
        if self.headers.get_content_type() != "application/json":
            raise AppError(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                "unsupportedMediaType",
                "Content-Type måste vara application/json.",
            )
        return match, control_json(body)

    def _form(self, body: bytes) -> dict[str, str]:
        """The form's fields (the first value of each, stripped)."""
        try:
            fields = self._form_fields(body, max_fields=20)
        except ValueError:
            raise AppError(
                HTTPStatus.BAD_REQUEST, "badForm", "Formuläret kunde inte läsas."
            ) from None
        return {name: values[0].strip() for name, values in fields.items()}


class RunningServers:
    """Servers serving in daemon threads, one each, until ``stop()``; also a context manager.

    ``servers`` maps each thread's name to its server. Subclasses add what their counterpart
    offers, and may do something before the servers shut down (``_before_shutdown``: wake up
    answers that wait) and after (``_after_shutdown``: release what the state holds).
    """

    def __init__(self, servers: Mapping[str, LocalServer]) -> None:
        self._servers = tuple(servers.values())
        self._threads = [
            threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": POLL_INTERVAL},
                name=name,
                daemon=True,
            )
            for name, server in servers.items()
        ]
        self._stopped = False
        for thread in self._threads:
            thread.start()

    def _before_shutdown(self) -> None:
        """Called once at the start of ``stop()``."""

    def _after_shutdown(self) -> None:
        """Called once at the end of ``stop()``, when nothing is served any more."""

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._before_shutdown()
        # shutdown() waits for the serving loop's next poll; all servers wait at the same time.
        stoppers = [threading.Thread(target=server.shutdown) for server in self._servers]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        for server in self._servers:
            server.server_close()
            server.close_connections()
        for thread in self._threads:
            thread.join(timeout=_JOIN_TIMEOUT)
        self._after_shutdown()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class RunningSimulatorServers(RunningServers):
    """A simulator's two servers, its API at ``api_url`` and its test app at ``app_url``, sharing
    ``state`` (which has a ``stopping`` event); ``stop()`` them, or use ``with``.

    Subclasses name the serving threads with ``thread_prefix``.
    """

    thread_prefix: ClassVar[str] = "simulator"
    state: Any

    def __init__(
        self,
        *,
        state: Any,
        api_server: LocalServer,
        app_server: LocalServer,
        api_url: str,
        app_url: str,
    ) -> None:
        self.state = state
        self.api_url = api_url
        self.app_url = app_url
        super().__init__(
            {f"{self.thread_prefix}-api": api_server, f"{self.thread_prefix}-app": app_server}
        )

    def _before_shutdown(self) -> None:
        # Answers held back by a slow script or mode return at once.
        self.state.stopping.set()


# --- What the simulators' test apps and control APIs read ---------------------------------------

#: The longest name a test app or control API takes.
MAX_NAME_LENGTH = 100
_TWELVE_DIGITS = re.compile(r"[0-9]{12}")


def _refuse_constant(name: str) -> Any:
    msg = f"{name} is not JSON"
    raise ValueError(msg)


def control_json(body: bytes) -> dict[str, Any]:
    """A control API's JSON object (an empty body is an empty object), or ``AppError``."""
    if not body.strip():
        return {}
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise AppError(
            HTTPStatus.BAD_REQUEST, "invalidParameters", "Kroppen måste vara ett JSON-objekt."
        )
    return data


def control_mode(state: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """``POST /control/mode``: set a simulator's mode (``state.set_mode(name, seconds)``)."""
    name = data.get("mode")
    seconds = data.get("seconds", 0.0)
    if (
        not isinstance(name, str)
        or isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
    ):
        raise AppError(
            HTTPStatus.BAD_REQUEST,
            "invalidParameters",
            "Ange mode (en text) och eventuellt seconds (ett tal).",
        )
    try:
        mode = state.set_mode(name, float(seconds))
    except ValueError as error:
        raise AppError(HTTPStatus.BAD_REQUEST, "invalidParameters", str(error)) from None
    return {"mode": mode.name, "seconds": mode.seconds}


def control_name(data: Mapping[str, Any], field: str) -> str | None:
    """An optional name in a control API's body, trimmed, or ``AppError``."""
    value = data.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value.strip()) <= MAX_NAME_LENGTH:
        raise AppError(
            HTTPStatus.BAD_REQUEST,
            "invalidParameters",
            f"{field} måste vara en text på 1–{MAX_NAME_LENGTH} tecken.",
        )
    return value.strip()


def personal_number_problem(digits: str) -> str:
    """What is wrong with ``digits`` as a personal or coordination number (12 digits, a real
    month, a day or coordination day, the check digit); empty when nothing is."""
    if not _TWELVE_DIGITS.fullmatch(digits):
        return "Ange personnumret med 12 siffror, till exempel 19121212-1212."
    month, day = int(digits[4:6]), int(digits[6:8])
    # A coordination number has 60 added to the day of birth.
    if month not in range(1, 13) or (day not in range(1, 32) and day not in range(61, 92)):
        return "Personnumret har inget giltigt födelsedatum."
    if not luhn_valid(digits[2:]):
        return "Personnumret är inte giltigt (kontrollsiffran stämmer inte)."
    return ""


def luhn_valid(digits: str) -> bool:
    """The Luhn check of a personal number's last ten digits."""
    total = 0
    for position, character in enumerate(reversed(digits)):
        total += sum(divmod(int(character) * (2 if position % 2 else 1), 10))
    return total % 10 == 0


def form_personal_number(text: str) -> str:
    """The 12 digits of a personal or coordination number typed in a test app, or ``AppError``."""
    digits = re.sub(r"[\s-]", "", text)
    if problem := personal_number_problem(digits):
        raise AppError(HTTPStatus.BAD_REQUEST, "invalidPersonalNumber", problem)
    return digits


def person_from_form(form: Mapping[str, str]) -> tuple[str | None, str | None, str | None]:
    """The person a test app's form names: another personal number (or the chosen one) and
    optional names."""
    text = form.get("other_personal_number") or form.get("personal_number", "")
    number = form_personal_number(text) if text else None
    names: list[str | None] = []
    for field, label in (("given_name", "Förnamnet"), ("surname", "Efternamnet")):
        value = form.get(field, "")
        if len(value) > MAX_NAME_LENGTH or any(not character.isprintable() for character in value):
            raise AppError(
                HTTPStatus.BAD_REQUEST,
                "invalidName",
                f"{label} får vara högst {MAX_NAME_LENGTH} vanliga tecken.",
            )
        names.append(value or None)
    return number, names[0], names[1]


def h(text: str) -> str:
    """``text`` escaped for HTML (attributes included)."""
    return html.escape(text, quote=True)
