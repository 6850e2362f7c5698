"""The same expectations, against both adapters: what the file says in development is what the
HTTP register is understood to say in production."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from portal.employers.register import (
    SHIPPED_FILE,
    CompanyRegister,
    CompanyStatus,
    FileRegister,
    HttpRegister,
    InvalidEmployerId,
    LegalForm,
)
from tests.employers.register.conftest import FakeRegister

TOLVAN = "191212121212"
ASTRID = "198001011231"
BERTIL = "198503152343"
CECILIA = "199006223458"
DRAGAN = "197001632392"


@pytest.fixture(params=["file", "http"])
def register(request: pytest.FixtureRequest) -> Iterator[CompanyRegister]:
    if request.param == "file":
        yield FileRegister(SHIPPED_FILE)
        return
    fake: FakeRegister = request.getfixturevalue("fake_register")
    http_register = HttpRegister(fake.url, timeout=10)
    yield http_register
    http_register.close()


def test_an_active_company_where_tolvan_signs_alone(register: CompanyRegister) -> None:
    company = register.lookup("559901-1235")
    assert company is not None
    assert company.name == "Exempelbolaget i Sundsvall AB"
    assert company.legal_form is LegalForm.AKTIEBOLAG
    assert company.status is CompanyStatus.ACTIVE
    assert company.is_active
    assert company.registered_as_employer
    rule = company.signatory_rule
    assert rule.can_sign_alone(TOLVAN)
    assert rule.required_co_signers(TOLVAN) == 0
    assert rule.is_satisfied_by([TOLVAN])
    assert not rule.is_signatory(ASTRID)
    assert rule.description.startswith("Firman tecknas")


def test_an_active_company_where_two_of_three_sign_jointly(register: CompanyRegister) -> None:
    company = register.lookup("5599023453")
    assert company is not None
    assert company.status is CompanyStatus.ACTIVE
    rule = company.signatory_rule
    assert rule.jointly_required == 2
    assert [(s.personal_number, s.name) for s in rule.signatories] == [
        (ASTRID, "Astrid Demosson"),
        (BERTIL, "Bertil Exempelberg"),
        (CECILIA, "Cecilia Provström"),
    ]
    assert not any(rule.can_sign_alone(number) for number in (ASTRID, BERTIL, CECILIA))
    assert rule.required_co_signers(BERTIL) == 1
    assert not rule.is_satisfied_by([ASTRID])
    assert rule.is_satisfied_by([ASTRID, CECILIA])
    assert "två i förening" in rule.description


@pytest.mark.parametrize(
    ("number", "status"),
    [
        ("559903-4567", CompanyStatus.IN_LIQUIDATION),
        ("559904-5670", CompanyStatus.IN_BANKRUPTCY),
        ("559905-6784", CompanyStatus.STRUCK_OFF),
    ],
)
def test_companies_that_are_not_active(
    register: CompanyRegister, number: str, status: CompanyStatus
) -> None:
    company = register.lookup(number)
    assert company is not None
    assert company.status is status
    assert not company.is_active


def test_a_bankrupt_company_has_no_one_who_signs(register: CompanyRegister) -> None:
    company = register.lookup("5599045670")
    assert company is not None
    assert company.signatory_rule.signatories == ()
    assert not company.signatory_rule.is_satisfied_by([TOLVAN, ASTRID, BERTIL, CECILIA])


def test_an_active_company_that_is_not_an_employer(register: CompanyRegister) -> None:
    company = register.lookup("5599067898")
    assert company is not None
    assert company.is_active
    assert not company.registered_as_employer
    assert company.signatory_rule.can_sign_alone(TOLVAN)


@pytest.mark.parametrize("written", ["197001632392", "19700163-2392", "700163-2392"])
def test_a_sole_trader_with_a_coordination_number(register: CompanyRegister, written: str) -> None:
    company = register.lookup(written)
    assert company is not None
    assert company.organisation_number == DRAGAN
    assert company.display_number == "19700163-2392"
    assert company.legal_form is LegalForm.ENSKILD_NARINGSIDKARE
    assert company.name == "Testovićs Demokonsult"
    assert company.signatory_rule.can_sign_alone(DRAGAN)
    assert company.signatory_rule.signatories[0].name == "Dragan Testović"


def test_a_trading_partnership_where_every_partner_signs_alone(register: CompanyRegister) -> None:
    company = register.lookup("969901-2341")
    assert company is not None
    assert company.legal_form is LegalForm.HANDELSBOLAG
    rule = company.signatory_rule
    assert rule.jointly_required == 0
    assert len(rule.signatories) == 2
    assert all(signatory.signs_alone for signatory in rule.signatories)
    assert rule.is_satisfied_by([BERTIL])
    assert rule.is_satisfied_by([CECILIA])


def test_a_limited_partnership_where_the_general_partner_signs(register: CompanyRegister) -> None:
    company = register.lookup("9699023454")
    assert company is not None
    assert company.legal_form is LegalForm.KOMMANDITBOLAG
    assert company.signatory_rule.can_sign_alone(ASTRID)


def test_an_association_where_one_signs_alone_or_two_others_jointly(
    register: CompanyRegister,
) -> None:
    company = register.lookup("769901-2345")
    assert company is not None
    assert company.legal_form is LegalForm.EKONOMISK_FORENING
    assert company.name == "Provverkstaden Ekonomisk förening"
    rule = company.signatory_rule
    assert rule.can_sign_alone(ASTRID)
    assert rule.required_co_signers(TOLVAN) == 1
    assert not rule.is_satisfied_by([BERTIL])
    assert rule.is_satisfied_by([BERTIL, TOLVAN])


@pytest.mark.parametrize("written", ["5599999991", "16559999-9991", "199001011239"])
def test_an_unknown_number_is_none(register: CompanyRegister, written: str) -> None:
    assert register.lookup(written) is None


@pytest.mark.parametrize("written", ["5599011236", "", "abc", "16191212121212"])
def test_an_invalid_number_is_refused(register: CompanyRegister, written: str) -> None:
    with pytest.raises(InvalidEmployerId):
        register.lookup(written)


def test_both_adapters_give_the_same_companies(fake_register: FakeRegister) -> None:
    file_register = FileRegister(SHIPPED_FILE)
    http_register = HttpRegister(fake_register.url, timeout=10)
    try:
        for company in file_register.companies():
            assert http_register.lookup(company.organisation_number) == company
    finally:
        http_register.close()
