from django.apps import AppConfig


class EmployersConfig(AppConfig):
    name = "portal.employers"
    label = "employers"
    verbose_name = "Arbetsgivare"
