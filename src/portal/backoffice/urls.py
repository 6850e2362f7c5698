from __future__ import annotations

from django.urls import path

from portal.announcements import views as announcements
from portal.backoffice import queue_views, staff_views, support_views, views
from portal.eservices.inquiries.backoffice import inquiry_new
from portal.notices import views as availability

app_name = "backoffice"

urlpatterns = [
    path("", staff_views.home, name="home"),
    path("personal/", staff_views.staff, name="staff"),
    path(
        "personal/<uuid:public_id>/roller/<str:role>/ta-bort",
        staff_views.staff_revoke,
        name="staff-revoke",
    ),
    path("personer/", support_views.person_lookup, name="person-lookup"),
    path(
        "bekraftelser/<uuid:public_id>/skicka-igen",
        support_views.resend,
        name="confirmation-resend",
    ),
    path("meddelanden/", announcements.staff_list, name="announcements"),
    path("meddelanden/nytt/", announcements.staff_new, name="announcement-new"),
    path("meddelanden/<uuid:public_id>/", announcements.staff_detail, name="announcement"),
    path(
        "meddelanden/<uuid:public_id>/andra/",
        announcements.staff_revise,
        name="announcement-revise",
    ),
    path(
        "meddelanden/<uuid:public_id>/aterkalla/",
        announcements.staff_withdraw,
        name="announcement-withdraw",
    ),
    path("villkor/", views.publish_terms, name="publish-terms"),
    path("drift/", availability.availability, name="availability"),
    path("drift/avbrott/nytt", availability.outage_new, name="outage-new"),
    path(
        "drift/avbrott/<uuid:public_id>/stall-in",
        availability.outage_cancel_view,
        name="outage-cancel",
    ),
    path("drift/storningar/ny", availability.incident_new, name="incident-new"),
    path(
        "drift/storningar/<uuid:public_id>/avsluta",
        availability.incident_close_view,
        name="incident-close",
    ),
    path("arenden/", queue_views.queues, name="queues"),
    path("blanketter/", views.paper_enrolments, name="paper-enrolments"),
    path("blanketter/<uuid:public_id>/", views.paper_enrolment, name="paper-enrolment"),
    path("arbetsgivare/", views.lookup, name="lookup"),
    path("arbetsgivare/<uuid:public_id>/", views.employer, name="employer"),
    path("arbetsgivare/<uuid:public_id>/sag-upp", views.terminate, name="terminate"),
    path("arbetsgivare/<uuid:public_id>/forfragan", inquiry_new, name="inquiry-new"),
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
