from django.apps import AppConfig


class TermsConfig(AppConfig):
    name = "portal.terms"
    label = "terms"
    verbose_name = "Villkor"
