"""System checks of the e-services' configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks


def check_upload_dir(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Attachments must never be reachable as static files: the upload directory may not lie in
    the static root (or contain it)."""
    uploads = Path(settings.UPLOAD_DIR).resolve()
    static = Path(settings.STATIC_ROOT).resolve()
    if uploads == static or static in uploads.parents or uploads in static.parents:
        return [
            checks.Error(
                "PORTAL_UPLOAD_DIR overlaps PORTAL_STATIC_ROOT: attachments would be served "
                "without an access check.",
                hint="Keep attachments in a directory of their own, outside the web root.",
                id="portal.E301",
            )
        ]
    return []
