from __future__ import annotations

from django.urls import path

from portal.eservices import views
from portal.eservices.inquiries import views as inquiry_views

app_name = "eservices"

urlpatterns = [
    path("<slug:code>/", views.eservice_page, name="eservice"),
    # An inquiry and its answer (the inquiries e-service only; before the submissions' pages).
    path("<slug:code>/forfragningar/<slug:reference>/", inquiry_views.inquiry_page, name="inquiry"),
    path(
        "<slug:code>/forfragningar/<slug:reference>/granska/",
        inquiry_views.inquiry_check,
        name="inquiry-check",
    ),
    path("<slug:code>/ny/", views.submission_new, name="new"),
    path("<slug:code>/granska/", views.submission_check, name="check"),
    path("<slug:code>/bilagor/<uuid:attachment_id>/", views.attachment_file, name="attachment"),
    path("<slug:code>/<slug:reference>/", views.submission_page, name="submission"),
    path("<slug:code>/<slug:reference>/kvitto.pdf", views.submission_pdf, name="submission-pdf"),
    path("<slug:code>/<slug:reference>/ratta/", views.submission_correct, name="correct"),
    path("<slug:code>/<slug:reference>/aterkalla/", views.submission_withdraw, name="withdraw"),
]
