from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from stdnum.se import orgnr

from portal.employers.register import (
    SHIPPED_FILE,
    FileRegister,
    LegalForm,
    RegisterUnavailable,
)
from portal.identity.demo import DEMO_PEOPLE
from tests.employers.register.conftest import changed, shipped_organisations, unavailable


def test_the_shipped_file_is_valid_and_its_numbers_have_valid_check_digits() -> None:
    companies = FileRegister(SHIPPED_FILE).companies()
    assert 8 <= len(companies) <= 15
    for company in companies:
        if company.legal_form is LegalForm.ENSKILD_NARINGSIDKARE:
            assert len(company.organisation_number) == 12
        else:
            assert orgnr.is_valid(company.organisation_number), company.name


def test_the_shipped_people_are_the_demo_people() -> None:
    names = {
        person.personal_number: f"{person.given_name} {person.surname}" for person in DEMO_PEOPLE
    }
    seen = set()
    for company in FileRegister(SHIPPED_FILE).companies():
        for signatory in company.signatory_rule.signatories:
            assert names.get(signatory.personal_number) == signatory.name, company.name
            seen.add(signatory.personal_number)
    assert seen == set(names)


def test_every_legal_form_but_other_is_shown() -> None:
    forms = {company.legal_form for company in FileRegister(SHIPPED_FILE).companies()}
    assert forms >= set(LegalForm) - {LegalForm.OTHER, LegalForm.STIFTELSE}


def _write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_file_of_ones_own_is_read(tmp_path: Path) -> None:
    organisations = shipped_organisations()[:2]
    register = FileRegister(_write(tmp_path / "register.json", {"organisations": organisations}))
    assert [company.name for company in register.companies()] == [
        organisations[0]["name"],
        organisations[1]["name"],
    ]
    assert register.lookup(organisations[0]["organisationNumber"]) is not None
    assert register.lookup(shipped_organisations()[2]["organisationNumber"]) is None


def test_the_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    organisations = shipped_organisations()
    path = _write(tmp_path / "register.json", {"organisations": organisations[:1]})
    register = FileRegister(path)
    number = organisations[1]["organisationNumber"]
    assert register.lookup(number) is None
    _write(path, {"organisations": organisations[:2]})
    # The modification time's resolution may be coarse: make the change visible for certain.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert register.lookup(number) is not None


def test_a_missing_file_makes_the_register_unavailable(tmp_path: Path) -> None:
    with unavailable("cannot read"):
        FileRegister(tmp_path / "absent.json").lookup("5599011235")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("not json", "Expecting value"),
        ("[]", "an array 'organisations'"),
        ('{"organisations": {}}', "an array 'organisations'"),
        ('{"organisations": [1]}', "organisations[0]"),
        ("[" * 100_000 + "]" * 100_000, "recursion"),
    ],
)
def test_a_file_that_is_not_the_format_makes_the_register_unavailable(
    tmp_path: Path, content: str, reason: str
) -> None:
    path = tmp_path / "register.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RegisterUnavailable) as caught:
        FileRegister(path).lookup("5599011235")
    assert reason in caught.value.reason


def test_a_file_that_is_not_utf8_makes_the_register_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "register.json"
    path.write_bytes('{"organisations": [], "about": "Sundsvall är fint"}'.encode("latin-1"))
    with unavailable("UTF-8"):
        FileRegister(path).lookup("5599011235")


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        ("status", "dormant", "organisations[1]: organisation.status"),
        (
            "signatoryRule.signatories.0.personalNumber",
            "198001011232",
            "organisations[1]: organisation.signatoryRule.signatories[0].personalNumber",
        ),
        ("organisationNumber", "5599023454", "organisations[1]: the organisation number"),
    ],
)
def test_one_wrong_company_makes_the_whole_file_unavailable(
    tmp_path: Path, path: str, value: Any, reason: str
) -> None:
    organisations = shipped_organisations()
    organisations[1] = changed(organisations[1], path, value)
    register = FileRegister(_write(tmp_path / "register.json", {"organisations": organisations}))
    with pytest.raises(RegisterUnavailable) as caught:
        # Even a lookup of a company that is right: half a register would give wrong answers.
        register.lookup(organisations[0]["organisationNumber"])
    assert caught.value.reason.startswith(f"{tmp_path / 'register.json'}: {reason}")


def test_a_number_listed_twice_makes_the_file_unavailable(tmp_path: Path) -> None:
    organisations = shipped_organisations()
    register = FileRegister(
        _write(tmp_path / "register.json", {"organisations": [organisations[0], organisations[0]]})
    )
    with unavailable("listed twice"):
        register.lookup("5599011235")
