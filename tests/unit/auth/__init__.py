"""Unit tests of the auth service: rules, settings, use cases on fakes."""
