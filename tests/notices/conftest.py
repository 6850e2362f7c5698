from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from portal.notices.selectors import BANNER_CACHE_KEY


@pytest.fixture(autouse=True)
def _fresh_banner() -> Iterator[None]:
    """The banner is cached; no test sees another's (nor leaves its own behind)."""
    cache.delete(BANNER_CACHE_KEY)
    yield
    cache.delete(BANNER_CACHE_KEY)
