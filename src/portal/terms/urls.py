from __future__ import annotations

from django.urls import path

from portal.terms import views

app_name = "terms"

urlpatterns = [
    path("", views.terms_page, name="current"),
    path("jamfor/", views.compare_page, name="compare"),
    path("arbetsgivare/<uuid:public_id>/", views.notice, name="notice"),
    path("<slug:version>/", views.version_page, name="version"),
]
