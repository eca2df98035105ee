"""Reporting: wallet events into per-minute aggregates in PostgreSQL; never slows the wallet."""
