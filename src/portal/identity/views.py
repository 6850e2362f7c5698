"""Login with e-ID, the order page (QR code or app on this device), logout and the account page."""

from __future__ import annotations

import time
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from portal.common.routes import authenticated, public, read_only
from portal.identity import services
from portal.identity.bankid.qr import qr_auth_code
from portal.identity.models import EidTransaction, Login, Person
from portal.identity.providers.registry import get_provider


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


@public
@read_only
def login_page(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.GET.get("next"))
    if request.user.is_authenticated:
        return redirect(next_url or "employers:start")
    bankid = get_provider("bankid")
    return render(
        request,
        "identity/login.html",
        {"next": next_url, "bankid": bankid, "question": bankid.message("RFA20") if bankid else ""},
    )


@public
@require_POST
def bankid_start(request: HttpRequest) -> HttpResponse:
    order = services.eid_order_start(
        request=request,
        provider_code="bankid",
        purpose=EidTransaction.Purpose.LOGIN,
        same_device=request.POST.get("device") == "this",
        next_url=_safe_next(request, request.POST.get("next")),
    )
    return redirect("identity:order", public_id=order.public_id)


def _qr_svg(order: EidTransaction) -> str:
    """The animated QR code's current frame: ``bankid.<token>.<seconds>.<HMAC(secret, seconds)>``.
    Computed here, on the server, so the secret never reaches the browser."""
    token = order.secrets.get("qr_start_token", "")
    secret = order.secrets.get("qr_start_secret", "")
    seconds = max(0, int(time.time() - order.started_at.timestamp()))
    content = f"bankid.{token}.{seconds}.{qr_auth_code(secret, seconds)}"
    return str(
        segno.make(content, error="l").svg_inline(scale=5, border=4, svgclass="portal-qr__image")
    )


def _advance(request: HttpRequest, public_id: str) -> tuple[EidTransaction, str]:
    """Poll the order and, when a login is complete, log the person in. Returns the order and the
    address to go to next (empty while it is pending or after it failed)."""
    order = services.eid_order_for_session(request=request, public_id=public_id)
    order = services.eid_order_poll(request=request, order=order)
    if order.status != EidTransaction.Status.COMPLETE:
        return order, ""
    if order.purpose == EidTransaction.Purpose.LOGIN:
        services.eid_login_finish(request=request, order=order)
        messages.success(request, _("Du är inloggad."))
        return order, order.next_url or reverse("employers:start")
    return order, order.next_url or reverse("home")


def _message(order: EidTransaction) -> str:
    if order.message_key == "REFUSED":
        return _("Den e-legitimationen kan inte användas för att logga in här.")
    provider = get_provider(order.provider)
    return provider.message(order.message_key) if provider else ""


@public
@never_cache
@read_only
def order_page(request: HttpRequest, public_id: str) -> HttpResponse:
    order, next_url = _advance(request, public_id)
    if next_url:
        return HttpResponseRedirect(next_url)
    pending = order.status == EidTransaction.Status.PENDING
    provider = get_provider(order.provider)
    return render(
        request,
        "identity/order.html",
        {
            "order": order,
            "pending": pending,
            "message": _message(order),
            "qr_svg": _qr_svg(order) if pending and not order.same_device else "",
            "autostart_url": settings.BANKID_AUTOSTART_URL.format(
                token=order.secrets.get("auto_start_token", "")
            )
            if pending and order.same_device
            else "",
            "start_button": provider.message("RFA18") if provider else "",
        },
    )


@public
@never_cache
@read_only
def order_status(request: HttpRequest, public_id: str) -> JsonResponse:
    """For the page's script, polled every second: the state, the message and a fresh QR frame."""
    order, next_url = _advance(request, public_id)
    pending = order.status == EidTransaction.Status.PENDING
    body: dict[str, Any] = {
        "status": order.status,
        "message": _message(order),
        "redirect": next_url,
    }
    if pending and not order.same_device:
        body["qr"] = _qr_svg(order)
    return JsonResponse(body)


@public
@require_POST
def order_cancel(request: HttpRequest, public_id: str) -> HttpResponse:
    order = services.eid_order_for_session(request=request, public_id=public_id)
    services.eid_order_cancel(request=request, order=order)
    messages.info(request, _("Inloggningen avbröts."))
    return redirect("identity:login")


@authenticated
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    services.session_end(request=request, reason="logout")
    messages.success(
        request,
        _("Du är utloggad. Stäng webbläsaren om du använder en dator som andra också använder."),
    )
    return redirect("home")


@authenticated
@require_POST
def logout_everywhere(request: HttpRequest) -> HttpResponse:
    count = services.sessions_end_everywhere(request=request)
    text = ngettext(
        "Du är utloggad på alla enheter (%(count)s session).",
        "Du är utloggad på alla enheter (%(count)s sessioner).",
        count,
    )
    messages.success(request, text % {"count": count})
    return redirect("home")


@authenticated
@read_only
def account(request: HttpRequest) -> HttpResponse:
    person = request.user
    assert isinstance(person, Person)  # noqa: S101 (authenticated guarantees a person)
    logins = Login.objects.filter(person=person).order_by("-logged_in_at")[:10]
    return render(request, "identity/account.html", {"person": person, "logins": logins})
