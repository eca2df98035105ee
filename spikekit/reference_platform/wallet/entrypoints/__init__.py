"""The wallet's HTTP API (FastAPI)."""
