"""The JSON API, version 1. Its OpenAPI 3.1 document is served at /api/v1/openapi.json.

Errors are RFC 9457 problem details (``application/problem+json``), mapped here from the same
``ApplicationError`` family the pages use.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.security import SessionAuth

from portal.api.access import router as access_router
from portal.api.audit import router as audit_router
from portal.api.eservices import router as eservices_router
from portal.api.inquiries import router as inquiries_router
from portal.api.intake import router as intake_router
from portal.api.schemas import (
    EServiceStatusOut,
    IncidentOut,
    PlannedOutageOut,
    ProblemOut,
    StatusOut,
)
from portal.common.errors import (
    PROBLEM_CONTENT_TYPE,
    ApplicationError,
    problem_for,
    problem_for_status,
    problem_response,
)
from portal.notices.selectors import IncidentNotice, service_status

#: Problems the framework itself answers with, before or around an operation's own code.
_FRAMEWORK_PROBLEMS: dict[int, str] = {
    400: "The request body is not JSON.",
    401: "Not logged in.",
    403: "A change without the session's CSRF token (send it in the X-CSRFToken header).",
    422: "The request does not have the documented shape; `errors` lists each field.",
}
_SAFE_METHODS = {"get", "head", "options", "trace"}


class ProblemDetailsAPI(NinjaAPI):
    """Documents problem responses as they are sent.

    Ninja documents every response body as ``application/json``; the exception handlers below send
    problems as ``application/problem+json`` (RFC 9457), and a client (or schemathesis) that
    believes the document would reject them. The problems that the framework itself answers with
    (a body that is not JSON, no session, no CSRF token, a request of the wrong shape) are added to
    each operation that can meet them, where the operation does not describe them itself.
    """

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        problem = {"schema": {"$ref": f"#/components/schemas/{ProblemOut.__name__}"}}
        for path_item in schema["paths"].values():
            for method, operation in path_item.items():
                responses: dict[int | str, Any] = operation.setdefault("responses", {})
                for status in _framework_problems(method, operation):
                    # Ninja's keys are numbers; those of ``openapi_extra`` may be either.
                    key: int | str = str(status) if str(status) in responses else status
                    response = responses.setdefault(
                        key, {"description": _FRAMEWORK_PROBLEMS[status]}
                    )
                    response.setdefault("content", {PROBLEM_CONTENT_TYPE: problem})
                for response in responses.values():
                    content = response.get("content", {})
                    if content.get("application/json") == problem:
                        content[PROBLEM_CONTENT_TYPE] = content.pop("application/json")
        return schema


def _framework_problems(method: str, operation: dict[str, Any]) -> list[int]:
    statuses = []
    if "requestBody" in operation:
        statuses.append(400)
    if operation.get("security"):
        statuses.append(401)
        if method not in _SAFE_METHODS:
            statuses.append(403)
    if operation.get("parameters") or "requestBody" in operation:
        statuses.append(422)
    return statuses


api = ProblemDetailsAPI(
    title="E-tjänster för arbetsgivare",
    version="1",
    description="The employer e-services portal's JSON API. Errors are RFC 9457 problem details.",
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    docs_url="/docs",
    # Every operation needs the person's session (with Django's CSRF check on unsafe methods)
    # unless it says otherwise: fail closed. At the API level, the docs page sends the CSRF token.
    auth=SessionAuth(),
)


@api.exception_handler(ApplicationError)
def _application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return problem_response(request, problem_for(exc))


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {"location": list(map(str, error.get("loc", []))), "message": str(error.get("msg", ""))}
        for error in exc.errors
    ]
    return problem_response(request, problem_for_status(422, errors=errors))


@api.exception_handler(AuthenticationError)
def _authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem_response(request, problem_for_status(401))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem_response(request, problem_for_status(exc.status_code, str(exc.message)))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem_response(request, problem_for_status(404))


@api.get(
    "/status",
    response={200: StatusOut, 503: ProblemOut},
    summary="Service status",
    description=(
        "Each e-service's status now (open, closed, maintenance), the planned outages in progress "
        "or to come, open incidents and those closed in the last 14 days. Public. The planned "
        "outages are also published as iCalendar (/driftstatus/avbrott.ics) and, with the "
        "incidents, as Atom (/driftstatus/flode.atom)."
    ),
    tags=["status"],
    auth=None,
)
def status(request: HttpRequest) -> StatusOut:
    current = service_status()
    return StatusOut(
        eservices=[
            EServiceStatusOut(
                code=state.code,
                name=state.name,
                status=str(state.status),
                disruption=state.disruption,
                until=state.until,
            )
            for state in current.states
        ],
        planned_outages=[
            PlannedOutageOut(
                id=o.public_id,
                starts_at=o.starts_at,
                ends_at=o.ends_at,
                title=o.title,
                title_sv=o.title_sv,
                title_en=o.title_en or None,
                description=o.description,
                eservice_codes=list(o.eservice_codes),
                all_eservices=o.all_eservices,
                in_progress=o.in_progress,
            )
            for o in current.planned_outages
        ],
        incidents=[_incident_out(i) for i in current.incidents],
        recent_incidents=[_incident_out(i) for i in current.recent_incidents],
    )


def _incident_out(incident: IncidentNotice) -> IncidentOut:
    return IncidentOut(
        id=incident.public_id,
        title=incident.title,
        title_sv=incident.title_sv,
        title_en=incident.title_en or None,
        description=incident.description,
        eservice_codes=list(incident.eservice_codes),
        all_eservices=incident.all_eservices,
        started_at=incident.started_at,
        closed_at=incident.closed_at,
        closes_eservices=incident.closes_eservices,
    )


api.add_router("", access_router)
api.add_router("", audit_router)
api.add_router("", eservices_router)
api.add_router("", intake_router)
api.add_router("", inquiries_router)
