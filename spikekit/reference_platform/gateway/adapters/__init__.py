"""Adapters of the gateway: typed HTTP clients per dependency, Redis stores, metrics."""
