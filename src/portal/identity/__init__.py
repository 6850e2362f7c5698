"""People, e-ID providers, login and sessions (R2, R12)."""
