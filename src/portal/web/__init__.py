"""The public pages and the error pages."""
