"""Reporting: entrypoints."""
