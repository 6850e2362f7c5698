"""People who use the portal. Nobody has a password: every person logs in with e-ID (R2)."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.sessions.base_session import AbstractBaseSession
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
        from portal.identity.eidas_identifiers import masked_identity  # noqa: PLC0415

        return masked_identity(None, self.eidas_identifier)


class EidTransaction(models.Model):
    """One e-ID order: a login, or a signature of something shown to the person.

    It lives on the server; the browser only knows its public id. It is bound to the browser
    session that started it, so that an id copied to another browser is useless, and it is
    finished exactly once, so that a completed order cannot be replayed.
    """

    class Purpose(models.TextChoices):
        LOGIN = "login", _("inloggning")
        SIGN = "sign", _("underskrift")

    class Status(models.TextChoices):
        PENDING = "pending", _("pågår")
        COMPLETE = "complete", _("klar")
        FAILED = "failed", _("misslyckades")
        CANCELLED = "cancelled", _("avbruten")
        REFUSED = "refused", _("nekad")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    purpose = models.CharField(max_length=8, choices=Purpose.choices)
    provider = models.CharField(max_length=32)
    transaction_id = models.CharField(max_length=128)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    hint_code = models.CharField(max_length=64, blank=True)
    message_key = models.CharField(max_length=32, blank=True)
    same_device = models.BooleanField(default=False)
    #: The assurance level the completed identification reached (loa2, loa3, loa4).
    assurance = models.CharField(max_length=8, blank=True)
    # The provider's secrets for this order (BankID: qrStartToken, qrStartSecret, autoStartToken).
    secrets = models.JSONField(default=dict)
    #: SHA-256 of a random value kept in the session that started the order.
    session_binding = models.CharField(max_length=64)
    end_user_ip = models.GenericIPAddressField(null=True, blank=True)
    next_url = models.CharField(max_length=512, blank=True)
    # What is signed (purpose "sign"): the text shown in the app and a digest of the object.
    visible_text = models.TextField(blank=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    poll_failures = models.PositiveSmallIntegerField(default=0)
    restarts = models.PositiveSmallIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    #: Set when the result has been used (the person logged in, the signature stored).
    consumed_at = models.DateTimeField(null=True, blank=True)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("e-legitimeringsorder")
        verbose_name_plural = _("e-legitimeringsordrar")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "transaction_id"], name="eid_transaction_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.purpose} {self.status}"


class Login(models.Model):
    """A completed e-ID login: who, with which issuer and assurance, when and from where (R2)."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="logins")
    transaction = models.OneToOneField(
        EidTransaction, on_delete=models.PROTECT, related_name="login"
    )
    issuer = models.CharField(_("utfärdare"), max_length=32)
    assurance = models.CharField(_("tillitsnivå"), max_length=8)
    ip_address = models.GenericIPAddressField(_("IP-adress"), null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)
    logged_in_at = models.DateTimeField(_("inloggad"), auto_now_add=True)
    # The session this login opened, so that "log out everywhere" can end it.
    session_key = models.CharField(max_length=64, blank=True, db_index=True)
    ended_at = models.DateTimeField(_("utloggad"), null=True, blank=True)
    end_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name = _("inloggning")
        verbose_name_plural = _("inloggningar")
        ordering = ["-logged_in_at"]

    def __str__(self) -> str:
        return f"{self.issuer} {self.logged_in_at:%Y-%m-%d %H:%M}"


class Session(AbstractBaseSession):
    """A browser's session (Django's database session) with the key of the person logged in
    through it, kept beside the session's signed data so that every request reads the session and
    its person with one statement (``identity.sessions``). Ending a person's row ends their
    sessions with it."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessioner")

    @classmethod
    def get_session_store_class(cls) -> type[Any]:
        from portal.identity.sessions import SessionStore  # noqa: PLC0415 (the store needs the model)

        return SessionStore


class Signature(models.Model):
    """A signature made with e-ID, kept with what was signed: the text the person saw, the
    object it concerns, the provider's signature and the OCSP response that proves the
    certificate was valid at the time."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="signatures")
    transaction = models.OneToOneField(
        EidTransaction, on_delete=models.PROTECT, related_name="signature"
    )
    issuer = models.CharField(max_length=32)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    visible_text = models.TextField()
    signature = models.TextField()
    ocsp_response = models.TextField()
    signed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("underskrift")
        verbose_name_plural = _("underskrifter")
        indexes = [models.Index(fields=["object_type", "object_id"], name="signature_object")]

    def __str__(self) -> str:
        return f"{self.object_type} {self.object_id} {self.signed_at:%Y-%m-%d}"


class UsedAssertion(models.Model):
    """A SAML assertion (or another single-use token) already accepted: each is accepted once
    only. Kept until the assertion would have expired anyway, then removed by ``portal retention``.
    """

    issuer = models.CharField(max_length=32)
    assertion_id = models.CharField(max_length=256)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("använd identitetsintygelse")
        verbose_name_plural = _("använda identitetsintygelser")
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "assertion_id"], name="used_assertion_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.issuer} {self.assertion_id}"
