from __future__ import annotations

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_the_models_and_the_migrations_agree() -> None:
    # Fails when a model change has no migration (makemigrations --check exits with status 1).
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
