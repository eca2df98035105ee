"""PostgreSQL, Redis, argon2 and Prometheus behind the service layer's interfaces."""
