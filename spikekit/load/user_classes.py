"""Which Locust user classes play a scenario, with which weights (Locust processes only).

The master and every worker call :func:`user_classes` on the same scenario and so agree on
the classes' names (Locust's master hands out users by class name):

- the bundled personas (``players`` neither a locustfile nor journeys), weighted by the
  scenario's ``personas`` mix — one built-in set of journeys among the others;
- the non-abstract ``User`` classes of ``players.locustfile`` (imported here, in the
  Locust process, never in the orchestrating one), weighted by ``players.weights`` when
  given (a class it leaves out does not play), else by each class's own ``weight``;
- one :class:`~spikekit.load.journey_player.JourneyPlayer` class per declarative journey.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
from pathlib import Path

from locust import User

from spikekit.errors import LoadError
from spikekit.load.journey_player import journey_classes
from spikekit.load.journeys import PERSONAS
from spikekit.load.players import class_weights
from spikekit.scenarios import Scenario


class LocustfileError(LoadError):
    """A locustfile could not be imported, or has no user class to play."""


def user_classes(scenario: Scenario) -> list[type[User]]:
    """The classes that play ``scenario``, their ``weight`` set."""
    players = scenario.players
    if players.journeys:
        return list(journey_classes(players))
    if players.locustfile is not None:
        return weighted(load_locustfile(Path(players.locustfile)), players.weights)
    weights = class_weights(scenario.personas)
    classes: list[type[User]] = [cls for cls in PERSONAS if cls.__name__ in weights]
    for cls in classes:
        cls.weight = weights[cls.__name__]
    return classes


def load_locustfile(path: Path) -> list[type[User]]:
    """The non-abstract ``User`` classes a locustfile defines or imports, by name.

    Its folder goes on ``sys.path`` (a locustfile may import its neighbours), as Locust does.
    """
    name = "spikekit_locustfile_" + hashlib.sha1(str(path).encode()).hexdigest()[:12]
    if name in sys.modules:
        module = sys.modules[name]
    else:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise LocustfileError(f"locustfile {path}: not a Python file")
        module = importlib.util.module_from_spec(spec)
        folder = str(path.parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        try:
            spec.loader.exec_module(module)
        except Exception as error:  # the user's code: any error is reported, not raised on
            raise LocustfileError(f"locustfile {path}: {type(error).__name__}: {error}") from error
        sys.modules[name] = module
    classes = {
        obj.__name__: obj
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, User) and obj.abstract is False
    }
    if not classes:
        raise LocustfileError(f"locustfile {path}: no Locust User class (non-abstract) in it")
    return [classes[n] for n in sorted(classes)]


def weighted(classes: list[type[User]], weights: dict[str, float]) -> list[type[User]]:
    """``classes`` with the scenario's weights (when given: the classes it names only)."""
    if not weights:
        return classes
    by_name = {cls.__name__: cls for cls in classes}
    unknown = sorted(set(weights) - set(by_name))
    if unknown:
        raise LocustfileError(
            f"players.weights: classes of the locustfile ({', '.join(by_name)}), "
            f"got {', '.join(unknown)}"
        )
    chosen = [by_name[n] for n in sorted(weights) if weights[n] > 0]
    for cls in chosen:
        cls.weight = weights[cls.__name__]
    if not chosen:
        raise LocustfileError("players.weights: at least one weight above 0")
    return chosen
