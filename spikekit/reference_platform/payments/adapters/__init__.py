"""Payments: adapters."""
