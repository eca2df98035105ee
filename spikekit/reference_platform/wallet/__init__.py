"""The wallet service: the ledger and the seamless-wallet API game providers call."""
