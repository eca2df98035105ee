"""Payments: entrypoints."""
