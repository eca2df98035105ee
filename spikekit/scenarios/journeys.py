"""``players``: who plays — the bundled personas, a locustfile, or declarative journeys.

Three ways, one field (docs/own-journeys.md)::

    players: {}                                   # the bundled personas (``personas`` mix)

    players:
      locustfile: journeys.py                     # relative to the scenario file
      weights: {Bettor: 3, Browser: 1}            # optional: else each class's ``weight``

    players:
      journeys:
        - name: bettor
          weight: 3
          vars: {stake: {min: 10, max: 500}}      # drawn anew for every pass
          steps:
            - {method: POST, path: /v2/sessions, body: {user: "${username}"},
               once: true, expect: [201], capture: {token: {header: X-Session-Token}}}
            - method: POST
              path: /v2/wagers
              headers: {X-Session-Token: "${token}", Idempotency-Key: "${key}"}
              body: {wallet: "${player_id}", stake: {cents: "${stake}"}}
              capture: {wager: {json: wager.id}}
              transaction: {kind: bet, tx_id: "${wager}", amount: "${stake}"}

A step's path, header values and body strings take ``${name}`` placeholders
(:mod:`spikekit.scenarios.placeholders`: names only, no expressions). Names are the
built-ins (:data:`BUILTIN_NAMES`), the journey's ``vars`` and the captures of earlier
steps; the validation refuses any other, naming the field. A ``locustfile`` is Python
code the user chose to run: it runs with the user's rights, in the Locust processes only.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

from spikekit.scenarios.personas import ThinkTime
from spikekit.scenarios.placeholders import names_in, names_in_value

NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
#: Values every step may use: the seeded account (``player_id``, ``username``,
#: ``password``), the player's run-wide ``player_index``, a fresh ``key`` per step (kept
#: by its retries: an idempotency key) and the journey's ``iteration`` (0, 1, ...).
BUILTIN_NAMES = frozenset({"player_id", "username", "password", "player_index", "key", "iteration"})
_JSON_PATH = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
_HEADER = re.compile(r"^[A-Za-z0-9-]+$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HttpMethod(StrEnum):
    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    PATCH = "PATCH"
    DELETE = "DELETE"


class TransactionKind(StrEnum):
    """A money transaction the player saw acknowledged (the audit's kinds)."""

    BET = "bet"
    WIN = "win"
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"


class Capture(_Model):
    """Where a value comes from in a step's answer: one ``json`` path or one ``header``."""

    json_path: str | None = Field(
        default=None,
        alias="json",
        pattern=_JSON_PATH.pattern,
        description="Dotted keys (and list indexes) into the JSON body, e.g. wager.id.",
    )
    header: str | None = Field(
        default=None, pattern=_HEADER.pattern, description="A response header, e.g. X-Token."
    )

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_source(self) -> Capture:
        if (self.json_path is None) == (self.header is None):
            raise ValueError("expected exactly one of json or header")
        return self


class Transaction(_Model):
    """A step that moves money: the audit reconciles it when its answer was acknowledged."""

    kind: TransactionKind = Field(description="bet, win, deposit or withdrawal.")
    tx_id: str = Field(min_length=1, description="The transaction's id, e.g. ${wager}.")
    amount: str | int = Field(description="Integer minor units (cents), e.g. ${stake}.")
    balance_after: str | None = Field(
        default=None, description="The balance the answer reported, e.g. ${balance}."
    )

    @field_validator("tx_id", "amount", "balance_after")
    @classmethod
    def _placeholders(cls, value: Any) -> Any:
        names_in_value(value)
        return value


class RandomInt(_Model):
    """An integer drawn uniformly in ``[min, max]`` for each pass through the steps."""

    min: int
    max: int

    @model_validator(mode="after")
    def _ordered(self) -> RandomInt:
        if self.min > self.max:
            raise ValueError(f"expected min <= max, got min={self.min}, max={self.max}")
        return self


class Choice(_Model):
    """One of ``choice`` for each pass through the steps."""

    choice: list[str | int | float | bool] = Field(min_length=1)


Status = Annotated[int, Field(ge=100, le=599)]


class Step(_Model):
    """One request of a journey: one action of the player, then its think time."""

    name: str | None = Field(
        default=None,
        min_length=1,
        description="Request name (the report adds the method); default the path, {name} holes.",
    )
    method: HttpMethod = HttpMethod.GET
    path: str = Field(pattern=r"^/\S*$", description="Path template, e.g. /v2/wallets/${w}.")
    headers: dict[Annotated[str, Field(pattern=_HEADER.pattern)], str] = Field(
        default_factory=dict, description="Header templates, e.g. {X-Token: ${token}}."
    )
    body: dict[str, JsonValue] | None = Field(
        default=None, description="JSON object template (none: no body)."
    )
    capture: dict[Annotated[str, Field(pattern=NAME)], Capture] = Field(
        default_factory=dict, description="Values taken from the answer for later steps."
    )
    expect: list[Status] = Field(default_factory=lambda: [200], min_length=1)
    accept: list[Status] = Field(
        default_factory=list, description="Business answers: successes, never retried."
    )
    once: bool = Field(default=False, description="Only on the session's first pass (a login).")
    transaction: Transaction | None = None

    @field_validator("path", "headers", "body")
    @classmethod
    def _placeholders(cls, value: Any) -> Any:
        names_in_value(value)  # a malformed placeholder is named at its field
        return value

    @property
    def endpoint(self) -> str:
        """The request's name: ``name``, or the path with ``${x}`` as ``{x}`` (the report
        shows it after the method: ``GET /v2/wallets/{w}``)."""
        if self.name is not None:
            return self.name
        return re.sub(r"\$\{(\w+)\}", r"{\1}", self.path)

    def used_names(self) -> list[tuple[tuple[str | int, ...], list[str]]]:
        """``(field path, names)`` of every template of the step, the capture's excluded."""
        used: list[tuple[tuple[str | int, ...], list[str]]] = [(("path",), names_in(self.path))]
        used += [(("headers", k), names_in(v)) for k, v in self.headers.items()]
        used.append((("body",), names_in_value(self.body)))
        return used

    def transaction_names(self) -> list[tuple[tuple[str | int, ...], list[str]]]:
        if self.transaction is None:
            return []
        t = self.transaction
        used: list[tuple[tuple[str | int, ...], list[str]]] = [
            (("transaction", "tx_id"), names_in(t.tx_id))
        ]
        if isinstance(t.amount, str):
            used.append((("transaction", "amount"), names_in(t.amount)))
        if t.balance_after is not None:
            used.append((("transaction", "balance_after"), names_in(t.balance_after)))
        return used


class Journey(_Model):
    """A kind of player: steps played in order, over and over (``once`` steps first only)."""

    name: str = Field(pattern=NAME, description="The players' class name, e.g. bettor.")
    weight: float = Field(default=1.0, ge=0, description="Relative share of the players.")
    vars: dict[Annotated[str, Field(pattern=NAME)], RandomInt | Choice] = Field(
        default_factory=dict, description="Random values drawn anew for each pass."
    )
    think_time: ThinkTime | None = Field(
        default=None, description="This journey's rhythm (default: the scenario's)."
    )
    steps: list[Step] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _names_defined(self) -> Journey:
        problems: list[str] = []
        if all(step.once for step in self.steps):
            problems.append("steps: at least one step without once: true (played every pass)")
        known = set(BUILTIN_NAMES) | set(self.vars)
        for clash in sorted(BUILTIN_NAMES & set(self.vars)):
            problems.append(f"vars.{clash}: a name of your own, {clash!r} is a built-in")
        for index, step in enumerate(self.steps):
            for path, names in step.used_names():
                problems += _undefined(("steps", index, *path), names, known)
            known |= set(step.capture)
            for path, names in step.transaction_names():
                problems += _undefined(("steps", index, *path), names, known)
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _undefined(path: tuple[str | int, ...], names: list[str], known: set[str]) -> list[str]:
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    return [
        f"{where}: a defined name (built-ins, vars or an earlier step's capture), got ${{{name}}}"
        for name in names
        if name not in known
    ]


class Players(_Model):
    """Who plays: the bundled personas (neither field), a ``locustfile`` or ``journeys``."""

    locustfile: str | None = Field(
        default=None,
        min_length=1,
        description="Python file of Locust users (relative to the scenario file); it runs "
        "with your rights, in the load processes only.",
    )
    weights: dict[Annotated[str, Field(pattern=NAME)], Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict, description="Locustfile class → weight (default: its weight)."
    )
    journeys: list[Journey] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _one_way(self) -> Players:
        if self.locustfile is not None and self.journeys:
            raise ValueError("expected a locustfile or journeys, not both")
        if self.weights and self.locustfile is None:
            raise ValueError("weights: only with a locustfile (journeys have their own weight)")
        names = [j.name for j in self.journeys]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"journeys: unique names, {', '.join(repeated)} repeats")
        if self.journeys and sum(j.weight for j in self.journeys) <= 0:
            raise ValueError("journeys: at least one weight above 0")
        return self

    @property
    def builtin(self) -> bool:
        """The bundled personas play (neither a locustfile nor journeys)."""
        return self.locustfile is None and not self.journeys


def locustfile_problem(path: Path) -> str | None:
    """Why ``path`` cannot be a locustfile (None: it is an existing ``.py`` file)."""
    if path.suffix != ".py":
        return f"a Python file ending in .py, got {path.name!r}"
    try:
        if not path.is_file():
            return f"an existing Python file, {path} is not there"
    except OSError as error:
        return f"a readable Python file ({error.strerror or error})"
    return None


def with_locustfile(players: Players, locustfile: Path, base: Path) -> Players:
    """``players`` playing ``locustfile``, resolved against ``base`` (the scenario's folder
    for the file's own field, the working folder for ``--locustfile``) and checked to exist:
    ``ValueError`` saying what was expected otherwise. Journeys give way to it."""
    path = (base / locustfile).resolve()
    problem = locustfile_problem(path)
    if problem is not None:
        raise ValueError(problem)
    return players.model_copy(update={"locustfile": str(path), "journeys": []})
