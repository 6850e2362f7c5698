from __future__ import annotations

from django.urls import path

from portal.notices import subscription_views

app_name = "notices"

urlpatterns = [
    path("", subscription_views.subscription, name="subscription"),
]
