"""Error pages in Swedish (and English), and problem details for the API, from one place."""

from __future__ import annotations

import sys
from typing import Any

import structlog
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils.translation import gettext as _

from portal.common.errors import (
    ApplicationError,
    TooManyRequestsError,
    problem_for,
    problem_for_status,
    problem_response,
    wants_problem_json,
)
from portal.web.context_processors import portal as portal_context

logger = structlog.get_logger(__name__)


def _explanations() -> dict[int, tuple[str, str]]:
    return {
        400: (
            _("Begäran kunde inte tolkas"),
            _("Adressen eller uppgifterna som skickades har ett fel. Gå tillbaka och försök igen."),
        ),
        403: (
            _("Du har inte behörighet till sidan"),
            _(
                "Du saknar behörighet att se sidan eller göra det du försökte. Behörigheter för "
                "e-tjänster ges av behörighetsadministratören hos arbetsgivaren."
            ),
        ),
        404: (
            _("Sidan finns inte"),
            _(
                "Vi hittar inte sidan du söker. Den kan ha flyttats eller tagits bort, eller så "
                "innehåller adressen ett skrivfel."
            ),
        ),
        405: (
            _("Sidan kan inte användas så"),
            _("Sidan tar inte emot den här typen av begäran. Gå till startsidan och försök igen."),
        ),
        429: (
            _("För många försök"),
            _("Det har gjorts för många försök på kort tid. Vänta en stund och försök sedan igen."),
        ),
        500: (
            _("Tekniskt fel"),
            _(
                "Något gick fel hos oss. Inga uppgifter har gått förlorade i det du redan har "
                "skickat in. Försök igen om en stund."
            ),
        ),
        503: (
            _("Tjänsten är inte tillgänglig just nu"),
            _("Tjänsten är tillfälligt otillgänglig. Försök igen om en stund."),
        ),
    }


def error_response(
    request: HttpRequest,
    status: int,
    *,
    detail: str = "",
    headers: dict[str, str] | None = None,
    minimal: bool = False,
) -> HttpResponse:
    """An error for ``status``: problem+json under /api/, otherwise a page in the active language."""
    if wants_problem_json(request):
        return problem_response(request, problem_for_status(status, detail), headers)
    title, explanation = _explanations().get(status, (problem_for_status(status).title, ""))
    context: dict[str, Any] = {
        "status": status,
        "title": title,
        "explanation": explanation,
        "detail": detail,
        "request_id": getattr(request, "request_id", ""),
        # The 500 page must render even when the database is down: it reads no session or person.
        "minimal": minimal,
    }
    if minimal:
        # Rendered without the request's context processors (they may read the session); the
        # portal's own values need no database.
        context.update(portal_context(request))
    template = "errors/500.html" if minimal else "errors/error.html"
    body = loader.render_to_string(template, context, request=None if minimal else request)
    response = HttpResponse(body, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def application_error_response(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    headers = (
        {"Retry-After": str(error.retry_after)} if isinstance(error, TooManyRequestsError) else {}
    )
    if wants_problem_json(request):
        return problem_response(request, problem_for(error), headers)
    return error_response(request, int(error.status), detail=error.message, headers=headers)


# Django's handlers (set in config/urls.py). Their signatures are Django's.
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 404)


#: Seconds a client is asked to wait (Retry-After) when the database cannot be reached; the same
#: as /readyz says.
DATABASE_RETRY_AFTER = 5


def server_error(request: HttpRequest) -> HttpResponse:
    # The exception itself was logged by Django's handler with the request id; the page shows only
    # the id, so that a person can quote it to support, and never a stack trace.
    if _database_unavailable(sys.exception()):
        # The database is down, restarting or refusing connections: a temporary state, not a
        # fault in what was asked. 503 with Retry-After tells people, clients and load balancers
        # to try again (a submission retried with the same Idempotency-Key is never stored twice).
        return error_response(
            request, 503, minimal=True, headers={"Retry-After": str(DATABASE_RETRY_AFTER)}
        )
    return error_response(request, 500, minimal=True)


def _database_unavailable(error: BaseException | None) -> bool:
    """Django calls handler500 while handling the exception (also one raised in a middleware,
    such as loading the session): a lost or refused database connection, an administrator's
    shutdown or a server still starting up is an OperationalError or InterfaceError."""
    return isinstance(error, OperationalError | InterfaceError)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    logger.warning("csrf_failure", reason=reason, path=request.path)
    return error_response(
        request,
        403,
        detail=_(
            "Formuläret kunde inte skickas eftersom sidan var för gammal eller kakor är avstängda. "
            "Ladda om sidan och försök igen."
        ),
    )
