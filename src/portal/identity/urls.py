from __future__ import annotations

from django.urls import path

from portal.identity import views
from portal.identity.oidc.views import jwks
from portal.identity.saml.views import metadata

app_name = "identity"

urlpatterns = [
    path("logga-in/", views.login_page, name="login"),
    path("logga-in/<slug:provider>/", views.eid_start, name="start"),
    path("logga-in/<slug:provider>/svar", views.eid_callback, name="callback"),
    path("e-legitimation/<str:public_id>/", views.order_page, name="order"),
    path("e-legitimation/<str:public_id>/status", views.order_status, name="order-status"),
    path("e-legitimation/<str:public_id>/avbryt", views.order_cancel, name="order-cancel"),
    path("logga-ut/", views.logout_view, name="logout"),
    path("logga-ut/overallt/", views.logout_everywhere, name="logout-everywhere"),
    path("konto/", views.account, name="account"),
    # What the identity federations need of the portal: its SAML metadata and its OIDC keys.
    path("saml/metadata.xml", metadata, name="saml-metadata"),
    path("oidc/jwks.json", jwks, name="oidc-jwks"),
]
