"""The agency's announcements and instructions to the employers' people (R5)."""
