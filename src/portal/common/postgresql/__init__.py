"""The portal's database backend for PostgreSQL (``DATABASES["default"]["ENGINE"]``)."""
