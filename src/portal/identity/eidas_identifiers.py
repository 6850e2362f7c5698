"""eIDAS person identifiers: how a person with a foreign e-ID is known in the portal.

Sweden Connect's eIDAS connector hands over the eIDAS ``PersonIdentifier`` of a person who logs
in with an e-ID from another EU/EEA country. Its form is ``CC/CC/identifier``: the country that
issued the e-ID, the receiving country (always ``SE`` here) and the person's identifier in the
issuing country, made of readable characters (a national number, a hash, or base64 with ``+``,
``/`` and ``=``). The identifier part is case-sensitive and kept as written; only the country codes
are upper-cased. Such a person has no Swedish personal identity number, so the identifier is
masked like one wherever it is shown: the countries and the last four characters.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from portal.identity.numbers import mask_personal_number

if TYPE_CHECKING:
    from portal.identity.models import Person

#: The longest identifier stored (``Person.eidas_identifier``).
MAX_LENGTH = 256
#: The receiving country: the portal is a Swedish service provider.
RECEIVING_COUNTRY = "SE"
#: An example for messages and help texts.
EXAMPLE = "DE/SE/1234567890"

_COUNTRY = re.compile(r"[A-Za-z]{2}")
# Readable characters of national identifiers: letters, digits, and the punctuation of hashes,
# base64 (+ / =) and structured numbers (- . _ :).
_IDENTIFIER = re.compile(r"[A-Za-z0-9+/=\-._:]+")
_SHAPE = re.compile(r"\s*[A-Za-z]{2}\s*/\s*[A-Za-z]{2}\s*/")
_SHOWN_CHARACTERS = 4
_MASK = "****"


class InvalidEidasIdentifier(ValueError):
    """The text is not an eIDAS person identifier this portal accepts. ``message`` says why, in
    Swedish, for the person who typed it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def looks_like_eidas_identifier(text: str) -> bool:
    """Does ``text`` start like an eIDAS identifier (two country codes and slashes)? For telling
    it from a personal identity number in a column that may hold either."""
    return bool(_SHAPE.match(text or ""))


def normalise_eidas_identifier(text: str) -> str:
    """Return ``text`` as an identifier ``CC/SE/identifier`` with upper-case country codes, or
    raise ``InvalidEidasIdentifier`` with the reason."""
    text = (text or "").strip()
    if not text:
        raise InvalidEidasIdentifier(
            _("Skriv personens eIDAS-identitet, till exempel %(example)s.") % {"example": EXAMPLE}
        )
    parts = text.split("/", 2)
    if len(parts) < 3:  # noqa: PLR2004 (issuing country, receiving country, identifier)
        raise InvalidEidasIdentifier(
            _(
                "Skriv eIDAS-identiteten som landskod/SE/identitet, med snedstreck mellan delarna, "
                "till exempel %(example)s."
            )
            % {"example": EXAMPLE}
        )
    issuing, receiving, identifier = (part.strip() for part in parts)
    if not _COUNTRY.fullmatch(issuing):
        raise InvalidEidasIdentifier(
            _(
                "eIDAS-identiteten ska börja med landskoden för landet som har utfärdat "
                "e-legitimationen, två bokstäver, till exempel DE i %(example)s."
            )
            % {"example": EXAMPLE}
        )
    issuing = issuing.upper()
    if not _COUNTRY.fullmatch(receiving) or receiving.upper() != RECEIVING_COUNTRY:
        raise InvalidEidasIdentifier(
            _(
                "Den andra delen av eIDAS-identiteten ska vara SE, eftersom personen loggar in i en "
                "svensk e-tjänst, till exempel %(example)s."
            )
            % {"example": EXAMPLE}
        )
    if issuing == RECEIVING_COUNTRY:
        raise InvalidEidasIdentifier(
            _(
                "En svensk e-legitimation har ingen eIDAS-identitet här. Välj att personen har "
                "svenskt personnummer och skriv personnumret."
            )
        )
    if not identifier:
        raise InvalidEidasIdentifier(
            _(
                "Personens identitet efter %(prefix)s saknas. Skriv hela eIDAS-identiteten, till "
                "exempel %(example)s."
            )
            % {"prefix": f"{issuing}/{RECEIVING_COUNTRY}/", "example": EXAMPLE}
        )
    if not _IDENTIFIER.fullmatch(identifier):
        raise InvalidEidasIdentifier(
            _(
                "eIDAS-identiteten får bara innehålla bokstäverna A–Z, siffror och tecknen "
                "+ / = - . _ : utan mellanslag. Kontrollera att du har skrivit av den rätt."
            )
        )
    normalised = f"{issuing}/{RECEIVING_COUNTRY}/{identifier}"
    if len(normalised) > MAX_LENGTH:
        raise InvalidEidasIdentifier(
            _("eIDAS-identiteten får vara högst %(max)d tecken.") % {"max": MAX_LENGTH}
        )
    return normalised


def is_valid_eidas_identifier(text: str) -> bool:
    try:
        normalise_eidas_identifier(text)
    except InvalidEidasIdentifier:
        return False
    return True


def issuing_country(identifier: str) -> str:
    """The country code of the country that issued the e-ID (``DE`` of ``DE/SE/...``), or ``""``."""
    country = (identifier or "").split("/", 1)[0].strip().upper()
    return country if _COUNTRY.fullmatch(country) else ""


def mask_eidas_identifier(identifier: str) -> str:
    """The form shown where an identifier must not be shown in full: the countries and the last
    four characters (``DE/SE/****7890``); nothing of the national part if it is short."""
    parts = (identifier or "").split("/", 2)
    if len(parts) < 3:  # noqa: PLR2004
        return _MASK
    issuing, receiving, national = parts
    # At least as many characters hidden as shown (as in 19121212-****): a short identifier
    # shows none of its national part.
    shown = national[-_SHOWN_CHARACTERS:] if len(national) >= 2 * _SHOWN_CHARACTERS else ""
    return f"{issuing.upper()}/{receiving.upper()}/{_MASK}{shown}"


def masked_identity(personal_number: str | None, eidas_identifier: str | None) -> str:
    """How a person is shown where their identity number must be masked: ``19121212-****`` for a
    Swedish personal identity number, ``Utländsk e-legitimation (DE), DE/SE/****7890`` otherwise."""
    if personal_number:
        return mask_personal_number(personal_number)
    if eidas_identifier:
        return _("Utländsk e-legitimation (%(country)s), %(masked)s") % {
            "country": issuing_country(eidas_identifier) or "?",
            "masked": mask_eidas_identifier(eidas_identifier),
        }
    return _("Utländsk e-legitimation")


def person_masked(person: Person) -> str:
    """``masked_identity`` of a person (what ``Person.masked_identifier`` could return)."""
    return masked_identity(person.personal_number, person.eidas_identifier)
