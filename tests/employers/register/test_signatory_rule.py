from __future__ import annotations

from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import luhn

from portal.employers.register import (
    Company,
    CompanyStatus,
    LegalForm,
    Signatory,
    SignatoryRule,
)

TOLVAN = "191212121212"
ASTRID = "198001011231"
BERTIL = "198503152343"
CECILIA = "199006223458"
DRAGAN = "197001632392"

# These test correctness, not speed: the suite runs in parallel, on machines that may be busy.
NO_DEADLINE = settings(deadline=None)


def _pool() -> list[str]:
    numbers = []
    for serial in range(8):
        nine = f"500101{serial:03d}"
        numbers.append(f"19{nine}{luhn.calc_check_digit(nine)}")
    return numbers


POOL = _pool()


def rule(alone: list[str], joint: list[str], jointly_required: int) -> SignatoryRule:
    return SignatoryRule(
        signatories=tuple(
            Signatory(number, f"Person {number}", signs_alone=True) for number in alone
        )
        + tuple(Signatory(number, f"Person {number}", signs_alone=False) for number in joint),
        jointly_required=jointly_required,
        description="Firman tecknas av styrelsen.",
    )


ALONE = rule([TOLVAN], [], 0)
TWO_OF_THREE = rule([], [ASTRID, BERTIL, CECILIA], 2)
MIXED = rule([ASTRID], [BERTIL, CECILIA, TOLVAN], 2)


def test_one_who_signs_alone() -> None:
    assert ALONE.is_signatory(TOLVAN)
    assert ALONE.can_sign_alone(TOLVAN)
    assert ALONE.is_satisfied_by({TOLVAN})
    assert ALONE.is_satisfied_by([ASTRID, TOLVAN])
    assert ALONE.required_co_signers(TOLVAN) == 0
    assert not ALONE.is_signatory(ASTRID)
    assert not ALONE.can_sign_alone(ASTRID)
    assert not ALONE.is_satisfied_by([ASTRID, BERTIL, CECILIA])
    assert not ALONE.is_satisfied_by([])


def test_two_of_three_jointly() -> None:
    for number in (ASTRID, BERTIL, CECILIA):
        assert TWO_OF_THREE.is_signatory(number)
        assert not TWO_OF_THREE.can_sign_alone(number)
        assert not TWO_OF_THREE.is_satisfied_by({number})
        assert TWO_OF_THREE.required_co_signers(number) == 1
    for pair in combinations((ASTRID, BERTIL, CECILIA), 2):
        assert TWO_OF_THREE.is_satisfied_by(pair)
    assert TWO_OF_THREE.is_satisfied_by({ASTRID, BERTIL, CECILIA})
    assert not TWO_OF_THREE.is_satisfied_by({ASTRID, TOLVAN})
    assert not TWO_OF_THREE.is_signatory(TOLVAN)


def test_the_same_person_twice_is_one_signature() -> None:
    assert not TWO_OF_THREE.is_satisfied_by([ASTRID, ASTRID])
    # The same number, written two ways.
    assert not TWO_OF_THREE.is_satisfied_by([ASTRID, "19800101-1231", "800101-1231"])


def test_mixed_one_alone_or_two_of_the_others_jointly() -> None:
    assert MIXED.can_sign_alone(ASTRID)
    assert MIXED.is_satisfied_by({ASTRID})
    assert MIXED.required_co_signers(ASTRID) == 0
    assert not MIXED.is_satisfied_by({BERTIL})
    assert MIXED.is_satisfied_by({BERTIL, TOLVAN})
    assert MIXED.is_satisfied_by({CECILIA, TOLVAN, DRAGAN})
    assert not MIXED.is_satisfied_by({CECILIA, DRAGAN})
    assert MIXED.required_co_signers(BERTIL) == 1


def test_numbers_are_recognised_in_any_written_form() -> None:
    assert TWO_OF_THREE.is_signatory("19800101-1231")
    assert TWO_OF_THREE.is_signatory("800101-1231")
    assert ALONE.can_sign_alone("121212+1212")
    assert TWO_OF_THREE.is_satisfied_by(["19800101-1231", "850315-2343"])
    signatory = TWO_OF_THREE.signatory(" 19900622-3458 ")
    assert signatory is not None
    assert signatory.personal_number == CECILIA


def test_invalid_numbers_count_for_nothing_and_do_not_raise() -> None:
    assert not TWO_OF_THREE.is_signatory("garbage")
    assert not TWO_OF_THREE.can_sign_alone("")
    assert not TWO_OF_THREE.is_satisfied_by(["", "x", ASTRID, "19800101-1232"])


def test_one_number_passed_as_a_string_is_a_mistake_not_its_digits() -> None:
    with pytest.raises(TypeError):
        ALONE.is_satisfied_by(TOLVAN)


def test_co_signers_are_not_counted_for_someone_who_is_not_a_signatory() -> None:
    with pytest.raises(ValueError, match="not a signatory"):
        TWO_OF_THREE.required_co_signers(TOLVAN)


def test_a_rule_with_no_signatories_is_satisfied_by_no_one() -> None:
    empty = rule([], [], 0)
    assert not empty.is_satisfied_by([TOLVAN, ASTRID])
    assert not empty.is_signatory(TOLVAN)


@pytest.mark.parametrize(
    ("alone", "joint", "required", "message"),
    [
        ([TOLVAN], [], 1, "everyone signs alone"),
        ([], [ASTRID, BERTIL], 1, "between 2"),
        ([], [ASTRID, BERTIL], 3, "between 2"),
        ([], [ASTRID, BERTIL], 0, "between 2"),
        ([ASTRID], [ASTRID, BERTIL], 2, "twice"),
    ],
)
def test_an_impossible_rule_cannot_be_built(
    alone: list[str], joint: list[str], required: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        rule(alone, joint, required)


@pytest.mark.parametrize("number", ["8001011231", "19800101-1231", "198001011232", "", "x" * 12])
def test_a_signatory_has_a_valid_twelve_digit_number(number: str) -> None:
    with pytest.raises(ValueError, match="12 digits"):
        Signatory(number, "Astrid Demosson", signs_alone=True)


def test_a_sole_trader_is_known_by_the_personal_number_and_only_a_sole_trader() -> None:
    def company(number: str, form: LegalForm) -> Company:
        return Company(
            organisation_number=number,
            name="Testovićs Demokonsult",
            legal_form=form,
            status=CompanyStatus.ACTIVE,
            registered_as_employer=True,
            signatory_rule=ALONE,
        )

    assert company(DRAGAN, LegalForm.ENSKILD_NARINGSIDKARE).display_number == "19700163-2392"
    assert company("5599011235", LegalForm.AKTIEBOLAG).display_number == "559901-1235"
    with pytest.raises(ValueError, match="sole trader"):
        company("5599011235", LegalForm.ENSKILD_NARINGSIDKARE)
    with pytest.raises(ValueError, match="10 digits"):
        company(DRAGAN, LegalForm.AKTIEBOLAG)
    with pytest.raises(ValueError, match="10 digits"):
        company("5599011236", LegalForm.AKTIEBOLAG)


def test_legal_forms_and_statuses_have_swedish_names() -> None:
    assert LegalForm.AKTIEBOLAG.display_name == "Aktiebolag"
    assert LegalForm.ENSKILD_NARINGSIDKARE.display_name == "Enskild näringsidkare"
    assert CompanyStatus.IN_LIQUIDATION.display_name == "I likvidation"
    assert all(form.display_name for form in LegalForm)
    assert all(status.display_name for status in CompanyStatus)


@st.composite
def rules(draw: st.DrawFn) -> SignatoryRule:
    people = draw(st.permutations(POOL))
    alone_count = draw(st.integers(min_value=0, max_value=3))
    joint_count = draw(st.integers(min_value=0, max_value=5))
    alone, joint = people[:alone_count], people[alone_count : alone_count + joint_count]
    required = draw(st.integers(min_value=2, max_value=joint_count)) if joint_count >= 2 else 0
    return rule(alone, joint if required else [], required)


@NO_DEADLINE
@given(rules(), st.sets(st.sampled_from(POOL)))
def test_a_rule_is_satisfied_exactly_by_one_alone_or_enough_jointly(
    signatory_rule: SignatoryRule, signers: set[str]
) -> None:
    alone = {s.personal_number for s in signatory_rule.signatories if s.signs_alone}
    joint = {s.personal_number for s in signatory_rule.signatories if not s.signs_alone}
    expected = bool(signers & alone) or (
        signatory_rule.jointly_required > 0
        and len(signers & joint) >= signatory_rule.jointly_required
    )
    assert signatory_rule.is_satisfied_by(signers) is expected
    # More signatures never undo a satisfied rule.
    if expected:
        assert signatory_rule.is_satisfied_by(signers | set(POOL))


@NO_DEADLINE
@given(rules(), st.data())
def test_the_initiator_and_the_required_co_signers_are_exactly_enough(
    signatory_rule: SignatoryRule, data: st.DataObject
) -> None:
    if not signatory_rule.signatories:
        return
    initiator = data.draw(st.sampled_from(signatory_rule.signatories)).personal_number
    needed = signatory_rule.required_co_signers(initiator)
    others = [
        s.personal_number
        for s in signatory_rule.signatories
        if not s.signs_alone and s.personal_number != initiator
    ]
    assert signatory_rule.is_satisfied_by({initiator, *others[:needed]})
    if needed:
        assert not signatory_rule.is_satisfied_by({initiator, *others[: needed - 1]})
