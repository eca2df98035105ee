"""The one small interface every fault implements, and the registries behind it.

A :class:`Fault` wraps one scenario fault spec (``spikekit.scenarios.faults``): ``inject()``
puts it on, ``revert()`` takes it off, and as a context manager it is reverted in
``__exit__`` whatever happened. ``inject()`` returns a :class:`RevertRecord`: plain,
serializable data (a proxy and toxic name, PIDs with their start times, a URL) that the
journal keeps, so that :mod:`spikekit.chaos.revert` can take the fault off again from
another process after a crash. A record's :meth:`RevertRecord.undo` is the one revert
path, used live and from the journal alike.

    fault = build_fault(spec, ctx, fault_id="accounts-lock")   # spikekit.chaos.registry
    with fault:
        ...  # the fault is on

Exceptions (all :class:`~spikekit.errors.ChaosError`):

    ChaosError
    ├── UnsafeTargetError     (spikekit.errors) a target off this machine, not allowed
    └── FaultConfigError      a fault's parameters or target do not fit the platform (exit 2)
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, JsonValue, ValidationError

from spikekit.errors import ChaosError, FaultConfigError
from spikekit.scenarios.faults import FaultBase

if TYPE_CHECKING:
    from spikekit.chaos.context import ChaosContext

__all__ = [
    "FAULT_CLASSES",
    "Fault",
    "FaultConfigError",
    "NothingToRevert",
    "RevertRecord",
    "parse_record",
    "register",
]


class RevertRecord(BaseModel):
    """What is needed to take a fault off later, from the journal alone.

    Subclasses set ``kind`` to a unique ``Literal`` and implement :meth:`undo`; they are
    registered by their kind when the class is created.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    _kinds: ClassVar[dict[str, type[RevertRecord]]] = {}

    kind: str

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        default = cls.model_fields["kind"].default
        if isinstance(default, str):
            RevertRecord._kinds[default] = cls

    @abstractmethod
    def undo(self, ctx: ChaosContext) -> str:
        """Take the fault off; returns the outcome in a few words. Idempotent."""

    def to_json(self) -> dict[str, JsonValue]:
        dumped: dict[str, JsonValue] = self.model_dump(mode="json")
        return dumped


class NothingToRevert(RevertRecord):
    """An instantaneous or self-healing fault (a flush, a restart that already happened)."""

    kind: str = "none"
    reason: str = "nothing to revert"

    def undo(self, ctx: ChaosContext) -> str:
        return self.reason


def parse_record(data: JsonValue) -> RevertRecord:
    """A revert record back from the journal; ChaosError when it is unknown or malformed."""
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
        raise ChaosError("revert", f"not a revert record: {data!r}")
    kind = str(data["kind"])
    _load_families()
    cls = RevertRecord._kinds.get(kind)
    if cls is None:
        raise ChaosError("revert", f"unknown revert record kind {kind!r}")
    try:
        return cls.model_validate(data)
    except ValidationError as error:
        raise ChaosError("revert", f"malformed {kind} revert record: {error}") from None


def _load_families() -> None:
    import spikekit.chaos.registry  # noqa: F401  (registers every family's records)


SpecT = TypeVar("SpecT", bound=FaultBase)

#: Fault classes by scenario fault ``type``; filled by :func:`register`.
FAULT_CLASSES: dict[str, type[Fault[Any]]] = {}


def register(*types: str) -> Any:
    """Class decorator: this fault class executes these scenario fault types."""

    def decorate(cls: type[Fault[Any]]) -> type[Fault[Any]]:
        for name in types:
            FAULT_CLASSES[name] = cls
        return cls

    return decorate


class Fault(ABC, Generic[SpecT]):
    """One fault on a platform: ``inject()``, ``revert()``, and a context manager.

    ``duration_s`` is how long the schedule keeps it on (None: until reverted); a few
    faults need it (a Redis pause is given its length up front).
    """

    def __init__(
        self,
        spec: SpecT,
        ctx: ChaosContext,
        *,
        fault_id: str,
        duration_s: float | None = None,
    ) -> None:
        self.spec = spec
        self.ctx = ctx
        self.fault_id = fault_id
        self.duration_s = duration_s
        self.record: RevertRecord | None = None
        self._lock = threading.Lock()

    # -- what it is --------------------------------------------------------------------

    @property
    def fault_type(self) -> str:
        return self.spec.type

    @property
    def target(self) -> str:
        return self.spec.target_name()

    @property
    def description(self) -> str:
        return f"{self.fault_id}: {self.spec.summary()}"

    @property
    def params(self) -> dict[str, JsonValue]:
        return self.spec.params()

    @property
    def active(self) -> bool:
        return self.record is not None

    def error(self, message: str) -> ChaosError:
        return ChaosError(f"{self.fault_type} {self.fault_id}", message)

    def config_error(self, message: str) -> FaultConfigError:
        return FaultConfigError(f"{self.fault_type} {self.fault_id}", message)

    # -- lifecycle ---------------------------------------------------------------------

    def check(self) -> None:
        """Resolve the target and refuse bad parameters before anything is touched."""

    @abstractmethod
    def _inject(self) -> RevertRecord:
        """Put the fault on; returns how to take it off."""

    def _release(self) -> None:
        """Let go of what this process holds for the fault (threads, connections)."""

    def inject(self) -> RevertRecord:
        """Put the fault on (once); returns its revert record."""
        with self._lock:
            if self.record is not None:
                return self.record
            try:
                self.record = self._inject()
            except BaseException:
                self._release()
                raise
            return self.record

    def revert(self) -> str:
        """Take the fault off; returns the outcome. Safe to call twice or before inject."""
        with self._lock:
            record, self.record = self.record, None
            self._release()
            if record is None:
                return "not active"
            try:
                return record.undo(self.ctx)
            except BaseException:
                self.record = record  # still on: a later revert tries again
                raise

    def __enter__(self) -> Self:
        self.inject()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.revert()
