from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "portal.backoffice"
    label = "backoffice"
    verbose_name = "Handläggning"
