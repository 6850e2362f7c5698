from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn

from portal.identity.numbers import (
    InvalidPersonalNumber,
    is_coordination_number,
    mask_personal_number,
    normalise_personal_number,
)


def _with_check_digit(yymmdd: str, serial: int) -> str:
    base = f"{yymmdd}{serial:03d}"
    return base + luhn.calc_check_digit(base)


@given(
    birth=st.dates(min_value=date(1920, 1, 1), max_value=date(2020, 12, 31)),
    serial=st.integers(min_value=0, max_value=999),
    coordination=st.booleans(),
)
def test_every_written_form_normalises_to_twelve_digits(
    birth: date, serial: int, coordination: bool
) -> None:
    day = birth.day + (60 if coordination else 0)
    ten = _with_check_digit(f"{birth:%y%m}{day:02d}", serial)
    expected = f"{birth.year}{ten[2:]}"
    assert normalise_personal_number(f"{birth.year // 100}{ten}") == expected
    assert normalise_personal_number(f"{birth.year // 100}{ten[:6]}-{ten[6:]}") == expected
    assert normalise_personal_number(f" {birth.year // 100}{ten[:6]} - {ten[6:]} ") == expected
    assert is_coordination_number(expected) is coordination


@given(
    birth=st.dates(min_value=date(1920, 1, 1), max_value=date(2020, 12, 31)),
    serial=st.integers(min_value=0, max_value=999),
    wrong=st.integers(min_value=1, max_value=9),
)
def test_a_wrong_check_digit_is_refused(birth: date, serial: int, wrong: int) -> None:
    ten = _with_check_digit(f"{birth:%y%m%d}", serial)
    broken = ten[:-1] + str((int(ten[-1]) + wrong) % 10)
    with pytest.raises(InvalidPersonalNumber):
        normalise_personal_number(f"{birth.year // 100}{broken}")


def test_ten_digit_forms_take_the_century_from_the_separator() -> None:
    assert normalise_personal_number("121212-1212") == "201212121212"
    assert normalise_personal_number("121212+1212") == "191212121212"


@pytest.mark.parametrize(
    "text",
    ["", "abc", "12345", "19121212_1212", "19121312-1212", "19120230-1212", "191212121212121"],
)
def test_not_numbers_are_refused(text: str) -> None:
    with pytest.raises(InvalidPersonalNumber):
        normalise_personal_number(text)


@given(st.text(max_size=40))
def test_any_text_is_either_normalised_or_refused_cleanly(text: str) -> None:
    try:
        result = normalise_personal_number(text)
    except InvalidPersonalNumber:
        return
    assert len(result) == 12
    assert result.isdigit()


def test_masking_keeps_the_birth_date_only() -> None:
    assert mask_personal_number("191212121212") == "19121212-****"
    assert mask_personal_number("garbage") == "****"


@pytest.mark.parametrize("text", ["0000000²0000", "19121212-121²", "١٩١٢١٢١٢-١٢١٢"])
def test_digits_of_other_scripts_are_refused(text: str) -> None:
    with pytest.raises(InvalidPersonalNumber):
        normalise_personal_number(text)
