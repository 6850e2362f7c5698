"""Announcements, planned outages, service status and maintenance mode (R5, R15)."""
