"""Writing to the audit log. The only write path is ``record``."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.http import HttpRequest

from portal.audit.constants import ActorKind, EventType
from portal.audit.models import AuditEvent
from portal.identity.models import Person


class AuditOutsideTransaction(RuntimeError):
    """``record`` was called outside a transaction: the event could be lost or outlive the change."""


def client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR is what the WSGI server saw. Behind a proxy, the proxy must set it (gunicorn's
    # forwarded-allow-ips); the raw X-Forwarded-For header is never trusted here.
    address = request.META.get("REMOTE_ADDR") or None
    return str(address) if address else None


def record(
    event_type: EventType,
    *,
    actor: Person | None,
    request: HttpRequest | None = None,
    object_type: str = "",
    object_id: str | int = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record one event in the caller's transaction.

    Service functions call this inside their ``transaction.atomic`` block, so that the change and
    its event are committed together or not at all.
    """
    if not connection.in_atomic_block:
        raise AuditOutsideTransaction(
            f"{event_type} must be recorded inside the change's transaction"
        )
    return AuditEvent.objects.create(
        event_type=EventType(event_type),
        actor_kind=ActorKind.PERSON if actor is not None else ActorKind.SYSTEM,
        actor=actor,
        object_type=object_type,
        object_id=str(object_id),
        data=data or {},
        request_id=str(getattr(request, "request_id", "")) if request is not None else "",
        ip_address=client_ip(request) if request is not None else None,
    )
