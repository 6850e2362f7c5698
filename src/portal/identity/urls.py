from __future__ import annotations

from django.urls import path

from portal.identity import views

app_name = "identity"

urlpatterns = [
    path("logga-in/", views.login_page, name="login"),
    path("logga-in/bankid/", views.bankid_start, name="bankid-start"),
    path("e-legitimation/<str:public_id>/", views.order_page, name="order"),
    path("e-legitimation/<str:public_id>/status", views.order_status, name="order-status"),
    path("e-legitimation/<str:public_id>/avbryt", views.order_cancel, name="order-cancel"),
    path("logga-ut/", views.logout_view, name="logout"),
    path("logga-ut/overallt/", views.logout_everywhere, name="logout-everywhere"),
    path("konto/", views.account, name="account"),
]
