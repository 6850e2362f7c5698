"""Retention: personal data kept no longer than its purpose needs (R10), enforced by the daily
``portal retention`` task. Each purge is recorded in the audit log with what and how much.

| data | kept | setting |
|---|---|---|
| drafts of forms (and their unsent attachments) | 30 days untouched | ``PORTAL_DRAFT_DAYS`` |
| login records (and their e-ID orders) | 13 months | ``PORTAL_LOGIN_RETENTION_DAYS`` |
| e-ID orders that led to no login or signature | 30 days | ``PORTAL_EID_ORDER_RETENTION_DAYS`` |
| used SAML assertion ids (against replay) | until the assertion expires | (the assertion) |
| sessions | until they expire | (the session settings) |
| the audit log | by its own rule | ``PORTAL_AUDIT_RETENTION_YEARS``, ``portal audit purge`` |

Signatures and what they signed are kept as long as the object they concern (they are
evidence), and so are the e-ID orders behind them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from portal import audit
from portal.audit.constants import EventType
from portal.eservices.framework import drafts_purge
from portal.identity.models import EidTransaction, Login, Session, UsedAssertion


def _recorded(what: str, count: int, before: datetime) -> None:
    if count:
        audit.record(
            EventType.RETENTION_PURGED,
            actor=None,
            object_type=what,
            data={"what": what, "count": count, "older_than": before.isoformat()},
        )


def logins_purge(*, now: datetime) -> int:
    """Remove login records older than ``PORTAL_LOGIN_RETENTION_DAYS`` (ended or not: their
    sessions have long expired), and the e-ID orders behind them."""
    before = now - timedelta(days=settings.LOGIN_RETENTION_DAYS)
    with transaction.atomic():
        old = Login.objects.filter(logged_in_at__lt=before)
        orders = list(old.values_list("transaction_id", flat=True))
        count, _by_model = old.delete()
        EidTransaction.objects.filter(pk__in=orders, signature__isnull=True).delete()
        _recorded("logins", count, before)
    return count


def eid_orders_purge(*, now: datetime) -> int:
    """Remove e-ID orders that led to no login and no signature (cancelled, failed, abandoned)
    older than ``PORTAL_EID_ORDER_RETENTION_DAYS``."""
    before = now - timedelta(days=settings.EID_ORDER_RETENTION_DAYS)
    with transaction.atomic():
        count, _by_model = EidTransaction.objects.filter(
            started_at__lt=before, login__isnull=True, signature__isnull=True
        ).delete()
        _recorded("eid-orders", count, before)
    return count


def sessions_purge(*, now: datetime) -> int:
    """Remove expired sessions (what ``clearsessions`` does, recorded)."""
    with transaction.atomic():
        count, _by_model = Session.objects.filter(expire_date__lt=now).delete()
        _recorded("sessions", count, now)
    return count


def used_assertions_purge(*, now: datetime) -> int:
    """Forget used assertion ids whose assertions have expired: they can no longer be replayed."""
    with transaction.atomic():
        count, _by_model = UsedAssertion.objects.filter(expires_at__lt=now).delete()
        _recorded("used-assertions", count, now)
    return count


def retention_run(*, now: datetime | None = None) -> dict[str, int]:
    """Every purge of the retention rules; returns how much each removed."""
    now = now or timezone.now()
    return {
        "drafts": drafts_purge(now=now),
        "logins": logins_purge(now=now),
        "eid_orders": eid_orders_purge(now=now),
        "sessions": sessions_purge(now=now),
        "used_assertions": used_assertions_purge(now=now),
    }
