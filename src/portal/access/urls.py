"""The access administrators' pages, under an employer: ``/arbetsgivare/<id>/behorigheter/``."""

from __future__ import annotations

from django.urls import include, path

from portal.access import views

app_name = "access"

urlpatterns = [
    path("", views.people_page, name="people"),
    path("ny/", views.person_new, name="person-new"),
    path("personer/<uuid:person_id>/", views.person_page, name="person"),
    path("personer/<uuid:person_id>/roller/", views.person_role, name="person-role"),
    path("personer/<uuid:person_id>/e-post/", views.person_email, name="person-email"),
    path("personer/<uuid:person_id>/e-tjanster/", views.person_grant, name="person-grant"),
    path(
        "personer/<uuid:person_id>/e-tjanster/<uuid:grant_id>/aterkalla/",
        views.grant_revoke,
        name="grant-revoke",
    ),
    path(
        "personer/<uuid:person_id>/ta-bort-allt/", views.person_remove_all, name="person-remove-all"
    ),
    # CSV import and export (import_urls.py) and access reviews (review_urls.py)
    path("", include("portal.access.import_urls")),
    path("", include("portal.access.review_urls")),
]
