"""Sweden Connect over OpenID Connect: the Swedish OpenID Connect Profile (id.oidc.se) and Sweden
Connect's profile of it, the portal's client keys, and a local OpenID Provider for development,
demonstrations and tests."""
