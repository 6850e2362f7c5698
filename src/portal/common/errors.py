"""The domain error family and its one mapping to responses.

Services raise an ``ApplicationError`` (or a subclass) with a Swedish message meant for the person
using the portal. Views do not catch them: ``ErrorPageMiddleware`` turns them into an HTML error
page and the API's exception handler into RFC 9457 problem details, both through ``problem_for``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://portal.invalid/problems/"


class ApplicationError(Exception):
    """A failure the person can understand and act on (never a bug)."""

    status: HTTPStatus = HTTPStatus.BAD_REQUEST
    code: str = "application-error"

    def __init__(
        self, message: str, *, code: str | None = None, extra: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.extra = extra or {}


class NotFoundError(ApplicationError):
    status = HTTPStatus.NOT_FOUND
    code = "not-found"


class PermissionDeniedError(ApplicationError):
    status = HTTPStatus.FORBIDDEN
    code = "forbidden"


class ConflictError(ApplicationError):
    status = HTTPStatus.CONFLICT
    code = "conflict"


class ServiceUnavailableError(ApplicationError):
    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "service-unavailable"


class TooManyRequestsError(ApplicationError):
    """Too many attempts in a short time; ``retry_after`` says in how many seconds to try again."""

    status = HTTPStatus.TOO_MANY_REQUESTS
    code = "too-many-requests"

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Problem:
    """RFC 9457 problem details."""

    status: int
    code: str
    title: str
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self, request: HttpRequest | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.code,
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        if request is not None:
            body["instance"] = request.path
            request_id = getattr(request, "request_id", None)
            if request_id:
                body["request_id"] = request_id
        body.update(self.extra)
        return body


def _standard_title(status: int) -> str:
    titles = {
        400: _("Felaktig begäran"),
        401: _("Inloggning krävs"),
        403: _("Åtkomst nekad"),
        404: _("Sidan eller resursen finns inte"),
        405: _("Metoden är inte tillåten"),
        409: _("Konflikt med nuvarande tillstånd"),
        413: _("Begäran är för stor"),
        415: _("Formatet stöds inte"),
        422: _("Uppgifterna kunde inte godtas"),
        429: _("För många förfrågningar"),
        500: _("Ett tekniskt fel uppstod"),
        503: _("Tjänsten är inte tillgänglig just nu"),
    }
    if status in titles:
        return titles[status]
    return HTTPStatus(status).phrase


def problem_for_status(status: int, detail: str = "", **extra: Any) -> Problem:
    code = HTTPStatus(status).phrase.lower().replace(" ", "-").replace("'", "")
    return Problem(
        status=status, code=code, title=_standard_title(status), detail=detail, extra=extra
    )


def problem_for(error: ApplicationError) -> Problem:
    return Problem(
        status=int(error.status),
        code=error.code,
        title=_standard_title(int(error.status)),
        detail=error.message,
        extra=error.extra,
    )


def problem_response(
    request: HttpRequest | None, problem: Problem, headers: dict[str, str] | None = None
) -> JsonResponse:
    response = JsonResponse(
        problem.as_dict(request),
        status=problem.status,
        content_type=PROBLEM_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def wants_problem_json(request: HttpRequest) -> bool:
    """The API speaks problem+json; pages speak HTML."""
    return request.path.startswith("/api/")
