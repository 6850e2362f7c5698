from __future__ import annotations

from django.urls import path

from portal.eservices import views

app_name = "eservices"

urlpatterns = [
    path("<slug:code>/", views.eservice_page, name="eservice"),
    path("<slug:code>/ny/", views.submission_new, name="new"),
    path("<slug:code>/granska/", views.submission_check, name="check"),
    path("<slug:code>/<slug:reference>/", views.submission_page, name="submission"),
    path("<slug:code>/<slug:reference>/kvitto.pdf", views.submission_pdf, name="submission-pdf"),
    path("<slug:code>/<slug:reference>/ratta/", views.submission_correct, name="correct"),
    path("<slug:code>/<slug:reference>/aterkalla/", views.submission_withdraw, name="withdraw"),
]
