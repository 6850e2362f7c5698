"""Routes of the access import pages (names in the access namespace)."""

from __future__ import annotations

from django.urls import URLPattern, path

from portal.access import import_views

urlpatterns: list[URLPattern] = [
    path("import/", import_views.import_upload, name="import"),
    path("import/mall.csv", import_views.import_template, name="import-template"),
    path("import/<uuid:import_id>/", import_views.import_preview, name="import-preview"),
    path("import/<uuid:import_id>/genomfor/", import_views.import_apply, name="import-apply"),
    path("import/<uuid:import_id>/avbryt/", import_views.import_discard, name="import-discard"),
    path("export.csv", import_views.export, name="export"),
]
