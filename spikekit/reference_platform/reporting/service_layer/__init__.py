"""Reporting: service_layer."""
