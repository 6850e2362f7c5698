from django.apps import AppConfig


class AnnouncementsConfig(AppConfig):
    name = "portal.announcements"
    label = "announcements"
    verbose_name = "Meddelanden och instruktioner"
