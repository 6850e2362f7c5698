"""Swedish personal identity numbers: personnummer and samordningsnummer (coordination numbers).

Format, date and check digit are validated with python-stdnum's ``se.personnummer``. A coordination
number is a personal number whose day of birth has 60 added; stdnum does not know them, so the day
is brought back into range before stdnum checks the date, and the check digit is verified on the
number as written.
"""

from __future__ import annotations

from stdnum import exceptions as stdnum_exceptions
from stdnum import luhn
from stdnum.se import personnummer

_COORDINATION_OFFSET = 60


def _ascii_digits(text: str) -> bool:
    # str.isdigit() also accepts superscripts and other scripts' digits.
    return text.isascii() and text.isdigit()


class InvalidPersonalNumber(ValueError):
    """The text is not a valid personal or coordination number."""


def normalise_personal_number(text: str) -> str:
    """Return the 12-digit form (YYYYMMDDNNNC) of a valid personal or coordination number.

    Accepts the forms people write: with or without century, with ``-`` or ``+`` (100 years or
    older) before the last four digits, with spaces. Raises ``InvalidPersonalNumber`` otherwise.
    """
    try:
        compacted = personnummer.compact(text or "")
    except stdnum_exceptions.ValidationError as error:
        raise InvalidPersonalNumber(str(error)) from None
    # stdnum's compact form is [CC]YYMMDD[-+]NNNC: find the day, whatever the length.
    day_at = len(compacted) - 7
    if day_at < 4 or not _ascii_digits(compacted[day_at : day_at + 2]):  # noqa: PLR2004
        raise InvalidPersonalNumber("not a personal identity number")
    day = int(compacted[day_at : day_at + 2])
    coordination = day > _COORDINATION_OFFSET
    as_birth_date = (
        f"{compacted[:day_at]}{day - _COORDINATION_OFFSET:02d}{compacted[day_at + 2 :]}"
        if coordination
        else compacted
    )
    digits = compacted.replace("-", "").replace("+", "")
    if len(compacted) not in (11, 13) or compacted[-5] not in "-+" or not _ascii_digits(digits):
        raise InvalidPersonalNumber("not a personal identity number")
    try:
        # stdnum's own validate() would check the digit against the shifted day; the check digit
        # covers the number as written, so date and digit are checked separately.
        birth = personnummer.get_birth_date(as_birth_date)
        luhn.validate(digits[-10:])
    except stdnum_exceptions.ValidationError as error:
        raise InvalidPersonalNumber(str(error)) from None
    return f"{birth.year:04d}{digits[-10:][2:]}"


def is_valid_personal_number(text: str) -> bool:
    try:
        normalise_personal_number(text)
    except InvalidPersonalNumber:
        return False
    return True


def is_coordination_number(normalised: str) -> bool:
    return int(normalised[6:8]) > _COORDINATION_OFFSET


def mask_personal_number(normalised: str) -> str:
    """The form shown where a number must not be shown in full: ``19121212-****``."""
    return f"{normalised[:8]}-****" if len(normalised) == 12 else "****"  # noqa: PLR2004
