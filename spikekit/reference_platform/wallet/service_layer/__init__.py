"""Handlers and the unit-of-work interface: the wallet's use cases, independent of PostgreSQL."""
