"""/metrics: Prometheus's view of the portal, and nobody else's."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.db import DatabaseError, transaction
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from portal import audit
from portal.audit.constants import EventType
from portal.audit.tree import seal_all
from portal.eservices.intake import intake_client_create, intake_publish
from portal.messaging.models import OutboxMessage
from portal.web import metrics as metrics_view
from tests.access.world import World
from tests.support.server import VENV_BIN, answers_health, free_port, portal_env, stop

TOKEN = "k3J9vQ2xT7mN4pR8sW1yB6cD0fG5hL2aZ"
OUTSIDE = "203.0.113.7"  # TEST-NET-3: never an allowed network


def _samples(text: str) -> list[Sample]:
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def _value(text: str, name: str, **labels: str) -> float:
    found = [
        sample.value
        for sample in _samples(text)
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(found) == 1, f"{name} {labels}: {found}"
    return found[0]


def _counted(text: str, name: str, route: str, method: str = "GET", status: str = "2xx") -> float:
    """A request series' value; 0 while the series does not exist yet."""
    labels = {"route": route, "method": method, "status": status}
    matching = [
        sample.value for sample in _samples(text) if sample.name == name and sample.labels == labels
    ]
    return matching[0] if matching else 0.0


def _requests(text: str, route: str, method: str = "GET", status: str = "2xx") -> float:
    return _counted(text, "portal_http_requests_total", route, method, status)


def _scrape(client: Client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- who may read it ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_someone_outside_the_allowed_networks_without_the_token_gets_the_ordinary_404(
    settings: Any,
) -> None:
    settings.METRICS_TOKEN = TOKEN
    client = Client(REMOTE_ADDR=OUTSIDE)
    response = client.get("/metrics")
    assert response.status_code == 404
    body = response.content.decode()
    # The same page as for an address that does not exist: nothing tells that metrics are here.
    assert "portal_" not in body
    unknown = client.get("/finns-inte/")
    assert response["Content-Type"] == unknown["Content-Type"]
    assert "Sidan finns inte" in body
    for wrong in ("Bearer wrong-token", f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN}x"):
        assert client.get("/metrics", HTTP_AUTHORIZATION=wrong).status_code == 404, wrong
    # Nor does another method give it away (no 405, no CSRF error).
    assert client.post("/metrics").status_code == 404


@pytest.mark.django_db
def test_the_token_opens_it_from_anywhere(settings: Any) -> None:
    settings.METRICS_TOKEN = TOKEN
    client = Client(REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "no-cache" in response["Cache-Control"]
    families = {family.name for family in text_string_to_metric_families(response.content.decode())}
    assert {
        "portal_http_requests",
        "portal_http_request_duration_seconds",
        "portal_tasks_waiting",
        "portal_outbox_messages",
        "portal_audit_unsealed_events",
        "portal_metrics_database_up",
    } <= families


@pytest.mark.django_db
def test_without_a_token_configured_no_bearer_opens_it(settings: Any) -> None:
    settings.METRICS_TOKEN = ""
    client = Client(REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer ")
    assert client.get("/metrics").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_the_loopback_may_read_it_without_a_token(settings: Any, address: str) -> None:
    settings.METRICS_TOKEN = ""
    assert Client(REMOTE_ADDR=address).get("/metrics").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED"])
def test_a_request_through_a_proxy_on_the_loopback_is_not_let_in(
    settings: Any, header: str
) -> None:
    """A proxy on the same host connects from 127.0.0.1 on behalf of anyone on the internet."""
    client = Client(REMOTE_ADDR="127.0.0.1", **{header: OUTSIDE})
    assert client.get("/metrics").status_code == 404


@pytest.mark.django_db
def test_the_allowed_networks_are_configurable(settings: Any) -> None:
    from ipaddress import ip_network  # noqa: PLC0415

    settings.METRICS_ALLOWED_NETWORKS = (ip_network("10.20.0.0/16"),)
    assert Client(REMOTE_ADDR="10.20.3.4").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="10.21.3.4").get("/metrics").status_code == 404
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 404
    settings.METRICS_ALLOWED_NETWORKS = ()
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 404


@pytest.mark.django_db
def test_an_allowed_client_gets_405_for_other_methods() -> None:
    response = Client().post("/metrics")
    assert response.status_code == 405
    assert "GET" in response["Allow"]


def test_a_bad_network_or_a_short_token_stops_the_portal_at_start_up(tmp_path: Path) -> None:
    from tests.support.server import run_portal  # noqa: PLC0415

    for overrides, message in (
        ({"PORTAL_METRICS_ALLOWED_NETWORKS": "10.0.0.0/33"}, "PORTAL_METRICS_ALLOWED_NETWORKS"),
        ({"PORTAL_METRICS_TOKEN": "short"}, "PORTAL_METRICS_TOKEN"),
        ({"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "missing")}, "PROMETHEUS_MULTIPROC_DIR"),
    ):
        done = run_portal(["check"], portal_env(tmp_path, **overrides))
        assert done.returncode != 0, overrides
        assert message in done.stderr, done.stderr


# --- the request metrics ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_request_is_counted_under_its_route_name() -> None:
    client = Client()
    before = _scrape(client)
    assert client.get("/hjalp/").status_code == 200
    assert client.get("/hjalp/").status_code == 200
    assert client.get("/api/v1/status").status_code == 200
    after = _scrape(client)
    assert _requests(after, "help") == _requests(before, "help") + 2
    assert _requests(after, "api-v1:status") == _requests(before, "api-v1:status") + 1
    count = "portal_http_request_duration_seconds_count"
    assert _counted(after, count, "help") == _counted(before, count, "help") + 2


@pytest.mark.django_db
def test_labels_hold_route_names_never_paths_ids_or_personal_data(world: World) -> None:
    client = Client()
    before = _scrape(client)
    secret_id = str(world.employer.public_id)
    unknown_id = str(uuid.uuid4())
    # An anonymous visitor is sent to the login page (3xx) from a page about an employer.
    page = f"/arbetsgivare/{secret_id}/e-tjanster/sick_report/"
    assert client.get(page).status_code == 302
    assert (
        client.get(f"/arbetsgivare/{unknown_id}/e-tjanster/sick_report/19121212-1212/").status_code
        == 302
    )
    assert client.get(f"/finns-inte/{unknown_id}/").status_code == 404
    assert client.generic("BREW", "/hjalp/").status_code == 405
    after = _scrape(client)
    assert _requests(after, "eservices:eservice", status="3xx") == (
        _requests(before, "eservices:eservice", status="3xx") + 1
    )
    assert _requests(after, "eservices:submission", status="3xx") == (
        _requests(before, "eservices:submission", status="3xx") + 1
    )
    assert (
        _requests(after, "unmatched", status="4xx")
        == _requests(before, "unmatched", status="4xx") + 1
    )
    # A method a client makes up is "other", so that clients cannot make new series at will.
    assert _requests(after, "help", method="other", status="4xx") >= 1
    values = {value for sample in _samples(after) for value in sample.labels.values()}
    for forbidden in (secret_id, unknown_id, "19121212", "arbetsgivare", "/", "BREW"):
        assert not [value for value in values if forbidden in value], forbidden
    assert {"2xx", "3xx", "4xx"} <= values


# --- the backlog gauges ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_outbox_gauges_show_unsent_mail() -> None:
    client = Client()
    empty = _scrape(client)
    assert _value(empty, "portal_outbox_messages", status="queued") == 0
    assert _value(empty, "portal_outbox_oldest_unsent_age_seconds") == 0
    now = timezone.now()
    common = {"recipient_email": "a@example.se", "template": "t", "subject": "s", "body_text": "b"}
    OutboxMessage.objects.create(**common, created_at=now - timedelta(hours=1))
    OutboxMessage.objects.create(**common)
    OutboxMessage.objects.create(**common, status=OutboxMessage.Status.FAILED)
    OutboxMessage.objects.create(
        **common,
        status=OutboxMessage.Status.SENT,
        sent_at=now,
        created_at=now - timedelta(days=3),
    )
    text = _scrape(client)
    assert _value(text, "portal_outbox_messages", status="queued") == 2
    assert _value(text, "portal_outbox_messages", status="sending") == 0
    assert _value(text, "portal_outbox_messages", status="failed") == 1
    assert 3600 <= _value(text, "portal_outbox_oldest_unsent_age_seconds") < 3700


@pytest.mark.django_db
def test_the_audit_gauges_show_the_sealing_lag() -> None:
    with transaction.atomic():
        audit.record(EventType.INTAKE_CLIENT_CREATED, actor=None, data={"name": "mätning"})
    client = Client()
    text = _scrape(client)
    assert _value(text, "portal_audit_unsealed_events") >= 1
    assert _value(text, "portal_audit_oldest_unsealed_age_seconds") >= 0
    seal_all()
    sealed = _scrape(client)
    assert _value(sealed, "portal_audit_unsealed_events") == 0
    assert _value(sealed, "portal_audit_oldest_unsealed_age_seconds") == 0
    assert _value(sealed, "portal_audit_tree_size") >= 1
    assert _value(sealed, "portal_audit_tree_head_timestamp_seconds") > time.time() - 60


@pytest.mark.django_db
def test_the_task_gauges_show_the_queue() -> None:
    client = Client()
    assert _value(_scrape(client), "portal_tasks_waiting", queue="default") == 0
    now = timezone.now()
    common = {
        "args_kwargs": {"args": [], "kwargs": {}},
        "task_path": "portal.messaging.tasks.send_message",
        "backend_name": "default",
    }
    waiting = DBTaskResult.objects.create(**common)
    DBTaskResult.objects.filter(pk=waiting.pk).update(enqueued_at=now - timedelta(minutes=2))
    DBTaskResult.objects.create(**common, run_after=now + timedelta(hours=1))
    DBTaskResult.objects.create(**common, run_after=now - timedelta(seconds=30))
    DBTaskResult.objects.create(**common, status="SUCCESSFUL")
    text = _scrape(client)
    assert _value(text, "portal_tasks_waiting", queue="default") == 2
    assert _value(text, "portal_tasks_scheduled", queue="default") == 1
    assert 120 <= _value(text, "portal_tasks_oldest_waiting_age_seconds", queue="default") < 200


def test_the_intake_gauges_show_the_feed(world: World) -> None:
    from tests.eservices.test_intake import _submit  # noqa: PLC0415

    _submit(world, 1)
    client = Client()
    text = _scrape(client)
    assert _value(text, "portal_intake_unpublished_messages") == 1
    assert _value(text, "portal_intake_oldest_unpublished_age_seconds") >= 0
    intake_client_create(name="Handläggningssystemet")
    intake_publish()
    published = _scrape(client)
    assert _value(published, "portal_intake_unpublished_messages") == 0
    assert (
        _value(published, "portal_intake_unacknowledged_messages", client="Handläggningssystemet")
        == 1
    )


@pytest.mark.django_db
def test_when_the_database_fails_the_request_metrics_are_still_served(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(now: Any) -> Iterator[Any]:
        raise DatabaseError("the database is away")
        yield  # pragma: no cover

    monkeypatch.setattr(metrics_view, "audit_metrics", broken)
    text = _scrape(Client())
    assert _value(text, "portal_metrics_database_up") == 0
    families = {family.name for family in text_string_to_metric_families(text)}
    assert "portal_http_requests" in families
    assert "portal_outbox_messages" not in families


# --- several web processes ------------------------------------------------------------------------


@contextmanager
def _gunicorn(env: dict[str, str], *options: str) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "portal.config.wsgi", "--bind", f"127.0.0.1:{port}", *options],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, "the portal server exited at start-up"
            # A worker's first request loads every view: slow on a busy machine.
            if answers_health(base_url, timeout=20):
                break
            assert time.monotonic() < deadline, "the portal server did not start"
            time.sleep(0.1)
        yield base_url
    finally:
        stop(process)


def test_with_several_workers_the_counts_of_all_of_them_are_added_up(tmp_path: Path) -> None:
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = portal_env(tmp_path, PROMETHEUS_MULTIPROC_DIR=str(directory))
    # Each worker is replaced after 3 requests, so 12 requests are answered by at least four
    # processes, none of which alone saw more than 3 of them.
    options = ("--preload", "--workers", "2", "--max-requests", "3")
    with _gunicorn(env, *options) as base_url, httpx.Client(timeout=60) as http:
        for _ in range(12):
            # (A worker being replaced may keep a request waiting a moment.)
            assert http.get(f"{base_url}/healthz").status_code == 200
        text = http.get(f"{base_url}/metrics").text
    assert len(list(directory.glob("counter_*.db"))) >= 4
    # Every worker's requests, the finished workers' too, are added up (the health checks while
    # waiting for the start count as well). The database of this server was never migrated, so
    # the backlog gauges could not be read; the request metrics still were.
    healthz = {"route": "healthz", "method": "GET", "status": "2xx"}
    assert _value(text, "portal_http_requests_total", **healthz) >= 12
    assert _value(text, "portal_http_request_duration_seconds_count", **healthz) >= 12
    assert _value(text, "portal_metrics_database_up") == 0
