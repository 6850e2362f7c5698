"""E-ID providers behind one interface (``base.IdentityProvider``) and the registry of them."""
