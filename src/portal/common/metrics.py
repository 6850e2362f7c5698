"""Request metrics for Prometheus: how many requests each route answered, and how fast.

Labels are the route's name (``eservices:submission``, never the path, so that no id or personal
data becomes a label), the method and the status class (``2xx`` ... ``5xx``). The metrics are
exposed at ``/metrics`` (``portal.web.metrics``) together with the backlog gauges.

With several web processes (gunicorn's workers) each process counts its own requests; with
``PROMETHEUS_MULTIPROC_DIR`` set, prometheus_client keeps the values in files there and
``/metrics`` adds every process's up (docs/operations.md, "Metrics").
"""

from __future__ import annotations

import time
from collections.abc import Callable

import prometheus_client
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from prometheus_client import Counter, Histogram

Handler = Callable[[HttpRequest], HttpResponseBase]

# The _created series of every counter and histogram double the output and are of no use here
# (multiprocess mode has none either, so both modes look alike).
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]

LABELS = ("route", "method", "status")

REQUESTS = Counter(
    "portal_http_requests",
    "Requests answered, by route name, method and status class.",
    LABELS,
)
LATENCY = Histogram(
    "portal_http_request_duration_seconds",
    "Time from the request reaching the portal to its answer, by route name, method and status class.",
    LABELS,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)

#: Methods counted under their own name; anything else a client invents is ``other``, so that a
#: client cannot create series at will.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: The route label of a request that matched no route (a 404 from the resolver).
UNMATCHED = "unmatched"
#: The route label of a static file (answered by WhiteNoise before any route is resolved).
STATIC = "static"


def route_of(request: HttpRequest) -> str:
    """The name of the route that answered, never the path: ``eservices:submission``; a route
    without a name is labelled with its pattern (``arbetsgivare/<uuid:public_id>/...``), which
    holds no values either."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return str(match.view_name or match.route or UNMATCHED)
    if request.path.startswith(settings.STATIC_URL):
        return STATIC
    return UNMATCHED


def status_class(status: int) -> str:
    return f"{status // 100}xx"


class RequestMetricsMiddleware:
    """Counts every request and observes its duration, labelled by route name, method and status
    class. First in MIDDLEWARE, so that the time includes every other middleware."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
        finally:
            method = request.method if request.method in METHODS else "other"
            labels = (route_of(request), str(method), status_class(status))
            REQUESTS.labels(*labels).inc()
            LATENCY.labels(*labels).observe(time.perf_counter() - started)
        return response
