from django.apps import AppConfig


class EservicesConfig(AppConfig):
    name = "portal.eservices"
    label = "eservices"
    verbose_name = "E-tjänster"
