"""In-memory stand-ins for the auth service's ports, driven by one fake clock."""

from __future__ import annotations

from spikekit.reference_platform.auth.domain import (
    Credential,
    LoginOutcome,
    Overloaded,
    UsernameTaken,
)
from spikekit.reference_platform.auth.service_layer.ports import (
    AbstractCounters,
    AbstractCredentials,
    AbstractPasswords,
    AbstractSessions,
)


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeCredentials(AbstractCredentials):
    def __init__(self) -> None:
        self.rows: dict[str, Credential] = {}
        self.reads = 0

    async def get(self, username: str) -> Credential | None:
        self.reads += 1
        return self.rows.get(username)

    async def add(self, credential: Credential) -> None:
        if credential.username in self.rows:
            raise UsernameTaken(credential.username)
        self.rows[credential.username] = credential


class FakeSessions(AbstractSessions):
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.rows: dict[str, tuple[str, float]] = {}
        self.lookups = 0

    async def create(self, digest: str, player_id: str, ttl_s: int) -> None:
        self.rows[digest] = (player_id, self.clock() + ttl_s)

    async def lookup(self, digest: str) -> tuple[str, float] | None:
        self.lookups += 1
        row = self.rows.get(digest)
        if row is None or row[1] <= self.clock():
            return None
        return row[0], row[1] - self.clock()

    async def delete(self, digest: str) -> None:
        self.rows.pop(digest, None)

    async def active(self) -> int:
        return sum(1 for _, end in self.rows.values() if end > self.clock())


class FakeCounters(AbstractCounters):
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.rows: dict[str, tuple[int, float]] = {}

    async def incr(self, key: str, expire_s: int) -> int:
        count = await self.get(key) + 1
        self.rows[key] = (count, self.clock() + expire_s)
        return count

    async def get(self, key: str) -> int:
        count, end = self.rows.get(key, (0, 0.0))
        return count if end > self.clock() else 0


class FakePasswords(AbstractPasswords):
    """'Hashes' by prefixing; ``overloaded`` makes every check refuse like a full bound."""

    def __init__(self) -> None:
        self.verifications = 0
        self.overloaded = False

    async def hash(self, password: str) -> str:
        if self.overloaded:
            raise Overloaded(1)
        return f"fake${password}"

    async def verify(self, password_hash: str, password: str) -> bool:
        if self.overloaded:
            raise Overloaded(1)
        self.verifications += 1
        return password_hash == f"fake${password}"


class RecordingTelemetry:
    def __init__(self) -> None:
        self.logins: list[LoginOutcome] = []
        self.cache_hits: list[bool] = []

    def login(self, outcome: LoginOutcome) -> None:
        self.logins.append(outcome)

    def cache(self, hit: bool) -> None:
        self.cache_hits.append(hit)
