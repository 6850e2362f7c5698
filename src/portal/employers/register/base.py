"""The company register as the portal sees it: value types, the adapter interface and id numbers.

An employer is connected to the portal only if the business register says that the person may sign
for it (firmateckning). The register is reached through an adapter (``CompanyRegister``): a file of
fictional companies for development and demos, or the register's HTTP API. Both speak the same JSON
shape, read by ``parse_company``, so that what one adapter accepts the other accepts too.

The value types check their own invariants when they are built and raise ``ValueError`` when one
does not hold; the adapters turn that into ``RegisterUnavailable``, since it means the register
answered something that cannot be true.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from stdnum import exceptions as stdnum_exceptions
from stdnum import luhn
from stdnum.se import orgnr

from portal.common.errors import ApplicationError, ServiceUnavailableError
from portal.identity.numbers import InvalidPersonalNumber, normalise_personal_number

_ORGANISATION_NUMBER_LENGTH = 10
_PERSONAL_NUMBER_LENGTH = 12
#: Skatteverket writes organisation numbers with twelve digits by putting this "century" first.
_ORGANISATION_CENTURY = "16"
#: A legal person's number has 20 or more where a personal number has its month, so the third digit
#: alone tells the two apart.
_LOWEST_THIRD_DIGIT = "2"
#: Centuries a living person (or one the register still lists) can be born in.
_PERSONAL_CENTURIES = frozenset({"18", "19", "20"})
#: Signing "jointly" takes at least two people; one would be signing alone.
_TOGETHER = 2
#: Longest name or description accepted from a register; longer text is a broken answer.
_MAX_TEXT_LENGTH = 1000


# --- errors ------------------------------------------------------------------------------------
class InvalidEmployerId(ApplicationError, ValueError):
    """The text is neither an organisation number nor a sole trader's personal number.

    A ``ValueError`` for form validation, and an ``ApplicationError`` so that a service may let it
    reach the person as a 400 with the Swedish message.
    """

    code = "invalid-employer-id"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or gettext(
                "Numret är inte ett giltigt organisationsnummer. Ange organisationsnumret med tio "
                "siffror, till exempel 556677-8899. Är arbetsgivaren en enskild näringsidkare "
                "anger du i stället personnumret, till exempel 19121212-1212."
            )
        )


class RegisterUnavailable(ServiceUnavailableError):
    """The register could not be reached, or answered something that cannot be right.

    The message is for the person (try again later); ``reason`` says what went wrong, in English,
    for the logs. Never "not found": an unknown organisation is ``lookup`` returning ``None``.
    """

    code = "company-register-unavailable"

    def __init__(self, reason: str) -> None:
        super().__init__(
            gettext(
                "Vi kan inte hämta uppgifter om företaget från företagsregistret just nu. "
                "Försök igen om en stund."
            )
        )
        self.reason = reason


# --- identity numbers --------------------------------------------------------------------------
def _ascii_digits(text: str) -> bool:
    # str.isdigit() also accepts superscripts and other scripts' digits.
    return text.isascii() and text.isdigit()


def _is_organisation_number(digits: str) -> bool:
    return (
        len(digits) == _ORGANISATION_NUMBER_LENGTH
        and _ascii_digits(digits)
        and digits[2] >= _LOWEST_THIRD_DIGIT
        and luhn.is_valid(digits)
    )


def _is_normalised_personal_number(text: str) -> bool:
    if len(text) != _PERSONAL_NUMBER_LENGTH or text[:2] not in _PERSONAL_CENTURIES:
        return False
    try:
        return normalise_personal_number(text) == text
    except InvalidPersonalNumber:
        return False


def normalise_employer_id(text: str) -> str:
    """Return the register's form of an employer's identity number.

    An organisation number (``556677-8899``, ``5566778899``, or with Skatteverket's ``16`` in front:
    ``16556677-8899``) gives its ten digits. A sole trader has no number of their own, so their
    personal or coordination number (any form ``normalise_personal_number`` accepts) gives its
    twelve digits. Anything else raises ``InvalidEmployerId``.
    """
    try:
        # orgnr.compact drops spaces, hyphens and dots, and turns the dashes people paste from word
        # processors (en dash, minus sign) into hyphens first.
        compacted = orgnr.compact(text)
    except stdnum_exceptions.ValidationError:
        raise InvalidEmployerId from None
    if _ascii_digits(compacted):
        candidate = ""
        if len(compacted) == _PERSONAL_NUMBER_LENGTH and compacted.startswith(
            _ORGANISATION_CENTURY
        ):
            candidate = compacted[len(_ORGANISATION_CENTURY) :]
        elif len(compacted) == _ORGANISATION_NUMBER_LENGTH and compacted[2] >= _LOWEST_THIRD_DIGIT:
            candidate = compacted
        if candidate:
            # Written as an organisation number: it must be one; it cannot be a personal number.
            if _is_organisation_number(candidate):
                return candidate
            raise InvalidEmployerId
    try:
        personal_number = normalise_personal_number(text)
    except InvalidPersonalNumber:
        raise InvalidEmployerId from None
    if personal_number[:2] not in _PERSONAL_CENTURIES:
        raise InvalidEmployerId
    return personal_number


def format_employer_id(normalised: str) -> str:
    """The form people read: ``556677-8899`` for an organisation, ``19121212-1212`` for a person."""
    return f"{normalised[:-4]}-{normalised[-4:]}"


# --- value types -------------------------------------------------------------------------------
class LegalForm(StrEnum):
    """The legal forms an employer may have (företagsform). Others are ``OTHER``."""

    AKTIEBOLAG = "aktiebolag"
    HANDELSBOLAG = "handelsbolag"
    KOMMANDITBOLAG = "kommanditbolag"
    ENSKILD_NARINGSIDKARE = "enskild_naringsidkare"
    EKONOMISK_FORENING = "ekonomisk_forening"
    IDEELL_FORENING = "ideell_forening"
    STIFTELSE = "stiftelse"
    OTHER = "other"

    @property
    def display_name(self) -> str:
        return str(_LEGAL_FORM_NAMES[self])


_LEGAL_FORM_NAMES: dict[LegalForm, Promise] = {
    LegalForm.AKTIEBOLAG: _("Aktiebolag"),
    LegalForm.HANDELSBOLAG: _("Handelsbolag"),
    LegalForm.KOMMANDITBOLAG: _("Kommanditbolag"),
    LegalForm.ENSKILD_NARINGSIDKARE: _("Enskild näringsidkare"),
    LegalForm.EKONOMISK_FORENING: _("Ekonomisk förening"),
    LegalForm.IDEELL_FORENING: _("Ideell förening"),
    LegalForm.STIFTELSE: _("Stiftelse"),
    LegalForm.OTHER: _("Annan företagsform"),
}


class CompanyStatus(StrEnum):
    """Where the company stands in the register. Only an active one may be connected."""

    ACTIVE = "active"
    IN_LIQUIDATION = "in_liquidation"
    IN_BANKRUPTCY = "in_bankruptcy"
    STRUCK_OFF = "struck_off"

    @property
    def display_name(self) -> str:
        return str(_STATUS_NAMES[self])


_STATUS_NAMES: dict[CompanyStatus, Promise] = {
    CompanyStatus.ACTIVE: _("Aktivt"),
    CompanyStatus.IN_LIQUIDATION: _("I likvidation"),
    CompanyStatus.IN_BANKRUPTCY: _("I konkurs"),
    CompanyStatus.STRUCK_OFF: _("Avregistrerat"),
}


def _normalised_or_none(personal_number: str) -> str | None:
    try:
        return normalise_personal_number(personal_number)
    except InvalidPersonalNumber:
        return None


@dataclass(frozen=True)
class Signatory:
    """A person the register lists as signing for the company (firmatecknare)."""

    #: Twelve digits, YYYYMMDDNNNC (a coordination number has 60 added to the day).
    personal_number: str
    name: str
    #: Signs for the company on their own; otherwise only together with other joint signatories.
    signs_alone: bool

    def __post_init__(self) -> None:
        if not _is_normalised_personal_number(self.personal_number):
            raise ValueError("a signatory's personal number must be valid and have 12 digits")


@dataclass(frozen=True)
class SignatoryRule:
    """Who may sign for the company (firmateckning), as the register states it.

    Each signatory either signs alone, or together with others who do not: ``jointly_required`` of
    those must sign together. It is 0 exactly when everyone signs alone (or no one is listed, which
    makes a rule nobody can satisfy), and otherwise between 2 and the number of joint signatories.
    """

    signatories: tuple[Signatory, ...]
    jointly_required: int
    #: The register's own wording, in Swedish, shown to the person as it stands.
    description: str

    def __post_init__(self) -> None:
        numbers = [signatory.personal_number for signatory in self.signatories]
        if len(set(numbers)) != len(numbers):
            raise ValueError("a signatory is listed twice")
        joint = len(self._joint())
        if joint == 0 and self.jointly_required != 0:
            raise ValueError("jointly_required must be 0 when everyone signs alone")
        if joint and not _TOGETHER <= self.jointly_required <= joint:
            raise ValueError("jointly_required must be between 2 and the joint signatories")

    def _joint(self) -> tuple[Signatory, ...]:
        return tuple(signatory for signatory in self.signatories if not signatory.signs_alone)

    def signatory(self, personal_number: str) -> Signatory | None:
        """The signatory with this personal number (any written form), or ``None``."""
        normalised = _normalised_or_none(personal_number)
        return next(
            (
                signatory
                for signatory in self.signatories
                if signatory.personal_number == normalised
            ),
            None,
        )

    def is_signatory(self, personal_number: str) -> bool:
        return self.signatory(personal_number) is not None

    def can_sign_alone(self, personal_number: str) -> bool:
        signatory = self.signatory(personal_number)
        return signatory is not None and signatory.signs_alone

    def is_satisfied_by(self, personal_numbers: Collection[str]) -> bool:
        """Whether these people's signatures, together, sign for the company.

        True if one of them signs alone, or if at least ``jointly_required`` distinct joint
        signatories are among them. People who are not signatories, and invalid numbers, count for
        nothing.
        """
        if isinstance(personal_numbers, str):
            # A str is a Collection[str] of its characters: one number passed alone would be
            # silently judged digit by digit.
            raise TypeError("pass a collection of personal numbers, not a single one")
        found = {
            signatory.personal_number: signatory
            for number in personal_numbers
            if (signatory := self.signatory(number)) is not None
        }
        if any(signatory.signs_alone for signatory in found.values()):
            return True
        joint = sum(1 for signatory in found.values() if not signatory.signs_alone)
        return self.jointly_required > 0 and joint >= self.jointly_required

    def required_co_signers(self, initiator: str) -> int:
        """How many more signatories must sign after the initiator has signed.

        0 if the initiator signs alone, else ``jointly_required - 1``. Raises ``ValueError`` if the
        initiator is not a signatory: their signature counts for nothing, so the question has no
        answer the caller should act on (check ``is_signatory`` first).
        """
        signatory = self.signatory(initiator)
        if signatory is None:
            raise ValueError("the initiator is not a signatory")
        return 0 if signatory.signs_alone else self.jointly_required - 1


@dataclass(frozen=True)
class Company:
    """An employer as the register describes it."""

    #: Ten digits; for a sole trader (enskild näringsidkare) their twelve-digit personal number.
    organisation_number: str
    name: str
    legal_form: LegalForm
    status: CompanyStatus
    #: Registered with Skatteverket as an employer (arbetsgivarregistrerad).
    registered_as_employer: bool
    signatory_rule: SignatoryRule

    def __post_init__(self) -> None:
        if self.legal_form == LegalForm.ENSKILD_NARINGSIDKARE:
            if not _is_normalised_personal_number(self.organisation_number):
                raise ValueError("a sole trader's number must be their 12-digit personal number")
        elif not _is_organisation_number(self.organisation_number):
            raise ValueError("the organisation number must be valid and have 10 digits")

    @property
    def is_active(self) -> bool:
        return self.status == CompanyStatus.ACTIVE

    @property
    def display_number(self) -> str:
        return format_employer_id(self.organisation_number)


class CompanyRegister(Protocol):
    """The business register, as the portal asks it.

    ``lookup`` accepts any form ``normalise_employer_id`` accepts (and raises ``InvalidEmployerId``
    for anything else, before asking the register). It returns ``None`` when the register does not
    know the organisation, and raises ``RegisterUnavailable`` when it cannot be reached or answers
    wrongly; it never guesses.
    """

    def lookup(self, organisation_number: str) -> Company | None: ...


# --- the JSON shape both adapters read ---------------------------------------------------------
_EnumT = TypeVar("_EnumT", LegalForm, CompanyStatus)


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object")
    return value


def _text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}.{key}: expected a non-empty string")
    if len(value) > _MAX_TEXT_LENGTH:
        raise ValueError(f"{where}.{key}: longer than {_MAX_TEXT_LENGTH} characters")
    return value.strip()


def _boolean(data: Mapping[str, Any], key: str, where: str) -> bool:
    value = data.get(key)
    if not isinstance(value, bool):
        raise ValueError(f"{where}.{key}: expected true or false")
    return value


def _integer(data: Mapping[str, Any], key: str, where: str) -> int:
    value = data.get(key)
    # bool is an int subclass; true is not a count.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}.{key}: expected an integer")
    return value


def _choice(data: Mapping[str, Any], key: str, where: str, enum: type[_EnumT]) -> _EnumT:
    members = {member.value: member for member in enum}
    value = data.get(key)
    if not isinstance(value, str) or value not in members:
        raise ValueError(f"{where}.{key}: expected one of {', '.join(members)}")
    return members[value]


def _signatory(value: Any, where: str) -> Signatory:
    data = _object(value, where)
    personal_number = data.get("personalNumber")
    if not isinstance(personal_number, str) or not _is_normalised_personal_number(personal_number):
        # The number itself stays out of the message: it may be a real person's.
        raise ValueError(f"{where}.personalNumber: expected a valid 12-digit personal number")
    return Signatory(
        personal_number=personal_number,
        name=_text(data, "name", where),
        signs_alone=_boolean(data, "signsAlone", where),
    )


def parse_company(value: Any) -> Company:
    """Build a ``Company`` from the register's JSON (camelCase; see ``http`` for the contract).

    Every field is checked; fields not named here are ignored, so that the register may add some.
    Raises ``ValueError`` naming the first field that is wrong.
    """
    data = _object(value, "organisation")
    where = "organisation"
    rule_data = _object(data.get("signatoryRule"), f"{where}.signatoryRule")
    raw_signatories = rule_data.get("signatories")
    if not isinstance(raw_signatories, list):
        raise ValueError(f"{where}.signatoryRule.signatories: expected an array")
    rule = SignatoryRule(
        signatories=tuple(
            _signatory(item, f"{where}.signatoryRule.signatories[{index}]")
            for index, item in enumerate(raw_signatories)
        ),
        jointly_required=_integer(rule_data, "jointlyRequired", f"{where}.signatoryRule"),
        description=_text(rule_data, "description", f"{where}.signatoryRule"),
    )
    number = data.get("organisationNumber")
    if not isinstance(number, str):
        raise ValueError(f"{where}.organisationNumber: expected a string")
    return Company(
        organisation_number=number,
        name=_text(data, "name", where),
        legal_form=_choice(data, "legalForm", where, LegalForm),
        status=_choice(data, "status", where, CompanyStatus),
        registered_as_employer=_boolean(data, "registeredAsEmployer", where),
        signatory_rule=rule,
    )
