from __future__ import annotations

from django.urls import include, path

from portal.api.v1 import api
from portal.notices import views as notices_views
from portal.web import metrics, views

# Page addresses are Swedish, as a Swedish public service's are; the API's are English.
urlpatterns = [
    path("", views.home, name="home"),
    path("villkor/", include("portal.terms.urls")),
    path("tillganglighet/", views.accessibility, name="accessibility"),
    path("tekniska-krav/", views.technical_requirements, name="technical-requirements"),
    path("hjalp/", views.help_page, name="help"),
    path("driftstatus/", views.status, name="status"),
    path("meddelanden/", include("portal.announcements.urls")),
    path("driftstatus/avbrott.ics", notices_views.outage_calendar, name="status-calendar"),
    path("driftstatus/flode.atom", notices_views.status_feed, name="status-feed"),
    path("sprak/", views.set_language, name="set-language"),
    path("", include("portal.identity.urls")),
    path("", include("portal.employers.urls")),
    path("arbetsgivare/<uuid:public_id>/behorigheter/", include("portal.access.urls")),
    path("arbetsgivare/<uuid:public_id>/e-tjanster/", include("portal.eservices.urls")),
    path("arbetsgivare/<uuid:public_id>/aktivitet/", include("portal.audit.urls")),
    path("arbetsgivare/<uuid:public_id>/driftmeddelanden/", include("portal.notices.urls")),
    path("mina-uppgifter/", include("portal.privacy.urls")),
    path("handlaggning/", include("portal.backoffice.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("api/v1/", api.urls),
]

handler400 = "portal.web.errors.bad_request"
handler403 = "portal.web.errors.permission_denied"
handler404 = "portal.web.errors.page_not_found"
handler500 = "portal.web.errors.server_error"
