"""Driving a login through the SAML providers and the test IdP, as the portal's views would."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from portal.identity.providers.base import Assurance, Started, StartRequest, VerifiedIdentity
from portal.identity.saml.idp import (
    ForeignPerson,
    PendingRequest,
    PostForm,
    ResponseOptions,
    RunningIdp,
    SwedishPerson,
)
from portal.identity.saml.provider import SamlProvider

TOLVAN = SwedishPerson("191212121212", "Tolvan", "Tolvansson")
DRAGAN = SwedishPerson("197001632392", "Dragan", "Testović")
ERIKA = ForeignPerson("DE", "1234567890", "Erika", "Mustermann", "1964-08-12")
LOA2 = "http://id.elegnamnden.se/loa/1.0/loa2"
LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"
LOA4 = "http://id.elegnamnden.se/loa/1.0/loa4"
EIDAS_NF_SUB = "http://id.elegnamnden.se/loa/1.0/eidas-nf-sub"
EIDAS_NF_HIGH = "http://id.elegnamnden.se/loa/1.0/eidas-nf-high"
EIDAS_SUB = "http://id.elegnamnden.se/loa/1.0/eidas-sub"


def start_request(code: str, *, minimum: Assurance = Assurance.LOA3) -> StartRequest:
    return StartRequest(
        purpose="login",
        end_user_ip="127.0.0.1",
        user_agent="pytest",
        device_identifier="device",
        referring_domain="127.0.0.1",
        same_device=False,
        minimum=minimum,
        state=str(uuid.uuid4()),
        callback_url=f"{settings.BASE_URL}/logga-in/{code}/svar",
    )


@dataclass
class Login:
    """One login under way: what the portal started and what the IdP received."""

    provider: SamlProvider
    idp: RunningIdp
    request: StartRequest
    started: Started
    pending: PendingRequest

    def answer(
        self,
        person: SwedishPerson | ForeignPerson = TOLVAN,
        *,
        context: str | None = None,
        **options: Any,
    ) -> PostForm:
        """The IdP's answer (``options``: fields of ``ResponseOptions``, to tamper)."""
        return self.idp.state.respond(
            self.pending.id, person, context=context, options=ResponseOptions(**options)
        )

    def finish(self, form: PostForm | dict[str, str]) -> VerifiedIdentity:
        fields = form.fields if isinstance(form, PostForm) else form
        return self.provider.finish(self.started, fields, self.request)


def begin(provider: SamlProvider, idp: RunningIdp, *, minimum: Assurance = Assurance.LOA3) -> Login:
    """Start a login and bring the request to the IdP, as the browser would."""
    request = start_request(provider.code, minimum=minimum)
    started = provider.start(request)
    assert started.redirect is not None
    pending = idp.state.receive(started.redirect.url, started.redirect.form)
    return Login(provider, idp, request, started, pending)
