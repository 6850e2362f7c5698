"""A company register read from a JSON file: fictional companies for development, tests and demos.

The file is one JSON object (UTF-8)::

    {
        "about": "Any text: who made the file and why. Ignored.",
        "organisations": [
            {
                "organisationNumber": "5599011235",
                "name": "Exempelbolaget i Sundsvall AB",
                "legalForm": "aktiebolag",
                "status": "active",
                "registeredAsEmployer": true,
                "signatoryRule": {
                    "description": "Firman tecknas av styrelsen. ...",
                    "jointlyRequired": 0,
                    "signatories": [
                        {
                            "personalNumber": "191212121212",
                            "name": "Tolvan Tolvansson",
                            "signsAlone": true,
                        }
                    ],
                },
            }
        ],
    }

Each element of ``organisations`` has exactly the shape of the HTTP register's answer (see
``portal.employers.register.http``) and is read by the same ``parse_company``: ten-digit
organisation numbers without hyphen (a sole trader's twelve-digit personal number), twelve-digit
personal numbers, the enum values of ``LegalForm`` and ``CompanyStatus``. A number may appear only
once. A file that breaks any rule makes every lookup raise ``RegisterUnavailable`` naming the
problem, rather than serving the companies that happen to be right.

The file is read at the first lookup and again whenever it changes on disk, so a demo can be edited
without restarting the portal. ``fictional_register.json`` next to this module is the shipped one.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import structlog

from portal.employers.register.base import (
    Company,
    RegisterUnavailable,
    normalise_employer_id,
    parse_company,
)

logger = structlog.get_logger(__name__)

#: The fictional companies shipped with the portal.
SHIPPED_FILE = Path(__file__).resolve().parent / "fictional_register.json"


def _parse_file(data: Any) -> dict[str, Company]:
    if not isinstance(data, dict) or not isinstance(data.get("organisations"), list):
        raise ValueError("expected an object with an array 'organisations'")
    companies: dict[str, Company] = {}
    for index, item in enumerate(data["organisations"]):
        try:
            company = parse_company(item)
        except ValueError as error:
            raise ValueError(f"organisations[{index}]: {error}") from None
        if company.organisation_number in companies:
            raise ValueError(f"organisations[{index}]: the organisation number is listed twice")
        companies[company.organisation_number] = company
    return companies


class FileRegister:
    """``CompanyRegister`` over a JSON file of fictional companies (format: the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        # (modification time, size) of the file as read, and its companies.
        self._loaded: tuple[tuple[int, int], dict[str, Company]] | None = None

    def __repr__(self) -> str:
        return f"FileRegister({str(self.path)!r})"

    def lookup(self, organisation_number: str) -> Company | None:
        number = normalise_employer_id(organisation_number)
        return self._companies().get(number)

    def companies(self) -> tuple[Company, ...]:
        """Every company in the file, in the file's order (for demo data and tests)."""
        return tuple(self._companies().values())

    def _companies(self) -> dict[str, Company]:
        try:
            stat = self.path.stat()
        except OSError as error:
            raise self._unavailable(f"cannot read {self.path}: {error.strerror}") from None
        version = (stat.st_mtime_ns, stat.st_size)
        # Gunicorn's threads share the register: one of them reads the file, the others wait.
        with self._lock:
            if self._loaded is None or self._loaded[0] != version:
                self._loaded = (version, self._read())
            return self._loaded[1]

    def _read(self) -> dict[str, Company]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as error:
            raise self._unavailable(f"cannot read {self.path}: {error.strerror}") from None
        except UnicodeDecodeError:
            raise self._unavailable(f"{self.path} is not UTF-8") from None
        try:
            return _parse_file(json.loads(text))
        except (ValueError, RecursionError) as error:
            raise self._unavailable(f"{self.path}: {error}") from None

    def _unavailable(self, reason: str) -> RegisterUnavailable:
        # A broken file is a deployment mistake, not a passing outage: say so loudly.
        logger.error("company_register_file_broken", reason=reason)
        return RegisterUnavailable(reason)
