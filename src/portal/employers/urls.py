from __future__ import annotations

from django.urls import path

from portal.employers import views

app_name = "employers"

urlpatterns = [
    path("start/", views.start, name="start"),
    path("arbetsgivare/", views.overview, name="overview"),
    path("arbetsgivare/<uuid:public_id>/", views.employer_page, name="employer"),
    path("arbetsgivare/<uuid:public_id>/avregistrera/", views.deregister, name="deregister"),
    path("avregistreringar/<uuid:public_id>/", views.deregistration_page, name="deregistration"),
    path("anslut/", views.enrol, name="enrol"),
    path("anslut/<str:organisation_number>/", views.enrol_details, name="enrol-details"),
    path("anslutningar/<uuid:public_id>/", views.enrolment_page, name="enrolment"),
    path("anslutningar/<uuid:public_id>/skriv-under", views.enrolment_sign, name="enrolment-sign"),
]
