"""Publishing a new terms version and an employer's acknowledgement of it (R16).

A new version is announced ahead: its effective date lies at least ``TERMS_NOTICE_DAYS`` (30)
days after publication. Every connected employer's access administrators get an e-mail at once
and a banner in the portal with the differences against the version their employer accepted,
until one of them acknowledges the new version for the employer. An employer that does not
accept the change can ask to be de-registered, one step away from the notice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import audit
from portal.access.models import Membership, Role
from portal.audit.constants import EventType
from portal.common.errors import ApplicationError, ConflictError
from portal.common.rows import columns, read
from portal.employers.constants import CONNECTED_STATES
from portal.employers.models import Employer
from portal.identity.models import Person
from portal.messaging.services import outbox_enqueue
from portal.terms.models import LATEST_CACHE_KEY, TermsAcceptance, TermsVersion


def earliest_effective_date(today: date | None = None) -> date:
    return (today or timezone.localdate()) + timedelta(days=settings.TERMS_NOTICE_DAYS)


def terms_publish(
    *, version: TermsVersion, actor: Person | None, request: HttpRequest | None = None
) -> int:
    """Publish ``version`` and notify every connected employer's administrators. Returns the
    number of e-mails queued."""
    with transaction.atomic():
        locked = TermsVersion.objects.select_for_update().get(pk=version.pk)
        if locked.published_at is not None:
            raise ConflictError(_("Versionen %(v)s är redan publicerad.") % {"v": locked.version})
        if locked.effective_from < earliest_effective_date():
            raise ApplicationError(
                _(
                    "Nya villkor måste meddelas minst %(days)s dagar innan de börjar gälla (tidigast %(date)s)."
                )
                % {
                    "days": settings.TERMS_NOTICE_DAYS,
                    "date": earliest_effective_date().isoformat(),
                },
                code="terms-notice-too-short",
            )
        locked.published_at = timezone.now()
        locked.save(update_fields=["published_at"])
        audit.record(
            EventType.TERMS_PUBLISHED,
            actor=actor,
            request=request,
            object_type="terms-version",
            object_id=locked.version,
            data={"effective_from": locked.effective_from.isoformat()},
        )
        administrators = (
            Membership.objects.active()
            .filter(role=Role.ADMINISTRATOR, employer__state__in=list(CONNECTED_STATES))
            .select_related("employer", "person")
        )
        queued = 0
        for membership in administrators:
            email = membership.email or membership.person.email
            if not email:
                continue
            outbox_enqueue(
                template="terms_changed",
                to_email=email,
                to_person=membership.person,
                context={
                    "employer": membership.employer.name,
                    "version": locked.version,
                    "effective_from": locked.effective_from.isoformat(),
                    "link": reverse(
                        "terms:notice", kwargs={"public_id": membership.employer.public_id}
                    ),
                    "base_url": settings.BASE_URL,
                },
                related_object_type="terms-version",
                related_object_id=locked.version,
                idempotency_key=f"terms-changed:{locked.version}:{membership.employer.public_id}:{email}",
            )
            queued += 1
    version.published_at = locked.published_at
    return queued


#: How long the newest published version is kept in the cache. A process sees another's
#: publication within this time without a shared cache (with Redis at once).
LATEST_CACHE_SECONDS = 60
#: Kept in the cache when no version is published, to tell it apart from nothing kept.
_NONE_PUBLISHED = "none"


def latest_published() -> TermsVersion | None:
    """The newest published version (by the day it takes effect): asked on every page an
    administrator sees, so kept in the cache (``models.forget_latest`` drops it at a change)."""
    kept = cache.get(LATEST_CACHE_KEY)
    if kept is None:
        found = (
            TermsVersion.objects.filter(published_at__isnull=False)
            .order_by("-effective_from", "-id")
            .first()
        )
        kept = found or _NONE_PUBLISHED
        cache.set(LATEST_CACHE_KEY, kept, LATEST_CACHE_SECONDS)
    return None if kept == _NONE_PUBLISHED else kept


def accepted_version(employer: Employer) -> TermsVersion | None:
    acceptance = (
        employer.terms_acceptances.select_related("terms_version")
        .order_by("-terms_version__effective_from", "-accepted_at")
        .first()
    )
    return acceptance.terms_version if acceptance else None


def pending_change(employer: Employer) -> TermsVersion | None:
    """The newest published version the employer has not accepted, if newer than what it has."""
    latest = latest_published()
    accepted = accepted_version(employer)
    if latest is None or accepted is None or latest.effective_from <= accepted.effective_from:
        return None
    return latest


_NEWEST_ACCEPTED_SQL = (
    "SELECT a.employer_id, MAX(v.effective_from) FROM terms_termsacceptance a"
    " JOIN terms_termsversion v ON v.id = a.terms_version_id"
    " WHERE a.employer_id IN ({employers}) GROUP BY a.employer_id"
)


def pending_changes(employer_ids: Sequence[int]) -> dict[int, TermsVersion]:
    """``pending_change`` for each of the employers ``employer_ids`` at once (by the employer's
    id; those with nothing to acknowledge left out): one query however many employers, and the
    newest version from the cache."""
    if not employer_ids:
        return {}
    latest = latest_published()
    if latest is None:
        return {}
    # The newest version each employer has accepted: ``TermsAcceptance.objects.filter(
    # employer_id__in=...).values("employer").annotate(Max("terms_version__effective_from"))``
    # written out (tests/terms/test_terms_change.py holds it to that).
    accepted = dict(
        read(
            TermsAcceptance,
            _NEWEST_ACCEPTED_SQL.format(employers=", ".join(["%s"] * len(employer_ids))),
            list(employer_ids),
            [*columns(TermsAcceptance, "employer"), *columns(TermsVersion, "effective_from")],
        )
    )
    return {
        pk: latest for pk in employer_ids if pk in accepted and latest.effective_from > accepted[pk]
    }


def terms_acknowledge(
    *, employer: Employer, version: TermsVersion, actor: Person, request: HttpRequest | None = None
) -> TermsAcceptance:
    """An administrator acknowledges a new terms version for the employer (once per version)."""
    try:
        with transaction.atomic():
            acceptance = TermsAcceptance.objects.create(
                employer=employer,
                terms_version=version,
                channel=TermsAcceptance.Channel.ACKNOWLEDGEMENT,
                accepted_by=actor,
            )
            audit.record(
                EventType.TERMS_ACCEPTED,
                actor=actor,
                request=request,
                object_type="employer",
                object_id=str(employer.public_id),
                data={
                    "terms_version": version.version,
                    "acceptance": acceptance.pk,
                    "channel": "acknowledgement",
                },
            )
            return acceptance
    except IntegrityError:
        raise ConflictError(
            _("Villkoren version %(v)s är redan bekräftade för arbetsgivaren.")
            % {"v": version.version}
        ) from None
