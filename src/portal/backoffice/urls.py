from __future__ import annotations

from django.urls import path

from portal.backoffice import views

app_name = "backoffice"

urlpatterns = [
    path("villkor/", views.publish_terms, name="publish-terms"),
    path("blanketter/", views.paper_enrolments, name="paper-enrolments"),
    path("blanketter/<uuid:public_id>/", views.paper_enrolment, name="paper-enrolment"),
    path("arbetsgivare/", views.lookup, name="lookup"),
    path("arbetsgivare/<uuid:public_id>/", views.employer, name="employer"),
    path("arbetsgivare/<uuid:public_id>/sag-upp", views.terminate, name="terminate"),
    path("uppsagningar/<uuid:public_id>/aterkalla", views.withdraw, name="withdraw"),
    path(
        "arbetsgivare/<uuid:public_id>/avregistrering",
        views.register_deregistration,
        name="register-deregistration",
    ),
    path(
        "avregistreringar/<uuid:public_id>/genomfor",
        views.release_deregistration,
        name="release-deregistration",
    ),
    path(
        "avregistreringar/<uuid:public_id>/brev/",
        views.deregistration_letter,
        name="deregistration-letter",
    ),
]
