"""Writes concerning people, their e-ID orders, logins, signatures and sessions."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal

import structlog
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import audit
from portal.audit.constants import EventType
from portal.audit.services import client_ip
from portal.common.errors import (
    ApplicationError,
    NotFoundError,
    ServiceUnavailableError,
    TooManyRequestsError,
)
from portal.identity import ratelimit
from portal.identity.backends import PERSON_BACKEND
from portal.identity.eidas_identifiers import (
    is_valid_eidas_identifier,
    normalise_eidas_identifier,
)
from portal.identity.models import EidTransaction, Login, Person, Session, Signature
from portal.identity.numbers import InvalidPersonalNumber, normalise_personal_number
from portal.identity.providers.base import (
    Assurance,
    IdentityProvider,
    IdentityRejected,
    Progress,
    ProviderError,
    Redirect,
    RedirectIdentityProvider,
    Started,
    StartRequest,
    VerifiedIdentity,
)
from portal.identity.providers.registry import (
    assurance_accepted,
    get_provider,
    issuer_allowed,
    minimum_assurance,
)
from portal.identity.signing import signature_completed

logger = structlog.get_logger(__name__)

SESSION_NONCE_KEY = "_portal_eid_nonce"
#: BankID asks relying parties to collect every two seconds, not more often.
POLL_INTERVAL = timedelta(seconds=2)
#: Consecutive failed polls (provider unreachable or busy) before the order is given up.
MAX_POLL_FAILURES = 5
#: New orders started automatically after ``startFailed`` before giving up.
MAX_RESTARTS = 2

_START_EVENTS = {
    EidTransaction.Purpose.LOGIN: EventType.LOGIN_STARTED,
    EidTransaction.Purpose.SIGN: EventType.SIGNATURE_STARTED,
}
_FAIL_EVENTS = {
    EidTransaction.Purpose.LOGIN: EventType.LOGIN_FAILED,
    EidTransaction.Purpose.SIGN: EventType.SIGNATURE_FAILED,
}
_CANCEL_EVENTS = {
    EidTransaction.Purpose.LOGIN: EventType.LOGIN_CANCELLED,
    EidTransaction.Purpose.SIGN: EventType.SIGNATURE_CANCELLED,
}


class EidOrderRefused(NotFoundError):
    """The order id is unknown to this browser session, or its result was already used."""

    code = "eid-order-refused"


class EidAnswerRefused(ApplicationError):
    """A redirect flow's answer was refused (or the person cancelled at the identity provider)."""

    code = "eid-answer-refused"


def _session_binding(request: HttpRequest, *, create: bool) -> str:
    nonce = request.session.get(SESSION_NONCE_KEY)
    if not isinstance(nonce, str):
        if not create:
            return ""
        nonce = secrets.token_urlsafe(32)
        request.session[SESSION_NONCE_KEY] = nonce
    return hashlib.sha256(nonce.encode()).hexdigest()


def _actor(request: HttpRequest) -> Person | None:
    return request.user if isinstance(request.user, Person) else None


def _record_order_event(
    event: EventType, *, request: HttpRequest, order: EidTransaction, data: dict[str, Any]
) -> None:
    audit.record(
        event,
        actor=_actor(request),
        request=request,
        object_type="eid-order",
        object_id=str(order.public_id),
        data=data,
    )


def _provider(code: str) -> IdentityProvider:
    provider = get_provider(code)
    if provider is None:
        raise NotFoundError(_("Den e-legitimationen kan inte användas här."))
    return provider


def order_started(order: EidTransaction) -> Started:
    """The provider's view of an order: its transaction id and secrets."""
    return Started(transaction_id=order.transaction_id, secrets=dict(order.secrets))


_started = order_started


def callback_url(request: HttpRequest, provider_code: str) -> str:
    """Where a redirect flow's identity provider sends the browser back: the configured public
    address when there is one (it is what the provider has registered), else this request's."""
    path = reverse("identity:callback", kwargs={"provider": provider_code})
    return (settings.BASE_URL + path) if settings.BASE_URL else request.build_absolute_uri(path)


def _start_request(
    request: HttpRequest,
    purpose: str,
    *,
    same_device: bool,
    visible_text: str | None,
    provider_code: str = "",
    state: str = "",
) -> StartRequest:
    kind: Literal["login", "sign"] = "sign" if purpose == EidTransaction.Purpose.SIGN else "login"
    return StartRequest(
        purpose=kind,
        end_user_ip=client_ip(request) or "127.0.0.1",
        user_agent=request.headers.get("user-agent", "")[:256],
        # A stable, anonymous identifier of this browser session for BankID's risk assessment.
        device_identifier=_session_binding(request, create=True),
        referring_domain=request.get_host().split(":", 1)[0],
        same_device=same_device,
        visible_text=visible_text,
        minimum=minimum_assurance(kind),
        state=state,
        callback_url=callback_url(request, provider_code) if provider_code else "",
    )


def eid_order_start(
    *,
    request: HttpRequest,
    provider_code: str,
    purpose: EidTransaction.Purpose,
    same_device: bool,
    next_url: str = "",
    visible_text: str | None = None,
    object_type: str = "",
    object_id: str = "",
) -> EidTransaction:
    """Start a login or signing order with the provider and remember it for this session."""
    if get_provider(provider_code) is None:
        # An issuer the agency does not allow (R12): refused, and the attempt recorded.
        with transaction.atomic():
            audit.record(
                EventType.LOGIN_REFUSED
                if purpose == EidTransaction.Purpose.LOGIN
                else EventType.SIGNATURE_FAILED,
                actor=_actor(request),
                request=request,
                data={"provider": provider_code, "reason": "issuer-not-allowed"},
            )
    provider = _provider(provider_code)
    if purpose == EidTransaction.Purpose.LOGIN and ratelimit.login_from_ip_over_limit(
        client_ip(request) or "unknown"
    ):
        with transaction.atomic():
            audit.record(
                EventType.LOGIN_REFUSED,
                actor=_actor(request),
                request=request,
                data={"provider": provider_code, "reason": "rate-limited-ip"},
            )
        raise TooManyRequestsError(
            _(
                "Det har gjorts för många inloggningsförsök från din internetanslutning på kort "
                "tid. Vänta några minuter och försök sedan igen."
            ),
            retry_after=ratelimit.retry_after(),
            code="login-rate-limited",
        )
    binding = _session_binding(request, create=True)
    # One order at a time per browser session: a second tab's order replaces the first, which is
    # cancelled with the provider as BankID asks (otherwise the app would get alreadyInProgress).
    for old in EidTransaction.objects.filter(
        session_binding=binding, status=EidTransaction.Status.PENDING
    ):
        eid_order_cancel(request=request, order=old, reason="replaced")
    public_id = uuid.uuid4()
    redirect_flow = isinstance(provider, RedirectIdentityProvider)
    try:
        started = provider.start(
            _start_request(
                request,
                purpose,
                same_device=same_device,
                visible_text=visible_text,
                provider_code=provider_code if redirect_flow else "",
                state=str(public_id),
            )
        )
    except ProviderError as error:
        with transaction.atomic():
            audit.record(
                _FAIL_EVENTS[purpose],
                actor=_actor(request),
                request=request,
                data={"provider": provider_code, "error": error.code, "stage": "start"},
            )
        message = provider.message(error.message_key)
        if error.transient:
            raise ServiceUnavailableError(message, code="eid-unavailable") from None
        raise ApplicationError(message, code="eid-start-failed") from None
    order_secrets = dict(started.secrets)
    if started.redirect is not None:
        order_secrets["redirect_url"] = started.redirect.url
        if started.redirect.form is not None:
            order_secrets["redirect_form"] = json.dumps(started.redirect.form)
    with transaction.atomic():
        order = EidTransaction.objects.create(
            public_id=public_id,
            purpose=purpose,
            provider=provider_code,
            transaction_id=started.transaction_id,
            secrets=order_secrets,
            same_device=same_device and not redirect_flow,
            session_binding=binding,
            end_user_ip=client_ip(request),
            next_url=next_url,
            visible_text=visible_text or "",
            object_type=object_type,
            object_id=object_id,
            message_key="" if redirect_flow else ("RFA13" if same_device else "RFA1"),
            person=_actor(request) if purpose == EidTransaction.Purpose.SIGN else None,
        )
        _record_order_event(
            _START_EVENTS[purpose],
            request=request,
            order=order,
            data={"provider": provider_code, "same_device": same_device},
        )
    return order


def eid_order_redirect(order: EidTransaction) -> Redirect | None:
    """Where a pending redirect-flow order sends the browser (None for other orders)."""
    url = order.secrets.get("redirect_url")
    if order.status != EidTransaction.Status.PENDING or not url:
        return None
    form = order.secrets.get("redirect_form")
    return Redirect(url=url, form=json.loads(form) if form else None)


def eid_redirect_finish(
    *, request: HttpRequest, provider_code: str, params: Mapping[str, str]
) -> EidTransaction:
    """The browser is back from a redirect flow's identity provider: check the answer and complete
    the order. A forged, foreign, replayed or refused answer is recorded and ``EidAnswerRefused``
    (or ``EidOrderRefused``) raised with what to tell the person."""
    provider = get_provider(provider_code)
    if not isinstance(provider, RedirectIdentityProvider):
        with transaction.atomic():
            audit.record(
                EventType.LOGIN_REFUSED,
                actor=_actor(request),
                request=request,
                data={"provider": provider_code[:32], "reason": "issuer-not-allowed"},
            )
        raise EidAnswerRefused(_("Den e-legitimationen kan inte användas här."))
    order = eid_order_for_session(request=request, public_id=provider.response_state(params))
    if order.provider != provider_code or order.status != EidTransaction.Status.PENDING:
        with transaction.atomic():
            _record_order_event(
                EventType.EID_ORDER_REFUSED,
                request=request,
                order=order,
                data={
                    "reason": "replay" if order.provider == provider_code else "wrong-provider",
                    "provider": provider_code,
                },
            )
        raise EidOrderRefused(_("Inloggningen är redan använd. Logga in på nytt."))
    start_request = _start_request(
        request,
        order.purpose,
        same_device=False,
        visible_text=order.visible_text or None,
        provider_code=provider_code,
        state=str(order.public_id),
    )
    try:
        identity = provider.finish(_started(order), params, start_request)
    except IdentityRejected as rejected:
        _refuse_answer(request=request, order=order, rejected=rejected)
        if rejected.cancelled:
            raise EidAnswerRefused(rejected.message or _("Inloggningen avbröts.")) from None
        raise EidAnswerRefused(
            rejected.message
            or _(
                "Inloggningen kunde inte genomföras. Försök igen eller välj en annan e-legitimation."
            )
        ) from None
    except Exception:  # hostile input through third-party parsers: refused, never a 500
        logger.exception("eid_answer_unexpected_error", provider=provider_code)
        _refuse_answer(request=request, order=order, rejected=IdentityRejected("provider-error"))
        raise EidAnswerRefused(
            _("Inloggningen kunde inte genomföras. Försök igen eller välj en annan e-legitimation.")
        ) from None
    return _apply_progress(
        request=request,
        order=order,
        progress=Progress("complete", "", identity=identity),
        now=timezone.now(),
    )


def _refuse_answer(
    *, request: HttpRequest, order: EidTransaction, rejected: IdentityRejected
) -> None:
    purpose = EidTransaction.Purpose(order.purpose)
    with transaction.atomic():
        locked = EidTransaction.objects.select_for_update().get(pk=order.pk)
        if locked.status != EidTransaction.Status.PENDING:
            return
        locked.status = (
            EidTransaction.Status.CANCELLED if rejected.cancelled else EidTransaction.Status.REFUSED
        )
        locked.hint_code = rejected.reason[:64]
        locked.message_key = "CANCELLED" if rejected.cancelled else "REFUSED"
        locked.finished_at = timezone.now()
        locked.save()
        if rejected.cancelled:
            event = _CANCEL_EVENTS[purpose]
        elif purpose == EidTransaction.Purpose.LOGIN:
            event = EventType.LOGIN_REFUSED
        else:
            event = EventType.SIGNATURE_FAILED
        _record_order_event(
            event,
            request=request,
            order=locked,
            data={"provider": locked.provider, "reason": rejected.reason[:64]},
        )


def eid_order_for_session(*, request: HttpRequest, public_id: str) -> EidTransaction:
    """The order with this public id, if this browser session started it. Anything else, a
    forged, foreign or malformed id, is refused and audited."""
    binding = _session_binding(request, create=False)
    reason = "unknown-order"
    try:
        order = EidTransaction.objects.filter(public_id=uuid.UUID(public_id)).first()
    except ValueError:
        order = None
        reason = "malformed-id"
    if order is not None and binding and secrets.compare_digest(order.session_binding, binding):
        return order
    if order is not None:
        reason = "session-mismatch"
    with transaction.atomic():
        audit.record(
            EventType.EID_ORDER_REFUSED,
            actor=_actor(request),
            request=request,
            object_type="eid-order",
            object_id=str(order.public_id) if order else "",
            data={"reason": reason},
        )
    raise EidOrderRefused(_("Inloggningen hittades inte. Börja om och försök igen."))


def eid_order_poll(*, request: HttpRequest, order: EidTransaction) -> EidTransaction:
    """Ask the provider how the order is going, at most every two seconds."""
    if order.status != EidTransaction.Status.PENDING:
        return order
    now = timezone.now()
    if order.last_polled_at and now - order.last_polled_at < POLL_INTERVAL:
        return order
    provider = _provider(order.provider)
    if isinstance(provider, RedirectIdentityProvider):
        return order  # finished by the identity provider's answer, not by polling
    try:
        progress = provider.poll(_started(order), same_device=order.same_device)
    except ProviderError as error:
        return _record_poll_failure(request=request, order=order, error=error, now=now)
    if (
        progress.state == "failed"
        and progress.hint_code == "startFailed"
        and order.restarts < MAX_RESTARTS
    ):
        return _restart(request=request, order=order, provider=provider, progress=progress, now=now)
    return _apply_progress(request=request, order=order, progress=progress, now=now)


def _record_poll_failure(
    *, request: HttpRequest, order: EidTransaction, error: ProviderError, now: Any
) -> EidTransaction:
    with transaction.atomic():
        order = EidTransaction.objects.select_for_update().get(pk=order.pk)
        order.poll_failures += 1
        order.last_polled_at = now
        order.message_key = error.message_key
        give_up = not error.transient or order.poll_failures >= MAX_POLL_FAILURES
        if give_up:
            order.status = EidTransaction.Status.FAILED
            order.hint_code = error.code
            order.finished_at = now
            _record_order_event(
                _FAIL_EVENTS[EidTransaction.Purpose(order.purpose)],
                request=request,
                order=order,
                data={"provider": order.provider, "error": error.code, "stage": "collect"},
            )
        order.save()
    return order


def _restart(
    *,
    request: HttpRequest,
    order: EidTransaction,
    provider: IdentityProvider,
    progress: Progress,
    now: Any,
) -> EidTransaction:
    """``startFailed``: the app could not start the order (e.g. a QR code scanned too late). BankID
    asks the relying party to start a new order; the person sees a fresh QR code."""
    try:
        started = provider.start(
            _start_request(
                request,
                order.purpose,
                same_device=order.same_device,
                visible_text=order.visible_text or None,
            )
        )
    except ProviderError as error:
        return _record_poll_failure(request=request, order=order, error=error, now=now)
    with transaction.atomic():
        order = EidTransaction.objects.select_for_update().get(pk=order.pk)
        order.transaction_id = started.transaction_id
        order.secrets = started.secrets
        order.started_at = now
        order.restarts += 1
        order.hint_code = progress.hint_code
        order.message_key = progress.message_key
        order.last_polled_at = now
        order.save()
        _record_order_event(
            _START_EVENTS[EidTransaction.Purpose(order.purpose)],
            request=request,
            order=order,
            data={
                "provider": order.provider,
                "restart": order.restarts,
                "after": progress.hint_code,
            },
        )
    return order


def _apply_progress(
    *, request: HttpRequest, order: EidTransaction, progress: Progress, now: Any
) -> EidTransaction:
    purpose = EidTransaction.Purpose(order.purpose)
    with transaction.atomic():
        order = EidTransaction.objects.select_for_update().get(pk=order.pk)
        if order.status != EidTransaction.Status.PENDING:
            return order  # another request finished it meanwhile
        order.last_polled_at = now
        order.poll_failures = 0
        order.hint_code = progress.hint_code
        order.message_key = progress.message_key
        if progress.state == "failed":
            order.status = (
                EidTransaction.Status.CANCELLED
                if progress.hint_code in {"userCancel", "cancelled"}
                else EidTransaction.Status.FAILED
            )
            order.finished_at = now
            event = (
                _CANCEL_EVENTS[purpose]
                if order.status == EidTransaction.Status.CANCELLED
                else _FAIL_EVENTS[purpose]
            )
            _record_order_event(
                event,
                request=request,
                order=order,
                data={"provider": order.provider, "hint_code": progress.hint_code},
            )
        elif progress.state == "complete" and progress.identity is not None:
            _complete(request=request, order=order, identity=progress.identity, now=now)
        order.save()
    return order


def _complete(
    *, request: HttpRequest, order: EidTransaction, identity: VerifiedIdentity, now: Any
) -> None:
    purpose = EidTransaction.Purpose(order.purpose)
    order.finished_at = now
    order.assurance = str(identity.assurance)
    refusal = ""
    if not issuer_allowed(identity.issuer) or identity.issuer != order.provider:
        refusal = "issuer-not-allowed"
    elif not assurance_accepted(Assurance(identity.assurance), str(purpose)):
        refusal = "assurance-too-low"
    elif not identity.personal_number and not identity.eidas_identifier:
        refusal = "missing-personal-number"
    elif (
        identity.transaction_id
        and identity.transaction_id != order.transaction_id
        and EidTransaction.objects.filter(
            provider=order.provider, transaction_id=identity.transaction_id
        ).exists()
    ):
        # The provider's transaction (a SAML assertion, an ID token) was used once already.
        refusal = "replayed"
    elif identity.transaction_id:
        order.transaction_id = identity.transaction_id[:128]
    person = None if refusal else _person_from_identity(identity)
    if person is None and not refusal:
        refusal = "invalid-identity"
    if (
        person is not None
        and not refusal
        and purpose == EidTransaction.Purpose.LOGIN
        and ratelimit.login_of_person_over_limit(
            person.personal_number or person.eidas_identifier or str(person.pk)
        )
    ):
        refusal = "rate-limited-person"
    if (
        purpose == EidTransaction.Purpose.SIGN
        and person is not None
        and order.person_id not in (None, person.pk)
    ):
        # Someone else's BankID signed what was shown to the logged-in person.
        refusal = "signer-is-not-the-person"
    if refusal:
        order.status = EidTransaction.Status.REFUSED
        order.hint_code = refusal
        order.message_key = "REFUSED"
        audit.record(
            EventType.LOGIN_REFUSED
            if purpose == EidTransaction.Purpose.LOGIN
            else EventType.SIGNATURE_FAILED,
            actor=_actor(request),
            request=request,
            object_type="eid-order",
            object_id=str(order.public_id),
            data={
                "provider": order.provider,
                "reason": refusal,
                "issuer": identity.issuer,
                "assurance": identity.assurance,
            },
        )
        return
    assert person is not None  # noqa: S101 (refusal covers every None)
    order.status = EidTransaction.Status.COMPLETE
    order.person = person
    if purpose == EidTransaction.Purpose.SIGN:
        signature = Signature.objects.create(
            person=person,
            transaction=order,
            issuer=identity.issuer,
            object_type=order.object_type,
            object_id=order.object_id,
            visible_text=order.visible_text,
            signature=identity.signature,
            ocsp_response=identity.ocsp_response,
        )
        order.consumed_at = now
        audit.record(
            EventType.SIGNATURE_COMPLETED,
            actor=person,
            request=request,
            object_type=order.object_type,
            object_id=order.object_id,
            data={"provider": order.provider, "order": str(order.public_id)},
        )
        signature_completed(signature=signature, request=request)


def _person_from_identity(identity: VerifiedIdentity) -> Person | None:
    """The person the e-ID names, created at their first login; names refreshed every time. A
    Swedish personal identity number wins; a foreign e-ID without one is known by its eIDAS
    person identifier."""
    defaults = {"given_name": identity.given_name, "surname": identity.surname, "password": "!"}
    if identity.personal_number:
        try:
            number = normalise_personal_number(identity.personal_number)
        except InvalidPersonalNumber:
            logger.warning("eid_invalid_personal_number", issuer=identity.issuer)
            return None
        person, created = Person.objects.get_or_create(personal_number=number, defaults=defaults)
    elif identity.eidas_identifier and is_valid_eidas_identifier(identity.eidas_identifier):
        person, created = Person.objects.get_or_create(
            eidas_identifier=normalise_eidas_identifier(identity.eidas_identifier),
            defaults=defaults,
        )
    else:
        return None
    if not created and (person.given_name, person.surname) != (
        identity.given_name,
        identity.surname,
    ):
        person.given_name, person.surname = identity.given_name, identity.surname
        person.save(update_fields=["given_name", "surname"])
    return person


def eid_login_finish(*, request: HttpRequest, order: EidTransaction) -> Person:
    """Log the person in with a completed login order: once, in this session, with a new
    session id (against session fixation)."""
    with transaction.atomic():
        locked = EidTransaction.objects.select_for_update().get(pk=order.pk)
        usable = (
            locked.purpose == EidTransaction.Purpose.LOGIN
            and locked.status == EidTransaction.Status.COMPLETE
            and locked.consumed_at is None
            and locked.person is not None
        )
        if usable:
            return _login(request=request, order=locked)
    # Refused outside the login's transaction, so that the refusal's audit event is kept.
    with transaction.atomic():
        _record_order_event(
            EventType.EID_ORDER_REFUSED,
            request=request,
            order=locked,
            data={"reason": "replay" if locked.consumed_at else "not-complete"},
        )
    raise EidOrderRefused(_("Inloggningen är redan använd. Logga in på nytt."))


def _login(*, request: HttpRequest, order: EidTransaction) -> Person:
    """Inside the caller's transaction, with ``order`` locked: use the order, log in, record."""
    person = order.person
    assert person is not None  # noqa: S101 (checked by the caller)
    assurance = order.assurance or str(_provider(order.provider).assurance)
    order.consumed_at = timezone.now()
    order.save(update_fields=["consumed_at"])
    login(request, person, backend=PERSON_BACKEND)
    login_record = Login.objects.create(
        person=person,
        transaction=order,
        issuer=order.provider,
        assurance=assurance,
        ip_address=client_ip(request),
        user_agent=request.headers.get("user-agent", "")[:256],
        session_key=request.session.session_key or "",
    )
    # Every event of this session names the login it came from.
    request.session[audit.SESSION_LOGIN_KEY] = login_record.pk
    audit.record(
        EventType.LOGIN_SUCCEEDED,
        actor=person,
        request=request,
        object_type="eid-order",
        object_id=str(order.public_id),
        # Which issuer, at which level, and the issuer's own transaction identifier (R12).
        data={
            "provider": order.provider,
            "issuer": order.provider,
            "assurance": assurance,
            "transaction": order.transaction_id,
        },
    )
    return person


def eid_order_cancel(*, request: HttpRequest, order: EidTransaction, reason: str = "user") -> None:
    """Cancel a pending order with the provider (best effort) and here."""
    if order.status != EidTransaction.Status.PENDING:
        return
    provider = get_provider(order.provider)
    if provider is not None:
        try:
            provider.cancel(_started(order))
        except ProviderError as error:
            # The order ends by itself at the provider; here it is cancelled all the same.
            logger.info("eid_cancel_failed", provider=order.provider, code=error.code)
    with transaction.atomic():
        locked = EidTransaction.objects.select_for_update().get(pk=order.pk)
        if locked.status != EidTransaction.Status.PENDING:
            return
        locked.status = EidTransaction.Status.CANCELLED
        locked.hint_code = reason
        locked.message_key = "RFA6"
        locked.finished_at = timezone.now()
        locked.save()
        _record_order_event(
            _CANCEL_EVENTS[EidTransaction.Purpose(locked.purpose)],
            request=request,
            order=locked,
            data={"provider": locked.provider, "reason": reason},
        )


def session_end(*, request: HttpRequest, reason: str) -> None:
    """End the person's session: on logout, or when the idle or absolute lifetime has run out."""
    person = _actor(request)
    event = EventType.SESSION_ENDED if reason == "logout" else EventType.SESSION_EXPIRED
    session_key = request.session.session_key
    with transaction.atomic():
        if person is not None and session_key:
            Login.objects.filter(
                person=person, session_key=session_key, ended_at__isnull=True
            ).update(ended_at=timezone.now(), end_reason=reason)
        audit.record(event, actor=person, request=request, data={"reason": reason})
    logout(request)
    if reason != "logout":
        messages.info(
            request,
            _(
                "Du har loggats ut eftersom du varit inaktiv en tid eller varit inloggad länge. "
                "Logga in igen för att fortsätta."
            ),
        )


def sessions_end_everywhere(*, request: HttpRequest) -> int:
    """End every session of the logged-in person, on every device, this one included."""
    person = _actor(request)
    if person is None:
        return 0
    store = settings.SESSION_ENGINE
    from importlib import import_module  # noqa: PLC0415

    session_store = import_module(store).SessionStore
    with transaction.atomic():
        open_logins = list(
            Login.objects.filter(person=person, ended_at__isnull=True).exclude(session_key="")
        )
        for entry in open_logins:
            session_store(session_key=entry.session_key).delete()
        Login.objects.filter(pk__in=[entry.pk for entry in open_logins]).update(
            ended_at=timezone.now(), end_reason="logout-everywhere"
        )
        # Any other session that names the person (one whose login record is gone, say) ends too.
        others, _by_model = Session.objects.filter(person=person).delete()
        ended = len(open_logins) + others
        audit.record(
            EventType.SESSIONS_ENDED_EVERYWHERE,
            actor=person,
            request=request,
            data={"sessions": ended},
        )
    logout(request)
    return ended
