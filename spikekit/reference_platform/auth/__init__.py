"""The auth service: password checks, session tokens, login rate limits (see docs/auth-api.md)."""
