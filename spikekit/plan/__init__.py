"""Capacity planning: what a scenario's peak needs, from costs measured on this machine.

- :mod:`spikekit.plan.usl` — the Universal Scalability Law, fitted to measured steps.
"""
