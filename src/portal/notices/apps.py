from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "portal.notices"
    label = "notices"
    verbose_name = "Meddelanden och driftstatus"

    def ready(self) -> None:
        # Registers the subscribers' e-mails' templates.
        from portal.notices import messages  # noqa: F401, PLC0415
