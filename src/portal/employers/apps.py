from django.apps import AppConfig


class EmployersConfig(AppConfig):
    name = "portal.employers"
    label = "employers"
    verbose_name = "Arbetsgivare"

    def ready(self) -> None:
        # Registers the enrolment's signature handler and message templates.
        from portal.employers import deregistration, messages, services  # noqa: F401, PLC0415
