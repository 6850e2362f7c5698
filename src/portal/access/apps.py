from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "portal.access"
    label = "access"
    verbose_name = "Behörigheter"

    def ready(self) -> None:
        # Registers the access e-mails' templates.
        from portal.access import messages  # noqa: F401, PLC0415
