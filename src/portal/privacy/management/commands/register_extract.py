"""``portal register_extract <personal number> --reason <case> --output FILE``: the register
extract for a written request from someone who cannot log in. The case worker identifies the
person outside the portal; the extract is recorded with the reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.identity.models import Person
from portal.identity.numbers import InvalidPersonalNumber, normalise_personal_number
from portal.privacy.extract import extract_pdf, register_extract, register_extract_record


class Command(BaseCommand):
    help = "Write a person's register extract (PDF or JSON, by the output's suffix)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("personal_number")
        parser.add_argument("--reason", required=True, help="the case number of the request")
        parser.add_argument("--output", required=True, type=Path, help="a .pdf or .json file")

    def handle(self, *args: Any, **options: Any) -> None:
        output: Path = options["output"]
        if output.suffix not in {".pdf", ".json"}:
            raise CommandError("--output must end in .pdf or .json")
        reason = options["reason"].strip()
        if not reason:
            raise CommandError("--reason must name the request (a case number)")
        try:
            number = normalise_personal_number(options["personal_number"])
        except InvalidPersonalNumber as error:
            raise CommandError(f"not a personal identity number: {error}") from None
        person = Person.objects.filter(personal_number=number).first()
        if person is None:
            raise CommandError("The portal holds nothing about this person.")
        data = register_extract(person)
        if output.suffix == ".pdf":
            output.write_bytes(extract_pdf(data))
        else:
            output.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        register_extract_record(person=None, request=None, made_for=person, reason=reason)
        self.stdout.write(f"Register extract written to {output}.")
