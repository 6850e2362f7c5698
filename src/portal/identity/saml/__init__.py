"""Sweden Connect over SAML and its eIDAS connector: the portal as SP, and a local test IdP."""
