"""The agency staff's screens: paper enrolments, terms, announcements, support look-ups (R11)."""
