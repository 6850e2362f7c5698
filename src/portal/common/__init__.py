"""What every app shares: the error family, middleware, logging, route declarations."""
