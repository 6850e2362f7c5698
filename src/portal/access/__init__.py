"""Memberships (access administrator, user), grants per e-service, expiry and access reviews; the one authorisation function ``access.can`` (R3, R8)."""
