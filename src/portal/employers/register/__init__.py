"""The company register adapter: employers are connected only if the register says the person may
sign for them.

``get_register()`` returns the register the settings choose (``FileRegister`` over fictional
companies, or ``HttpRegister`` over the register's API); ``lookup`` gives a ``Company`` with its
``SignatoryRule``, ``None`` for an unknown number, or raises ``RegisterUnavailable``.
"""

from portal.employers.register.base import (
    Company,
    CompanyRegister,
    CompanyStatus,
    InvalidEmployerId,
    LegalForm,
    RegisterUnavailable,
    Signatory,
    SignatoryRule,
    format_employer_id,
    normalise_employer_id,
    parse_company,
)
from portal.employers.register.factory import get_register
from portal.employers.register.fictional import SHIPPED_FILE, FileRegister
from portal.employers.register.http import HttpRegister

__all__ = [
    "SHIPPED_FILE",
    "Company",
    "CompanyRegister",
    "CompanyStatus",
    "FileRegister",
    "HttpRegister",
    "InvalidEmployerId",
    "LegalForm",
    "RegisterUnavailable",
    "Signatory",
    "SignatoryRule",
    "format_employer_id",
    "get_register",
    "normalise_employer_id",
    "parse_company",
]
