"""The HTTP edge: app factory, authentication, error mapping, middleware, router wiring."""
