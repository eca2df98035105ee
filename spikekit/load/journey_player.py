"""Declarative journeys played: a scenario's ``players.journeys`` as Locust user classes.

Each journey becomes one class (:func:`journey_classes`, named as the journey, its weight
the journey's) of :class:`JourneyPlayer`, a :class:`~spikekit.load.personas.Player`: the
same lean client, impatience, pacing and recording as the bundled personas. One action is
one step: its templates rendered (:mod:`spikekit.scenarios.placeholders`; values put in a
path are URL-quoted), sent with the player's impatience, its captures taken from the
answer, and — for a ``transaction`` step — what was acknowledged written to the worker's
ack file (an unanswered attempt to its unacked file), as the personas do.

The journey starts again from its first step (``once`` steps included: a new login) when
the platform answers 401, when a ``once`` step fails, or when a step needs a value that
an earlier answer did not give. Any other failed step is left behind: the player moves on.
"""

from __future__ import annotations

import time
from typing import ClassVar
from urllib.parse import quote

from spikekit.load.acks import unacked
from spikekit.load.journey_values import as_cents, captured, rendered, transaction_ack
from spikekit.load.pacing import LATE_MS, Pacer
from spikekit.load.personas import IDLE_WAIT_S, Answer, Player
from spikekit.rundir.acks import AckKind
from spikekit.scenarios.journeys import Journey, Players, Step, Transaction
from spikekit.scenarios.personas import ThinkTime
from spikekit.scenarios.placeholders import PlaceholderError, Value, render_text, render_value


class JourneyPlayer(Player):
    """A player of one declarative journey (``journey`` is set per generated class)."""

    abstract = True
    journey: ClassVar[Journey]

    def on_start(self) -> None:
        super().on_start()
        self.position = 0
        self.iteration = 0
        self.first_pass = True
        self.captures: dict[str, Value] = {}
        self.drawn: dict[str, Value] = {}
        self.think: ThinkTime = self.journey.think_time or self.ctx.scenario.think_time
        if self.journey.think_time is not None and self.in_session:
            think, rng = self.think, self.rng
            self.pacer = None
            self.request_context = {}
            if think.pacing:
                self.pacer = Pacer(lambda: rng.uniform(think.min, think.max), time.perf_counter)
                self.request_context = {LATE_MS: 0.0}
        self._draw()

    def wait_time(self) -> float:
        if not self.in_session:
            return IDLE_WAIT_S
        if self.pacer is not None:
            return self.pacer.wait()
        return self.rng.uniform(self.think.min, self.think.max)

    def values(self) -> dict[str, Value]:
        """What the templates of the next step may use."""
        username, password = self.login_as or ("", "")
        return {
            "player_id": self.player_id,
            "username": username,
            "password": password,
            "player_index": self.me.index,
            "iteration": self.iteration,
            "key": f"{self.player_id}-{self.me.serial}-{self.rng.getrandbits(48):012x}",
            **self.drawn,
            **self.captures,
        }

    def next_action(self) -> None:
        step = self.journey.steps[self.position]
        if self.play_step(step):
            self._advance()
        else:
            self.restart()

    def restart(self) -> None:
        """From the first step again, ``once`` steps included, with nothing captured."""
        self.position, self.first_pass = 0, True
        self.captures.clear()
        self._draw()

    def _advance(self) -> None:
        steps = self.journey.steps
        while True:
            self.position += 1
            if self.position >= len(steps):
                self.position, self.first_pass = 0, False
                self.iteration += 1
                self._draw()
            if self.first_pass or not steps[self.position].once:
                return

    def _draw(self) -> None:
        for name, spec in self.journey.vars.items():
            if hasattr(spec, "choice"):
                self.drawn[name] = self.rng.choice(spec.choice)
            else:
                self.drawn[name] = self.rng.randint(spec.min, spec.max)

    def play_step(self, step: Step) -> bool:
        """One step; False when the journey must start again."""
        values = self.values()
        try:
            quoted = {k: quote(str(v), safe="") for k, v in values.items() if v is not None}
            path = render_text(step.path, quoted)
            headers = {k: render_text(v, values) for k, v in step.headers.items()}
            body = None if step.body is None else render_value(step.body, values)
        except PlaceholderError:
            return False  # an earlier answer did not give what this step needs
        try:
            answer = self.call(
                step.method.value,
                path,
                step.endpoint,
                body=body,
                expect=step.expect,
                accept=step.accept,
                headers=headers,
            )
        except ValueError:  # a captured value that cannot go in a header or a request line
            return False
        if answer.ok:
            for name, capture in step.capture.items():
                value = captured(capture, answer, answer.body)
                if value is not None:
                    self.captures[name] = value
        if step.transaction is not None:
            self._acks(step, step.transaction, answer, values)
        return answer.ok or not (step.once or answer.status == 401)

    def _acks(
        self, step: Step, spec: Transaction, answer: Answer, values: dict[str, Value]
    ) -> None:
        now = time.time()
        acks = []
        for body in answer.acknowledged:  # each success the player saw (a refresh included)
            seen = {**values, **self.captures}
            for name, capture in step.capture.items():
                value = captured(capture, answer, body)
                if value is not None:
                    seen[name] = value
            ack = transaction_ack(now, self.player_id, spec, seen)
            if ack is not None:
                acks.append(ack)
        self.ctx.acks.write(acks)
        if answer.unanswered:
            amount = as_cents(rendered(spec.amount, values)) or 0
            kind = AckKind(spec.kind.value)
            self.ctx.unacked.write(unacked(now, kind, self.player_id, amount, answer.unanswered))


def journey_classes(players: Players) -> list[type[Player]]:
    """One Locust user class per journey of weight above 0, named as the journey."""
    classes: list[type[Player]] = []
    for journey in players.journeys:
        if journey.weight <= 0:
            continue
        attrs = {"journey": journey, "weight": journey.weight, "abstract": False}
        classes.append(type(journey.name, (JourneyPlayer,), {**attrs, "__module__": __name__}))
    return classes
