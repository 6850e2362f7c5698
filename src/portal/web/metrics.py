"""``/metrics``: the portal's Prometheus metrics, for operations only.

Two kinds: the request counters and latency histograms (``portal.common.metrics``, counted by a
middleware as requests are answered), and backlog gauges computed from the database at the moment
Prometheus scrapes (``BacklogCollector``): the task queue, the mail outbox, the intake feed and the
audit log's sealing. Every metric, its labels and its query are listed in docs/operations.md,
"Metrics".

The page is not public: it answers only a request with the bearer token ``PORTAL_METRICS_TOKEN``
or one made directly (not through a proxy) from ``PORTAL_METRICS_ALLOWED_NETWORKS``; anyone else
gets the ordinary 404 page, as for an address that does not exist.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Max, Min, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from portal.audit.models import AuditEvent, TreeHead
from portal.common.routes import public
from portal.eservices.models import IntakeClient, IntakeMessage
from portal.messaging.models import OutboxMessage

#: Unsealed audit events are counted up to this many (a count over a larger backlog would make
#: every scrape slow just when the database is busiest); a backlog this large is an alarm anyway.
AUDIT_COUNT_CAP = 1_000_000

_FORWARDED_HEADERS = ("Forwarded", "X-Forwarded-For")


# --- who may read it --------------------------------------------------------------------------


def _has_token(request: HttpRequest) -> bool:
    token: str = settings.METRICS_TOKEN
    if not token:
        return False
    scheme, _space, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def _from_allowed_network(request: HttpRequest) -> bool:
    """The direct peer's address is in an allowed network. A request that passed through a proxy
    (it carries a forwarding header) never counts: the proxy's own address, often the loopback,
    says nothing about the client behind it."""
    if any(name in request.headers for name in _FORWARDED_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in settings.METRICS_ALLOWED_NETWORKS)


def may_read_metrics(request: HttpRequest) -> bool:
    return _has_token(request) or _from_allowed_network(request)


# --- the backlog gauges -----------------------------------------------------------------------


def _age(now: datetime, since: datetime | None) -> float:
    """Seconds from ``since`` to ``now``; 0 when there is nothing waiting."""
    return max(0.0, (now - since).total_seconds()) if since is not None else 0.0


def _configured_queues() -> set[str]:
    return {
        str(queue)
        for backend in settings.TASKS.values()
        for queue in backend.get("QUEUES", ["default"])
    }


def task_metrics(now: datetime) -> Iterator[Metric]:
    """The database task queue (django-tasks-db): one aggregate over the READY rows, which the
    backend's own partial index ``tasks_db_new_ordering_idx`` covers (finished tasks are never
    read)."""
    never = get_date_max()  # what the backend stores as run_after for "as soon as possible"
    due = Q(run_after=never) | Q(run_after__lte=now)
    rows = (
        DBTaskResult.objects.filter(status=TaskResultStatus.READY)
        .values("queue_name")
        .annotate(
            waiting=Count("pk", filter=due),
            scheduled=Count("pk", filter=~due),
            oldest_immediate=Min("enqueued_at", filter=Q(run_after=never)),
            oldest_delayed=Min("run_after", filter=Q(run_after__lte=now)),
        )
        .order_by()
    )
    waiting = GaugeMetricFamily(
        "portal_tasks_waiting",
        "Background tasks ready to run and not yet picked up by a worker, by queue.",
        labels=["queue"],
    )
    scheduled = GaugeMetricFamily(
        "portal_tasks_scheduled",
        "Background tasks waiting for a later start time (retries, reminders), by queue.",
        labels=["queue"],
    )
    oldest = GaugeMetricFamily(
        "portal_tasks_oldest_waiting_age_seconds",
        "How long the longest-waiting ready task has waited for a worker (since it was enqueued, "
        "or since its start time came), by queue; 0 when none waits.",
        labels=["queue"],
    )
    seen: set[str] = set()
    for row in rows:
        queue = str(row["queue_name"])
        seen.add(queue)
        since = min(
            (t for t in (row["oldest_immediate"], row["oldest_delayed"]) if t is not None),
            default=None,
        )
        waiting.add_metric([queue], row["waiting"])
        scheduled.add_metric([queue], row["scheduled"])
        oldest.add_metric([queue], _age(now, since))
    for queue in sorted(_configured_queues() - seen):
        waiting.add_metric([queue], 0)
        scheduled.add_metric([queue], 0)
        oldest.add_metric([queue], 0)
    yield from (waiting, scheduled, oldest)


def outbox_metrics(now: datetime) -> Iterator[Metric]:
    """The mail outbox: messages not sent, by status (a count per status over the index
    ``outbox_status_due``), and the age of the oldest still to be sent (queued or sending: the
    index finds those few rows; sent and failed ones are not read)."""
    unsent = (OutboxMessage.Status.QUEUED, OutboxMessage.Status.SENDING)
    statuses = (*unsent, OutboxMessage.Status.FAILED)
    counts = dict(
        # IN, not "<> sent": only an IN is an index condition that skips the sent rows.
        OutboxMessage.objects.filter(status__in=statuses)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    oldest_at = OutboxMessage.objects.filter(status__in=unsent).aggregate(oldest=Min("created_at"))[
        "oldest"
    ]
    messages = GaugeMetricFamily(
        "portal_outbox_messages",
        "Mail not sent: queued (waiting, or waiting for a retry), sending (claimed by a worker) "
        "or failed (gave up after OUTBOX_MAX_ATTEMPTS).",
        labels=["status"],
    )
    for status in statuses:
        messages.add_metric([str(status)], counts.get(status, 0))
    yield messages
    yield GaugeMetricFamily(
        "portal_outbox_oldest_unsent_age_seconds",
        "How long the oldest queued or sending message has waited since it was written; 0 when "
        "none waits.",
        value=_age(now, oldest_at),
    )


def intake_metrics(now: datetime) -> Iterator[Metric]:
    """The intake feed to the agency's systems: messages written but not yet given a position
    (``position IS NULL``, on the unique index of ``position``), and how far each active reading
    system is behind (the highest position, from the same index, less its acknowledgement)."""
    pending = IntakeMessage.objects.filter(position__isnull=True).aggregate(
        n=Count("pk"), oldest=Min("created_at")
    )
    yield GaugeMetricFamily(
        "portal_intake_unpublished_messages",
        "Received submissions not yet published in the intake feed.",
        value=pending["n"],
    )
    yield GaugeMetricFamily(
        "portal_intake_oldest_unpublished_age_seconds",
        "How long the oldest unpublished intake message has waited; 0 when none waits.",
        value=_age(now, pending["oldest"]),
    )
    last = IntakeMessage.objects.aggregate(last=Max("position"))["last"] or 0
    behind = GaugeMetricFamily(
        "portal_intake_unacknowledged_messages",
        "Messages in the intake feed that a reading system has not yet acknowledged, by system.",
        labels=["client"],
    )
    for name, acknowledged in IntakeClient.objects.filter(active=True).values_list(
        "name", "acknowledged"
    ):
        behind.add_metric([name], max(0, last - acknowledged))
    yield behind


def audit_metrics(now: datetime) -> Iterator[Metric]:
    """The audit log's sealing: the latest signed tree head (the unique index on ``size``), and the
    events above the highest event id it sealed (a range of the primary key, which holds only
    the backlog). Events committed late below that id (a rare, long transaction; the sequencer
    picks them up by looking back) are not counted here: finding them would read ten minutes of
    the log on every scrape."""
    head = TreeHead.objects.order_by("-size").values("size", "signed_at", "max_event_id").first()
    sealed_up_to = head["max_event_id"] if head else 0
    unsealed = AuditEvent.objects.filter(id__gt=sealed_up_to).order_by("id")
    count = unsealed[:AUDIT_COUNT_CAP].count()
    oldest_at = unsealed.values_list("occurred_at", flat=True).first()
    yield GaugeMetricFamily(
        "portal_audit_unsealed_events",
        f"Audit events recorded but not yet in a signed tree head (counted up to {AUDIT_COUNT_CAP}).",
        value=count,
    )
    yield GaugeMetricFamily(
        "portal_audit_oldest_unsealed_age_seconds",
        "How long the oldest audit event not yet sealed has waited: the sealing lag; 0 when all "
        "are sealed.",
        value=_age(now, oldest_at),
    )
    yield GaugeMetricFamily(
        "portal_audit_tree_size",
        "Events sealed into the audit log's tree (the latest signed tree head's size).",
        value=head["size"] if head else 0,
    )
    yield GaugeMetricFamily(
        "portal_audit_tree_head_timestamp_seconds",
        "When the latest tree head was signed (Unix time); 0 before the first. Heads are signed "
        "only when there is something to seal, so an old head alone is no alarm.",
        value=head["signed_at"].timestamp() if head else 0,
    )


class BacklogCollector(Collector):
    """The backlog gauges, queried when Prometheus scrapes. If the database cannot answer, the
    request metrics are still served and ``portal_metrics_database_up`` is 0."""

    def collect(self) -> Iterable[Metric]:
        now = timezone.now()
        gathered: list[Metric] = []
        try:
            for group in (task_metrics, outbox_metrics, intake_metrics, audit_metrics):
                gathered.extend(group(now))
        except DatabaseError:
            gathered = []
        up = GaugeMetricFamily(
            "portal_metrics_database_up",
            "1 when the backlog gauges could be read from the database at this scrape, else 0.",
            value=1 if gathered else 0,
        )
        return [*gathered, up]


class _ThisProcess(Collector):
    """The default registry of this process (its request metrics, and prometheus_client's
    process and Python collectors), when there is one web process."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def registry() -> CollectorRegistry:
    """What one scrape reports: the request metrics of every web process (from the files in
    ``PROMETHEUS_MULTIPROC_DIR`` when it is set, else this process's own) and the backlog."""
    scrape = CollectorRegistry(auto_describe=False)
    if settings.METRICS_MULTIPROC_DIR:
        MultiProcessCollector(scrape, path=settings.METRICS_MULTIPROC_DIR)  # type: ignore[no-untyped-call]
    else:
        scrape.register(_ThisProcess())
    scrape.register(BacklogCollector())
    return scrape


@public  # anyone may ask; the view itself answers only Prometheus (see may_read_metrics)
@csrf_exempt  # so that a POST from anyone else gets the same 404 as an unknown address
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not may_read_metrics(request):
        raise Http404
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    # The classic text format (0.0.4), which every Prometheus reads; the names need no escaping.
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_PLAIN_0_0_4)
