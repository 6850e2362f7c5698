"""Versions of the terms, acceptances and change notices (R5, R6, R16)."""
