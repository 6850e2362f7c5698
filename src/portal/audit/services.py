"""Writing to the audit log. The only write path is ``record``."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.http import HttpRequest

from portal.audit import SESSION_LOGIN_KEY
from portal.audit.constants import ActorKind, EventType, outcome_of
from portal.audit.models import AuditEvent
from portal.common import memo, rows
from portal.identity.models import Person

if TYPE_CHECKING:
    from portal.employers.models import Employer


class AuditOutsideTransaction(RuntimeError):
    """``record`` was called outside a transaction: the event could be lost or outlive the change."""


def client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR is what the WSGI server saw. Behind a proxy, the proxy must set it (gunicorn's
    # forwarded-allow-ips); the raw X-Forwarded-For header is never trusted here.
    address = request.META.get("REMOTE_ADDR") or None
    return str(address) if address else None


def user_agent_hash(request: HttpRequest) -> str | None:
    agent = request.META.get("HTTP_USER_AGENT", "")
    return hashlib.sha256(agent.encode("utf-8", "replace")).hexdigest() if agent else None


def _actor_kind(event_type: EventType, actor: Person | None, request: HttpRequest | None) -> str:
    if actor is None:
        return ActorKind.SYSTEM
    match = getattr(request, "resolver_match", None) if request is not None else None
    if str(event_type).startswith("backoffice:") or (
        match is not None and "backoffice" in match.namespaces
    ):
        return ActorKind.STAFF
    return ActorKind.PERSON


def event_for(
    event_type: EventType,
    *,
    actor: Person | None,
    request: HttpRequest | None = None,
    object_type: str = "",
    object_id: str | int = "",
    data: dict[str, Any] | None = None,
    employer: Employer | None = None,
    alone: bool = False,
) -> AuditEvent:
    """The event ``record`` would write, not saved (``make bench`` measures the write alone).

    The employer acted for is ``employer``, or the object itself when the object is an employer.
    An event of a change must be written in the change's transaction; one written ``alone`` (a
    read, ``record_read``) is a transaction of its own.
    """
    if not alone and not connection.in_atomic_block:
        raise AuditOutsideTransaction(
            f"{event_type} must be recorded inside the change's transaction"
        )
    event_type = EventType(event_type)
    if employer is not None:
        employer_ref: str | None = str(employer.public_id)
    elif object_type == "employer" and object_id:
        employer_ref = str(object_id)
    else:
        employer_ref = None
    session = getattr(request, "session", None) if request is not None else None
    login_id = session.get(SESSION_LOGIN_KEY) if session is not None else None
    return AuditEvent(
        event_type=event_type,
        actor_kind=_actor_kind(event_type, actor, request),
        actor=actor,
        object_type=object_type,
        object_id=str(object_id),
        data=data or {},
        request_id=str(getattr(request, "request_id", "")) if request is not None else "",
        ip_address=client_ip(request) if request is not None else None,
        employer_ref=employer_ref,
        login_id=int(login_id) if isinstance(login_id, int) else None,
        outcome=outcome_of(event_type),
        user_agent_hash=user_agent_hash(request) if request is not None else None,
    )


def record(
    event_type: EventType,
    *,
    actor: Person | None,
    request: HttpRequest | None = None,
    object_type: str = "",
    object_id: str | int = "",
    data: dict[str, Any] | None = None,
    employer: Employer | None = None,
) -> AuditEvent:
    """Record one event in the caller's transaction.

    Service functions call this inside their ``transaction.atomic`` block, so that the change and
    its event are committed together or not at all. The sequencer later seals the event into the
    log's Merkle tree (``audit.tree``). What the request had kept of its answers is forgotten
    (``common.memo``): they may no longer hold.
    """
    memo.forget()
    return _write(
        event_for(
            event_type,
            actor=actor,
            request=request,
            object_type=object_type,
            object_id=object_id,
            data=data,
            employer=employer,
        )
    )


def _write(event: AuditEvent) -> AuditEvent:
    # Every change and many reads write an event: the INSERT is written out (``save()`` spent
    # more building it than the database did running it); tests/common/test_rows.py holds the
    # row to what ``save()`` writes.
    return rows.insert(event)


def record_read(
    event_type: EventType,
    *,
    request: HttpRequest,
    employer: Employer | None = None,
    object_type: str = "",
    object_id: str | int = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record that the person behind ``request`` read personal data (a page or an API answer),
    in a transaction of its own: a read changes nothing else, so the request's kept answers stay
    (``common.memo``). Outside a transaction the INSERT is that transaction by itself (no BEGIN
    and COMMIT around it: three round trips to the database become one), and on PostgreSQL it
    goes with the page's next written-out read (``rows.insert_with_next_read``: one statement
    where there were two; the event's key then stays unknown); inside one it is part of it."""
    actor = request.user if isinstance(request.user, Person) else None
    event = event_for(
        event_type,
        actor=actor,
        request=request,
        employer=employer,
        object_type=object_type,
        object_id=object_id,
        data=data,
        alone=True,
    )
    rows.insert_with_next_read(event)
    return event
