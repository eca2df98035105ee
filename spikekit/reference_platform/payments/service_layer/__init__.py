"""Payments: service_layer."""
