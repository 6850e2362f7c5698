"""People who use the portal. Nobody has a password: every person logs in with e-ID (R2)."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.identity.numbers import mask_personal_number


class PersonManager(BaseUserManager["Person"]):
    def create_person(
        self, *, personal_number: str | None, given_name: str = "", surname: str = "", **extra: Any
    ) -> Person:
        person = self.model(
            personal_number=personal_number, given_name=given_name, surname=surname, **extra
        )
        person.set_unusable_password()
        person.save(using=self._db)
        return person


class Person(AbstractBaseUser):
    """A natural person, identified by a normalised Swedish personal identity number (12 digits,
    coordination numbers included) or, for people without one, by a foreign eIDAS identifier.

    Names come from the e-ID at each login; they are not typed in by anyone.
    """

    public_id = models.UUIDField(_("publikt id"), default=uuid.uuid4, unique=True, editable=False)
    personal_number = models.CharField(
        _("personnummer"), max_length=12, unique=True, null=True, blank=True
    )
    eidas_identifier = models.CharField(
        _("eIDAS-identitet"), max_length=256, unique=True, null=True, blank=True
    )
    given_name = models.CharField(_("förnamn"), max_length=150, blank=True)
    surname = models.CharField(_("efternamn"), max_length=150, blank=True)
    email = models.EmailField(_("e-postadress"), blank=True)
    is_active = models.BooleanField(_("aktiv"), default=True)
    created_at = models.DateTimeField(_("skapad"), auto_now_add=True)

    # Django's auth framework needs a unique username field; the public id serves, so that no
    # identity number ends up where Django writes usernames (e.g. in messages or logs).
    USERNAME_FIELD = "public_id"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = PersonManager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("personer")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(personal_number__isnull=False)
                | models.Q(eidas_identifier__isnull=False),
                name="person_has_an_identifier",
            ),
            models.CheckConstraint(
                condition=models.Q(personal_number__isnull=True)
                | models.Q(personal_number__regex=r"^[0-9]{12}$"),
                name="person_number_is_normalised",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.masked_identifier

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.surname}".strip()

    @property
    def masked_identifier(self) -> str:
        if self.personal_number:
            return mask_personal_number(self.personal_number)
        return str(_("utländsk e-legitimation"))
