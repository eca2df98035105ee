"""Reporting: adapters."""
