"""The employer's activity in the audit log: ``/arbetsgivare/<id>/aktivitet/``."""

from __future__ import annotations

from django.urls import path

from portal.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.activity, name="activity"),
    path("export.csv", views.activity_export_csv, name="activity-export"),
]
