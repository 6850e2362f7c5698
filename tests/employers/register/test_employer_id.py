from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.se import orgnr

from portal.common.errors import ApplicationError
from portal.employers.register import InvalidEmployerId, format_employer_id, normalise_employer_id

# These test correctness, not speed: the suite runs in parallel, on machines that may be busy.
NO_DEADLINE = settings(deadline=None)


@st.composite
def organisation_numbers(draw: st.DrawFn) -> str:
    """Ten digits with a valid check digit and 20 or more where a person's month would be."""
    group = draw(st.integers(min_value=1, max_value=9))
    second = draw(st.integers(min_value=0, max_value=9))
    third = draw(st.integers(min_value=2, max_value=9))
    rest = draw(st.integers(min_value=0, max_value=999_999))
    nine = f"{group}{second}{third}{rest:06d}"
    return nine + luhn.calc_check_digit(nine)


@st.composite
def personal_numbers(draw: st.DrawFn) -> str:
    """Twelve digits: a birth date (or a coordination number's day + 60), serial and check digit."""
    birth = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)))
    serial = draw(st.integers(min_value=0, max_value=999))
    day = birth.day + (60 if draw(st.booleans()) else 0)
    nine = f"{birth:%y%m}{day:02d}{serial:03d}"
    return f"{birth.year // 100}{nine}{luhn.calc_check_digit(nine)}"


def _written_forms_of_organisation_number(ten: str) -> list[str]:
    dashed = f"{ten[:6]}-{ten[6:]}"
    return [
        ten,
        dashed,
        f"16{ten}",
        f"16{dashed}",
        f"  {dashed} ",
        f"{ten[:6]} {ten[6:]}",
        f"{ten[:6]}\N{EN DASH}{ten[6:]}",
    ]


@NO_DEADLINE
@given(organisation_numbers())
@example("5566778899")
def test_every_written_form_of_an_organisation_number_gives_ten_digits(ten: str) -> None:
    assert orgnr.is_valid(ten)
    for form in _written_forms_of_organisation_number(ten):
        assert normalise_employer_id(form) == ten, form


@NO_DEADLINE
@given(organisation_numbers(), st.integers(min_value=1, max_value=9))
def test_an_organisation_number_with_a_wrong_check_digit_is_refused(ten: str, wrong: int) -> None:
    broken = ten[:-1] + str((int(ten[-1]) + wrong) % 10)
    for form in _written_forms_of_organisation_number(broken):
        with pytest.raises(InvalidEmployerId):
            normalise_employer_id(form)


@NO_DEADLINE
@given(personal_numbers())
@example("197001632392")
@example("191212121212")
def test_a_sole_traders_personal_number_gives_twelve_digits(twelve: str) -> None:
    assert normalise_employer_id(twelve) == twelve
    assert normalise_employer_id(f"{twelve[:8]}-{twelve[8:]}") == twelve
    assert normalise_employer_id(f" {twelve[:8]} - {twelve[8:]} ") == twelve


@NO_DEADLINE
@given(personal_numbers())
def test_a_ten_digit_personal_number_keeps_its_digits_and_gets_a_century(twelve: str) -> None:
    ten = twelve[2:]
    separator = "+" if int(twelve[:4]) < datetime.now(UTC).year - 100 else "-"
    result = normalise_employer_id(f"{ten[:6]}{separator}{ten[6:]}")
    assert len(result) == 12
    assert result[2:] == ten


@NO_DEADLINE
@given(personal_numbers())
def test_skatteverkets_organisation_century_does_not_make_a_person_an_organisation(
    twelve: str,
) -> None:
    with pytest.raises(InvalidEmployerId):
        normalise_employer_id(f"16{twelve[2:]}")


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "-",
        "abc",
        "556677-889",  # nine digits
        "556677-88990",  # eleven
        "5566778898",  # wrong check digit
        "556677+8899",  # + belongs to personal numbers, and this is none
        "265566778899",  # a century no one is born in, and no organisation prefix
        "161212121212",  # a personal number's digits after the organisation "century"
        "19121212-1213",  # wrong check digit
        "19121312-1212",  # month 13
        "5566778899\N{COMBINING ACUTE ACCENT}",
        "55667788991",
        "SE556677889901",  # a VAT number is not asked for
    ],
)
def test_not_an_employer_id_is_refused(text: str) -> None:
    with pytest.raises(InvalidEmployerId):
        normalise_employer_id(text)


@NO_DEADLINE
@given(st.text(max_size=30))
def test_any_text_is_either_normalised_or_refused_cleanly(text: str) -> None:
    _normalised_or_refused(text)


@NO_DEADLINE
@given(st.text(alphabet="0123456789 -+.16\N{EN DASH}", max_size=20))
def test_any_digit_soup_is_either_normalised_or_refused_cleanly(text: str) -> None:
    _normalised_or_refused(text)


def _normalised_or_refused(text: str) -> None:
    try:
        result = normalise_employer_id(text)
    except InvalidEmployerId:
        return
    assert result.isascii()
    assert result.isdigit()
    assert len(result) in {10, 12}
    # Idempotent: the normalised form is accepted and left as it is.
    assert normalise_employer_id(result) == result


def test_the_refusal_says_in_swedish_what_to_write() -> None:
    with pytest.raises(InvalidEmployerId) as caught:
        normalise_employer_id("12345")
    error = caught.value
    assert isinstance(error, ValueError)
    assert isinstance(error, ApplicationError)
    assert error.status == 400
    assert error.code == "invalid-employer-id"
    assert "organisationsnummer" in str(error)
    assert "556677-8899" in str(error)
    assert "enskild näringsidkare" in str(error)


def test_full_width_digits_are_read_as_the_digits_they_are() -> None:
    # What an East Asian input method types; stdnum maps them, and the result is plain ASCII.
    full_width = "".join(
        chr(ord(digit) - ord("0") + ord("\N{FULLWIDTH DIGIT ZERO}")) for digit in "5599011235"
    )
    assert normalise_employer_id(full_width) == "5599011235"


def test_the_readable_form_has_the_hyphen_before_the_last_four_digits() -> None:
    assert format_employer_id("5599011235") == "559901-1235"
    assert format_employer_id("197001632392") == "19700163-2392"
