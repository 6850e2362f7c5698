"""Cross-cutting request handling: request ids and access logs, language, session lifetime,
caching rules for logged-in people, and error pages for responses Django leaves bare."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

import structlog
from csp.constants import HEADER as CSP_HEADER
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_cache_control, patch_vary_headers

from portal.common import memo, rows
from portal.common.errors import PROBLEM_CONTENT_TYPE, ApplicationError, wants_problem_json

logger = structlog.get_logger("portal.request")

Handler = Callable[[HttpRequest], HttpResponseBase]

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
REQUEST_ID_HEADER = "X-Request-ID"


class RequestIdMiddleware:
    """Gives each request an id (kept from a trusted proxy's header if well-formed), binds it to
    every log line written while the request runs, returns it in a header and writes one access
    line per request. The request's answers are kept while it runs (``common.memo``)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        try:
            with memo.request_scope():
                response = self.get_response(request)
            # A recorded read that no later statement of the request carried (rows).
            rows.write_deferred()
        finally:
            elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        response[REQUEST_ID_HEADER] = request_id
        if request.method == "HEAD" and isinstance(response, HttpResponse) and response.content:
            # A HEAD answer has the GET's headers and no body (RFC 9110 9.3.2).
            length = len(response.content)
            response.content = b""
            response["Content-Length"] = str(length)
        logger.info(
            "request",
            method=request.method,
            path=request.path,
            status=response.status_code,
            duration_ms=elapsed_ms,
        )
        structlog.contextvars.clear_contextvars()
        return response


class LanguageMiddleware:
    """Swedish unless the person chose English with the language switch (a cookie).

    Unlike Django's LocaleMiddleware, the browser's Accept-Language is not consulted: the portal is
    a Swedish public service, and a person switches language explicitly, on every page.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.languages = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in self.languages else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response


SESSION_STARTED_KEY = "_portal_started"
SESSION_SEEN_KEY = "_portal_seen"
# The last-seen time is written at most this often, so that a busy person does not cause a
# session write on every request; the idle timeout is still enforced to within this margin.
_SEEN_WRITE_INTERVAL = 30


class SessionLifetimeMiddleware:
    """Ends a logged-in session after the idle timeout or the absolute lifetime (settings
    ``SESSION_IDLE_SECONDS`` and ``SESSION_MAX_SECONDS``), whichever comes first."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.user.is_authenticated:
            self._check(request)
        return self.get_response(request)

    @staticmethod
    def _check(request: HttpRequest) -> None:
        from portal.identity.services import session_end  # noqa: PLC0415 (identity depends on common)

        now = time.time()
        session = request.session
        started = session.get(SESSION_STARTED_KEY)
        seen = session.get(SESSION_SEEN_KEY)
        if not isinstance(started, int | float) or not isinstance(seen, int | float):
            session[SESSION_STARTED_KEY] = session[SESSION_SEEN_KEY] = now
            return
        if now - started > settings.SESSION_MAX_SECONDS:
            session_end(request=request, reason="max-lifetime")
        elif now - seen > settings.SESSION_IDLE_SECONDS:
            session_end(request=request, reason="idle")
        elif now - seen > _SEEN_WRITE_INTERVAL:
            session[SESSION_SEEN_KEY] = now


class NoStoreForPersonMiddleware:
    """Nothing shown to a logged-in person may be kept by a browser or proxy cache."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
            patch_cache_control(response, private=True)
        return response


class ErrorPageMiddleware:
    """Turns domain errors into pages (or problem details under /api/) and gives Django's bare
    405 responses a body."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.status_code == 405 and not self._is_rendered_error(request, response):  # noqa: PLR2004
            from portal.web.errors import error_response  # noqa: PLC0415 (web depends on common)

            allowed = response.get("Allow", "")
            response = error_response(request, 405, headers={"Allow": allowed} if allowed else None)
        return response

    @staticmethod
    def _is_rendered_error(request: HttpRequest, response: HttpResponseBase) -> bool:
        content_type = response.get("Content-Type", "")
        if wants_problem_json(request):
            return content_type.startswith(PROBLEM_CONTENT_TYPE)
        return content_type.startswith("text/html") and bool(getattr(response, "content", b""))

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponseBase | None:
        if isinstance(exception, ApplicationError):
            from portal.web.errors import application_error_response  # noqa: PLC0415

            return application_error_response(request, exception)
        return None


#: The attributes by which django-csp's decorators change the policy of one response.
_CSP_CHANGES = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_exempt",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
    "_csp_exempt_ro",
)
_csp_policy: list[str] = []


@receiver(setting_changed)
def _csp_forget(*, setting: str, **_: object) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _csp_policy.clear()


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware with the header built once per process.

    django-csp builds the policy anew for every response (some 60 µs of CPU), although the
    portal's is the same for all of them: no view changes it and no page uses a nonce. A response
    that does change it (django-csp's decorators), a request that made a nonce, a report-only
    policy or excluded paths, and django-csp's own DEBUG exemptions get django-csp's handling.
    """

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
        if (
            settings.DEBUG
            or getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
            or policy.get("EXCLUDE_URL_PREFIXES")
            or getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in _CSP_CHANGES)
        ):
            return super().process_response(request, response)
        if not _csp_policy:
            _csp_policy.append(build_policy())
        if _csp_policy[0] and CSP_HEADER not in response:
            response[CSP_HEADER] = _csp_policy[0]
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
