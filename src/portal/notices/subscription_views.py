"""The access administrator's page for the e-mail notices of outages and incidents (R15), under
the employer: subscribe or unsubscribe. The employer is fetched with ``access.selectors.employer_for``
(the check and the audited refusal in one step); writes go through ``notices.subscriptions``."""

from __future__ import annotations

from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from portal.access.selectors import employer_for, eservice_codes_used
from portal.common.routes import requires
from portal.eservices import registry
from portal.identity.models import Person
from portal.notices.subscriptions import (
    SUBSCRIBE,
    NoAddress,
    address_of,
    subscription_of,
    subscription_set,
)

ON = "on"
OFF = "off"


class SubscriptionForm(forms.Form):
    subscribe = forms.ChoiceField(
        label=gettext_lazy("Vill du få driftmeddelanden med e-post?"),
        choices=[
            (ON, gettext_lazy("Ja, skicka driftmeddelanden till mig")),
            (OFF, gettext_lazy("Nej, inga driftmeddelanden")),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Välj om du vill få driftmeddelanden."),
            "invalid_choice": gettext_lazy("Välj om du vill få driftmeddelanden."),
        },
    )


@requires(SUBSCRIBE)
@require_http_methods(["GET", "HEAD", "POST"])
def subscription(request: HttpRequest, public_id: UUID) -> HttpResponse:
    employer = employer_for(request, public_id, SUBSCRIBE)
    person = request.user
    assert isinstance(person, Person)  # noqa: S101 (requires() guarantees a person)
    subscribed = subscription_of(person, employer) is not None
    form = SubscriptionForm(
        request.POST if request.method == "POST" else None,
        initial={"subscribe": ON if subscribed else OFF},
    )
    if request.method == "POST" and form.is_valid():
        on = form.cleaned_data["subscribe"] == ON
        try:
            subscription_set(person=person, employer=employer, on=on, request=request)
        except NoAddress as error:
            form.add_error("subscribe", error.message)
        else:
            messages.success(
                request,
                _("Du får nu driftmeddelanden med e-post.")
                if on
                else _("Du får inte längre några driftmeddelanden med e-post."),
            )
            return redirect("notices:subscription", public_id=employer.public_id)
    names = []
    for code in eservice_codes_used(employer):
        eservice = registry.get(code)
        if eservice is not None:
            names.append(str(eservice.name))
    return render(
        request,
        "notices/subscription.html",
        {
            "employer": employer,
            "form": form,
            "subscribed": subscribed,
            "address": address_of(person, employer),
            "eservices": sorted(names),
        },
        status=400 if form.errors else 200,
    )
