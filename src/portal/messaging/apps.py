"""The messaging app: the outbox of e-mails, sent after commit with retries."""

from django.apps import AppConfig
from django.core import checks

from portal.messaging.checks import check_message_templates


class MessagingConfig(AppConfig):
    """Registers the check that every message type's templates exist."""

    name = "portal.messaging"
    label = "messaging"
    verbose_name = "Utskick"

    def ready(self) -> None:
        checks.register(check_message_templates, checks.Tags.templates)
