"""The PDF receipt of a submission: reference number, time received, who sent it for which
employer, and everything that was sent, as on the receipt page.

Made with fpdf2's built-in Helvetica, which covers Swedish letters (Latin-1); the few characters
outside it (dashes, curly quotes) are replaced by their plain equivalents.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from fpdf import FPDF

from portal.eservices.models import Submission
from portal.identity.eidas_identifiers import person_masked

_REPLACEMENTS = str.maketrans({"–": "-", "—": "-", "”": '"', "“": '"', "’": "'", "…": "..."})


def _text(value: Any) -> str:
    text = str(value).translate(_REPLACEMENTS)
    return text.encode("latin-1", "replace").decode("latin-1")


def receipt_pdf(
    *, submission: Submission, eservice_name: str, summary: list[tuple[Any, str]], agency: str
) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(_text(_("Kvitto %(reference)s") % {"reference": submission.reference}))
    pdf.set_author(_text(agency))
    pdf.set_creator("E-tjänster för arbetsgivare")
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.multi_cell(
        0,
        9,
        _text(_("Kvitto %(reference)s") % {"reference": submission.reference}),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("helvetica", "", 11)
    pdf.multi_cell(0, 6, _text(f"{eservice_name} - {agency}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    received = timezone.localtime(submission.submitted_at).strftime("%Y-%m-%d %H:%M:%S")
    kind = {
        Submission.Kind.ORIGINAL: _("Uppgifterna är mottagna."),
        Submission.Kind.CORRECTION: _("Rättelsen är mottagen."),
        Submission.Kind.WITHDRAWAL: _("Återkallelsen är mottagen."),
    }[Submission.Kind(submission.kind)]
    rows: list[tuple[Any, str]] = [
        (_("Status"), kind),
        (_("Mottagen"), received),
        (_("Referensnummer"), submission.reference),
        (_("Version"), str(submission.version)),
        (
            _("Arbetsgivare"),
            f"{submission.employer.name} ({submission.employer.formatted_number})",
        ),
        (
            _("Skickad av"),
            submission.submitted_by.full_name or person_masked(submission.submitted_by),
        ),
    ]
    if submission.flags.get("late"):
        rows.append((_("Markering"), _("Anmälan kom in efter dag 21 och är markerad som sen.")))
    rows += summary
    for label, value in rows:
        pdf.set_font("helvetica", "B", 10)
        pdf.multi_cell(0, 5, _text(label), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", "", 11)
        pdf.multi_cell(0, 6, _text(value) or "-", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    return bytes(pdf.output())
