"""Login with e-ID, the order page (QR code or app on this device), logout and the account page."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import segno
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from portal.common.errors import ApplicationError
from portal.common.routes import authenticated, public, read_only
from portal.identity import services
from portal.identity.models import EidTransaction, Login, Person
from portal.identity.providers.base import IdentityProvider, RedirectIdentityProvider
from portal.identity.providers.registry import enabled_providers, get_provider


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
    providers = enabled_providers()
    return render(
        request,
        "identity/login.html",
        {
            "next": next_url,
            "app_providers": [p for p in providers if p.flow == "poll"],
            "redirect_providers": [p for p in providers if p.flow == "redirect"],
            "redirect_codes": [p.code for p in providers if p.flow == "redirect"],
            "bankid_question": next(
                (p.message("RFA20") for p in providers if p.code == "bankid"), ""
            ),
        },
    )


@public
@require_POST
def eid_start(request: HttpRequest, provider: str) -> HttpResponse:
    """Start a login with the chosen e-ID: the order page (app and QR code), or off to the
    identity provider of a redirect flow."""
    order = services.eid_order_start(
        request=request,
        provider_code=provider,
        purpose=EidTransaction.Purpose.LOGIN,
        same_device=request.POST.get("device") == "this",
        next_url=_safe_next(request, request.POST.get("next")),
    )
    return _go_to_provider(request, order) or redirect("identity:order", public_id=order.public_id)


def _go_to_provider(request: HttpRequest, order: EidTransaction) -> HttpResponse | None:
    """A redirect flow's way to the identity provider: a redirect, or (SAML's HTTP-POST binding)
    a form the browser submits by itself, with a button for when scripts are off."""
    target = services.eid_order_redirect(order)
    if target is None:
        return None
    provider = get_provider(order.provider)
    response = render(
        request,
        "identity/redirect.html",
        {"target": target, "provider_name": provider.name if provider else ""},
    )
    # A page, not a 302: a redirect after the login page's form would be held to the page's
    # form-action policy ('self'). The page's own form may post to the identity provider only.
    if target.form is not None:
        parts = urlsplit(target.url)
        response._csp_update = {"form-action": [f"{parts.scheme}://{parts.netloc}"]}  # type: ignore[attr-defined]
    add_never_cache_headers(response)
    return response


#: The field that marks an identity provider's answer posted again from the portal's own page.
RESUBMITTED = "_portal_resubmitted"


@public
@csrf_exempt  # the identity provider's answer arrives by a cross-site POST (SAML HTTP-POST)
@never_cache
@require_http_methods(["GET", "POST"])
def eid_callback(request: HttpRequest, provider: str) -> HttpResponse:
    """The browser is back from a redirect flow's identity provider with its answer."""
    if (
        request.method == "POST"
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and RESUBMITTED not in request.POST
    ):
        # The answer came by a cross-site POST (SAML's HTTP-POST binding), which carries no
        # SameSite=Lax session cookie. Post it again from this site, so that the cookie comes with
        # it and the answer is matched to the browser session that asked for it.
        fields = {**request.POST.dict(), RESUBMITTED: "1"}
        response = render(request, "identity/repost.html", {"url": request.path, "fields": fields})
        add_never_cache_headers(response)
        return response
    params = {**request.GET.dict(), **request.POST.dict()}
    params.pop(RESUBMITTED, None)
    try:
        order = services.eid_redirect_finish(request=request, provider_code=provider, params=params)
    except ApplicationError as error:
        messages.error(request, str(error.message))
        return redirect("identity:login")
    _order, next_url = _advance(request, str(order.public_id))
    if next_url:
        return HttpResponseRedirect(next_url)
    messages.error(request, _message(order))
    return redirect("identity:login")


def _qr_svg(order: EidTransaction, provider: IdentityProvider | None) -> str:
    """The QR code's current frame, computed on the server so that no secret reaches the
    browser (BankID's changes every second)."""
    if provider is None:
        return ""
    seconds = max(0, int(time.time() - order.started_at.timestamp()))
    content = provider.qr_content(services.order_started(order), seconds)
    if not content:
        return ""
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
        if order.hint_code == "assurance-too-low":
            return _(
                "Din e-legitimation har inte tillräckligt hög tillitsnivå för det här. "
                "Använd en e-legitimation med högre tillitsnivå, till exempel BankID."
            )
        if order.hint_code == "rate-limited-person":
            return _(
                "Det har gjorts för många inloggningar med din e-legitimation på kort tid. "
                "Vänta några minuter och försök sedan igen."
            )
        if order.hint_code == "missing-personal-number":
            return _(
                "E-legitimationen gav oss inget personnummer eller någon annan identitet som vi "
                "kan använda. Välj en annan e-legitimation."
            )
        return _("Den e-legitimationen kan inte användas för att logga in här.")
    if order.message_key == "CANCELLED":
        return _("Inloggningen avbröts.")
    provider = get_provider(order.provider)
    return provider.message(order.message_key) if provider and order.message_key else ""


@public
@never_cache
@read_only
def order_page(request: HttpRequest, public_id: str) -> HttpResponse:
    order = services.eid_order_for_session(request=request, public_id=public_id)
    if (to_provider := _go_to_provider(request, order)) is not None:
        return to_provider
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
            "provider": provider,
            "pending": pending,
            "message": _message(order),
            "qr_svg": _qr_svg(order, provider) if pending and not order.same_device else "",
            "autostart_url": provider.app_url(services.order_started(order))
            if provider and pending and order.same_device
            else "",
            "start_button": provider.app_button() if provider else "",
            "redirect_flow": isinstance(provider, RedirectIdentityProvider),
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
        body["qr"] = _qr_svg(order, get_provider(order.provider))
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
