"""Svara på förfrågningar: the agency asks an employer about an employee's income or absence,
with a due date; the employer's users answer in the portal, and are reminded before and after
the due date.

The model lives in ``inquiries/models.py`` and belongs to the ``eservices`` app (imported by
``eservices/models.py``), so this package is first imported while the models load. The handler
is therefore made on first use (it needs the framework, which needs the models).
"""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from portal.eservices import registry
from portal.eservices.inquiries import messages  # noqa: F401 (registers the e-mails)

CODE = "inquiries"


def _handler() -> object:
    from portal.eservices.inquiries.handler import InquiryAnswer  # noqa: PLC0415

    return InquiryAnswer()


registry.register(
    registry.EService(
        code=CODE,
        name=_("Svara på förfrågningar"),
        description=_(
            "Svara på myndighetens frågor om en anställds inkomst eller frånvaro före svarsdagen."
        ),
        handler=SimpleLazyObject(_handler),
    )
)
