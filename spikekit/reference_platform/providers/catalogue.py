"""The studios and the games they offer: plain data shared by the providers and the router.

Each studio has its own capacity and latency profile; several games are offered by more
than one studio, so the router can fail a launch or a round over to another one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Studio:
    """A simulated game studio's character: how much it takes and how fast it answers."""

    name: str
    capacity: int  # rounds in flight at once; beyond it 429 + Retry-After
    think_ms: float  # mean time to play a round (between the debit and the credit)
    jitter_ms: float  # +/- uniform variation of think_ms
    rate_limit_rps: float | None  # requests per second before 429, None: unlimited
    rtp: float  # return to player, e.g. 0.96


# Families whose outcome is known as soon as the round starts (a spin): the bet and the
# win can go to the wallet in one call. A live table or a crash game holds the bet while
# the round plays out (the dealer deals, the player cashes out): bet first, win later.
INSTANT_FAMILIES = frozenset({"slots", "jackpot"})


@dataclass(frozen=True)
class Game:
    id: str
    name: str
    family: str  # slots, live, jackpot, crash
    studios: tuple[str, ...]  # in the operator's order of preference
    min_bet: int = 10  # minor units
    max_bet: int = 100_000

    @property
    def instant(self) -> bool:
        """The outcome is decided before the wallet is called (see :data:`INSTANT_FAMILIES`)."""
        return self.family in INSTANT_FAMILIES


STUDIOS: dict[str, Studio] = {
    s.name: s
    for s in (
        Studio("aurora", capacity=512, think_ms=5, jitter_ms=3, rate_limit_rps=None, rtp=0.96),
        Studio("blitz", capacity=128, think_ms=20, jitter_ms=10, rate_limit_rps=None, rtp=0.955),
        Studio("cobalt", capacity=32, think_ms=60, jitter_ms=30, rate_limit_rps=150, rtp=0.94),
    )
}

GAMES: dict[str, Game] = {
    g.id: g
    for g in (
        Game("starburst-nova", "Starburst Nova", "slots", ("aurora", "blitz")),
        Game("book-of-ra-redux", "Book of Ra Redux", "slots", ("blitz", "cobalt")),
        Game("gonzo-gold", "Gonzo Gold", "slots", ("aurora",)),
        Game("dead-or-alive-3", "Dead or Alive 3", "slots", ("cobalt",)),
        Game("mega-fortune-x", "Mega Fortune X", "jackpot", ("cobalt", "aurora")),
        Game("divine-jackpot", "Divine Jackpot", "jackpot", ("blitz", "cobalt")),
        Game("lightning-roulette-live", "Lightning Roulette", "live", ("blitz",)),
        Game("blackjack-classic-live", "Blackjack Classic", "live", ("blitz", "aurora")),
        Game("aviator-sky", "Aviator Sky", "crash", ("aurora", "blitz", "cobalt")),
    )
}


def games_of(studio: str) -> dict[str, Game]:
    """The games ``studio`` offers."""
    return {g.id: g for g in GAMES.values() if studio in g.studios}
