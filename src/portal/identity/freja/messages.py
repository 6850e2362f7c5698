"""What the person is told during a Freja eID+ login, in Swedish (the msgids).

Freja publishes no numbered texts like BankID's RFA messages, so the keys are the portal's own.
Every key the Freja provider produces (``Progress.message_key``, ``ProviderError.message_key``)
has a text here; an unknown key falls back to ``error``.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

MESSAGES: dict[str, Promise] = {
    # Pending.
    "scanQr": _("Öppna Freja eID-appen och skanna QR-koden."),
    "startingApp": _("Försöker starta Freja eID-appen."),
    "confirmInApp": _("Bekräfta legitimeringen i Freja eID-appen."),
    # Complete.
    "complete": _("Legitimeringen med Freja eID+ är klar."),
    # Failed.
    "userCancel": _("Legitimeringen avbröts i Freja eID-appen."),
    "cancelled": _("Legitimeringen avbröts."),
    "expiredTransaction": _(
        "Tiden för att legitimera dig med Freja eID gick ut. Försök igen och bekräfta i appen "
        "inom två minuter."
    ),
    "rejected": _(
        "Freja eID stoppade legitimeringen av säkerhetsskäl. Vänta en stund och försök igen."
    ),
    "invalidAnswer": _(
        "Svaret från Freja eID kunde inte kontrolleras, så du har inte loggats in. Försök igen."
    ),
    "registrationLevelTooLow": _(
        "Du behöver Freja eID+ för att logga in här. Uppgradera din Freja eID i appen och försök "
        "igen."
    ),
    # Errors.
    "unavailable": _("Freja eID går inte att nå just nu. Försök igen om en stund."),
    "error": _("Något gick fel med Freja eID. Försök igen."),
    "signingNotSupported": _(
        "Det går inte att skriva under med Freja eID här. Välj en annan e-legitimation."
    ),
    "assuranceTooLow": _(
        "Freja eID+ räcker inte för det här. Välj en e-legitimation med högre tillitsnivå."
    ),
    # The order page.
    "startApp": _("Öppna Freja eID-appen"),
    "question": _(
        "Vill du legitimera dig med Freja eID-appen på den här enheten eller på en annan enhet?"
    ),
}


def pending_message(status: str, *, same_device: bool) -> str:
    """The key for a pending transaction's status."""
    if status == "DELIVERED_TO_MOBILE":
        return "confirmInApp"
    return "startingApp" if same_device else "scanQr"


def text(key: str) -> str:
    return str(MESSAGES.get(key, MESSAGES["error"]))
