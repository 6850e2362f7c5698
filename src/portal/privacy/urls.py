from __future__ import annotations

from django.urls import path

from portal.privacy import views

app_name = "privacy"

urlpatterns = [
    path("", views.my_data, name="my-data"),
    path("registerutdrag.json", views.extract_json, name="extract-json"),
    path("registerutdrag.pdf", views.extract_pdf_download, name="extract-pdf"),
]
