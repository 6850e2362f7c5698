"""BankID's recommended user messages (RFA1 to RFA23) and which one to show when.

The texts follow BankID's guidelines for relying parties, in Swedish (the msgids) and English (the
translation catalogue). Hint and error codes that BankID may add later fall back to the generic
messages: RFA21 while an order is pending, RFA22 when it has failed.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

RFA: dict[str, Promise] = {
    "RFA1": _("Starta BankID-appen."),
    "RFA2": _("Du har inte BankID-appen installerad. Kontakta din bank."),
    "RFA3": _("Åtgärden avbruten. Försök igen."),
    "RFA4": _(
        "En identifiering eller underskrift för det här personnumret är redan påbörjad. Försök igen."
    ),
    "RFA5": _("Internt tekniskt fel. Försök igen."),
    "RFA6": _("Åtgärden avbruten."),
    "RFA8": _(
        "BankID-appen svarar inte. Kontrollera att den är startad och att du har internetanslutning. "
        "Om du inte har något giltigt BankID kan du skaffa ett hos din bank. Försök sedan igen."
    ),
    "RFA9": _("Skriv in din säkerhetskod i BankID-appen och välj Identifiera eller Skriv under."),
    "RFA13": _("Försöker starta BankID-appen."),
    "RFA14A": _(
        "Söker efter BankID, det kan ta en liten stund … Om det har gått några sekunder och inget "
        "BankID har hittats har du sannolikt inget BankID som går att använda för den aktuella "
        "identifieringen/underskriften i den här datorn. Om du har ett BankID-kort, sätt in det i "
        "kortläsaren. Om du inte har något BankID kan du skaffa ett hos din bank. Om du har ett "
        "BankID på en annan enhet kan du starta din BankID-app där."
    ),
    "RFA14B": _(
        "Söker efter BankID, det kan ta en liten stund … Om det har gått några sekunder och inget "
        "BankID har hittats har du sannolikt inget BankID som går att använda för den aktuella "
        "identifieringen/underskriften i den här enheten. Om du inte har något BankID kan du skaffa "
        "ett hos din bank. Om du har ett BankID på en annan enhet kan du starta din BankID-app där."
    ),
    "RFA16": _(
        "Det BankID du försöker använda är för gammalt eller spärrat. Använd ett annat BankID eller "
        "skaffa ett nytt hos din bank."
    ),
    "RFA17A": _(
        "BankID-appen verkar inte finnas i din dator eller mobil. Installera den och skaffa ett "
        "BankID hos din bank. Installera appen från din appbutik eller https://install.bankid.com."
    ),
    "RFA17B": _(
        "Misslyckades att läsa av QR-koden. Starta BankID-appen och läs av QR-koden. Kontrollera att "
        "BankID-appen är uppdaterad. Om du inte har BankID-appen måste du installera den och skaffa "
        "ett BankID hos din bank. Installera appen från din appbutik eller https://install.bankid.com."
    ),
    "RFA18": _("Starta BankID-appen"),
    "RFA19": _(
        "Vill du identifiera dig eller skriva under med BankID på den här datorn eller med ett "
        "Mobilt BankID?"
    ),
    "RFA20": _(
        "Vill du identifiera dig eller skriva under med ett BankID på den här enheten eller med ett "
        "BankID på en annan enhet?"
    ),
    "RFA21": _("Identifiering eller underskrift pågår."),
    "RFA22": _("Okänt fel. Försök igen."),
    "RFA23": _("Fotografera och läs av din ID-handling med BankID-appen."),
    # Not numbered by BankID: the phone flow's confirmation, and an app too old for the order.
    "CALL_CONFIRM": _("Bekräfta i BankID-appen att samtalet kommer från oss."),
    "UPDATE_APP": _("Din BankID-app behöver uppdateras. Uppdatera appen och försök igen."),
}


def pending_message(hint_code: str, *, same_device: bool) -> str:
    """The RFA key for a pending order's hint code."""
    if hint_code in {"outstandingTransaction", "noClient"}:
        return "RFA13" if same_device and hint_code == "outstandingTransaction" else "RFA1"
    return {
        "started": "RFA14B" if same_device else "RFA14A",
        "userMrtd": "RFA23",
        "userCallConfirm": "CALL_CONFIRM",
        "userSign": "RFA9",
    }.get(hint_code, "RFA21")


def failed_message(hint_code: str, *, same_device: bool) -> str:
    """The RFA key for a failed order's hint code."""
    return {
        "expiredTransaction": "RFA8",
        "certificateErr": "RFA16",
        "userCancel": "RFA6",
        "cancelled": "RFA3",
        "startFailed": "RFA17A" if same_device else "RFA17B",
        "userDeclinedCall": "RFA6",
        "notSupportedByUserApp": "UPDATE_APP",
        "transactionRiskBlocked": "RFA22",
    }.get(hint_code, "RFA22")


def error_message(error_code: str) -> str:
    """The RFA key for an error answer. Errors that are the relying party's own fault
    (invalidParameters, unauthorized, ...) must not be shown as BankID errors: RFA22."""
    return {
        "alreadyInProgress": "RFA4",
        "internalError": "RFA5",
        "maintenance": "RFA5",
        "requestTimeout": "RFA5",
        "tooManyRequests": "RFA5",
        "unavailable": "RFA5",
    }.get(error_code, "RFA22")


def text(key: str) -> str:
    return str(RFA.get(key, RFA["RFA22"]))
