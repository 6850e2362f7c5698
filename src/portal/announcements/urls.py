"""The public pages of announcements (mounted at /meddelanden/). The staff's screens are in
``backoffice.urls``, under /handlaggning/meddelanden/."""

from __future__ import annotations

from django.urls import path

from portal.announcements import views

app_name = "announcements"

urlpatterns = [
    path("", views.archive, name="archive"),
    path("atom.xml", views.feed, name="feed"),
]
