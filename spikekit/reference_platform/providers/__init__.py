"""Simulated third-party game studios (aurora, blitz, cobalt), one process per studio.

Layers: :mod:`catalogue` and :mod:`domain` (studios, games, the RTP draw: pure),
:mod:`faults` (what the control API sets), :mod:`wallet_client` (the signed
seamless-wallet calls with retries), :mod:`rounds` (a round: debit, draw, credit,
rollback), :mod:`app` (HTTP). See docs/providers.md and docs/provider-control-api.md.
"""
