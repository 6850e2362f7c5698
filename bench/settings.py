"""The load bench's Django settings: the portal's own, with the bench's URLs (bench/urls.py), which
add the floor's view to the portal's and nothing else. The server is started with
``DJANGO_SETTINGS_MODULE=bench.settings`` and the repository on ``PYTHONPATH`` (bench/load.py)."""

from portal.config.settings import *  # noqa: F403 (the portal's settings, unchanged)

ROOT_URLCONF = "bench.urls"
