from __future__ import annotations

from django.urls import path

from portal.eservices import views

app_name = "eservices"

urlpatterns = [
    path("<slug:code>/", views.eservice_page, name="eservice"),
]
