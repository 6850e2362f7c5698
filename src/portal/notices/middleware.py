"""Closes the e-services a planned outage (or an incident that closes them) affects, while it lasts.

Requests to an affected e-service's pages get a closed page and those to its API operations a
problem, both ``503 Service Unavailable`` with ``Retry-After``. Nothing is changed or deleted:
drafts and submissions are there again when the e-service opens.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.common.errors import ServiceUnavailableError, problem_for, problem_response
from portal.eservices import registry
from portal.notices.selectors import closure

Handler = Callable[[HttpRequest], HttpResponseBase]

_PAGE = re.compile(r"^/arbetsgivare/[^/]+/e-tjanster/(?P<code>[A-Za-z0-9_-]+)/")
_API = re.compile(r"^/api/v1/employers/[^/]+/eservices/(?P<code>[A-Za-z0-9_-]+)(/|$)")


class EServiceClosedMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        path = request.path_info
        match = _PAGE.match(path) or _API.match(path)
        if match is None:
            return self.get_response(request)
        code = match.group("code")
        eservice = registry.get(code)
        now = timezone.now()
        closed = closure(code, now) if eservice is not None else None
        if closed is None:
            return self.get_response(request)
        retry_after = closed.retry_after(now)
        headers = {"Retry-After": str(retry_after)}
        if path.startswith("/api/"):
            error = ServiceUnavailableError(
                _("E-tjänsten är stängd: %(title)s.") % {"title": closed.title},
                code="eservice-closed",
                extra={
                    "eservice": code,
                    "until": closed.until.isoformat() if closed.until else None,
                },
            )
            return problem_response(request, problem_for(error), headers)
        assert eservice is not None  # noqa: S101 (closure is only looked up for a known code)
        response = render(
            request,
            "notices/closed.html",
            {"eservice": eservice, "closure": closed},
            status=503,
        )
        response["Retry-After"] = str(retry_after)
        return response
