"""Bet and settle: an instant round's bet and win decided together; pure, no I/O.

A studio whose game's outcome is known before the wallet is called (a slot spin)
sends the bet and the win in one request, :class:`BetAndWin`. They stay two
transactions, each idempotent under its own id and each with its own record and
ledger entry (the audit sees a round exactly as if two calls had been made), but
they are decided and stored together: :func:`decide_pair` applies the win only
if the bet was accepted, and the caller stores both decisions or neither.

- a bet refused (``INSUFFICIENT_FUNDS``, ``TX_ROLLED_BACK``) stops there: no win is
  decided, nothing of the win is stored, and a retry gets the same refusal;
- a repeat of the pair gets both stored answers (replays), no money moves again;
- an error of either half (e.g. a transaction id known with another payload) is the
  pair's error, and nothing of the pair is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from spikekit.reference_platform.wallet.domain import (
    Answer,
    Decision,
    Snapshot,
    TxKind,
    TxRequest,
    TxStatus,
    WalletError,
    decide,
)


@dataclass(frozen=True)
class BetAndWin:
    """An instant round: ``bet`` then ``win``, same source, player and round, two ids."""

    bet: TxRequest
    win: TxRequest

    def __post_init__(self) -> None:
        bet, win = self.bet, self.win
        if bet.kind is not TxKind.BET or win.kind is not TxKind.WIN:
            raise WalletError("bet and settle needs a bet and a win")
        if (bet.source, bet.player_id, bet.round_id) != (win.source, win.player_id, win.round_id):
            raise WalletError("the bet and the win must be of the same player and round")
        if bet.tx_id == win.tx_id:
            raise WalletError("the bet and the win need two transaction ids")

    @property
    def requests(self) -> tuple[TxRequest, TxRequest]:
        return (self.bet, self.win)


@dataclass(frozen=True)
class PairAnswer:
    """What the caller is told: the bet's answer and the win's (None: the bet was refused)."""

    bet: Answer
    win: Answer | None

    @property
    def ok(self) -> bool:
        return self.win is not None and self.bet.ok and self.win.ok

    @property
    def last(self) -> Answer:
        """The answer that fixes the balance and, when refused, the reason."""
        if self.win is None or not self.bet.ok:
            return self.bet
        return self.win

    @property
    def replayed(self) -> bool:
        return self.bet.replayed and (self.win is None or self.win.replayed)


@dataclass(frozen=True)
class PairDecision:
    answer: PairAnswer
    decisions: tuple[Decision, ...]  # the bet's, then the win's if it was decided


def decide_pair(pair: BetAndWin, bet: Snapshot, win: Snapshot) -> PairDecision:
    """Decide the bet, then the win on what the bet left; pure.

    ``bet`` and ``win`` are the snapshots of each request as loaded before either was
    decided (the same account); the win's is brought up to date with the bet's effect
    (balance, an open bet in the round) before the win is decided.
    """
    first = decide(pair.bet, bet)
    if not first.answer.ok:
        return PairDecision(PairAnswer(first.answer, None), (first,))
    account = win.account
    if first.entry is not None:
        account = replace(account, balance=first.entry.balance_after)
    state = win.round
    if first.record is not None and first.record.status is TxStatus.APPLIED:
        state = replace(state, open_bets=state.open_bets + 1)
    second = decide(pair.win, replace(win, account=account, round=state))
    return PairDecision(PairAnswer(first.answer, second.answer), (first, second))
