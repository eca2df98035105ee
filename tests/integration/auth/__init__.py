"""The auth service against real PostgreSQL and Redis."""
