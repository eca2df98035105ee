"""Payments: deposits and withdrawals accepted fast, queued on a Redis Stream, worked off."""
