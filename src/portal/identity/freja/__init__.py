"""Freja eID+ over Freja's relying-party REST API: client, provider, and a local simulator."""
