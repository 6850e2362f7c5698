"""BankID: the relying-party API v6.0, its animated QR code, and a local simulator with a test PKI
for development, demonstrations and tests."""
