"""The HTTP face of the gateway: routes, schemas, error answers, middleware."""
