"""Routes of the access review pages (names in the access namespace)."""

from __future__ import annotations

from django.urls import URLPattern, path

from portal.access import review_views

urlpatterns: list[URLPattern] = [
    path("granskning/", review_views.review_page, name="review"),
]
