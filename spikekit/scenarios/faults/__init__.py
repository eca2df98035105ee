"""The fault schedule as scenario data: one model per fault, a union on ``type``.

A fault's ``type`` is ``<family>.<kind>`` (``network.latency``, ``provider.errors``, …),
one module per family as in :mod:`spikekit.chaos`. Every fault starts at offset ``at`` and
lasts ``duration`` (none = until the run ends); the chaos engine executes them.
Millisecond-scale parameters are integers named ``*_ms``; everything on the scale of the
run is a :data:`~spikekit.scenarios.durations.Duration`.
"""

from __future__ import annotations

from typing import Annotated, get_args

from pydantic import Field

from spikekit.scenarios.faults.backing import (
    CacheFlush,
    CachePause,
    CacheRestart,
    Consumer,
    DatabaseConnectionSqueeze,
    DatabaseLock,
    DatabaseRestart,
    DatabaseStop,
    DatabaseTerminateBackends,
    LockMode,
    QueueConsumerKill,
    QueueConsumerStall,
    QueueFlood,
    ShutdownMode,
)
from spikekit.scenarios.faults.base import FaultBase, FaultFamily
from spikekit.scenarios.faults.network import (
    Direction,
    NetworkBandwidth,
    NetworkDown,
    NetworkLatency,
    NetworkLimitData,
    NetworkResetPeer,
    NetworkSlowClose,
    NetworkTimeout,
)
from spikekit.scenarios.faults.processes import (
    DockerDisconnect,
    DockerKill,
    DockerPause,
    DockerRestart,
    DockerStop,
    ProcessKill,
    ProcessSigstop,
)
from spikekit.scenarios.faults.provider import (
    ProviderCapacity,
    ProviderErrors,
    ProviderHang,
    ProviderLatency,
    ProviderRateLimit,
)

_FaultUnion = (
    NetworkLatency
    | NetworkTimeout
    | NetworkResetPeer
    | NetworkBandwidth
    | NetworkSlowClose
    | NetworkLimitData
    | NetworkDown
    | ProviderErrors
    | ProviderRateLimit
    | ProviderLatency
    | ProviderHang
    | ProviderCapacity
    | DatabaseLock
    | DatabaseTerminateBackends
    | DatabaseRestart
    | DatabaseStop
    | DatabaseConnectionSqueeze
    | CachePause
    | CacheFlush
    | CacheRestart
    | QueueFlood
    | QueueConsumerStall
    | QueueConsumerKill
    | ProcessSigstop
    | ProcessKill
    | DockerPause
    | DockerStop
    | DockerKill
    | DockerRestart
    | DockerDisconnect
)

#: One scheduled fault, chosen by its ``type``.
Fault = Annotated[_FaultUnion, Field(discriminator="type")]

#: The catalog: every fault type and its model.
FAULT_TYPES: dict[str, type[FaultBase]] = {
    get_args(cls.model_fields["type"].annotation)[0]: cls for cls in get_args(_FaultUnion)
}

__all__ = [
    "FAULT_TYPES",
    "CacheFlush",
    "CachePause",
    "CacheRestart",
    "Consumer",
    "DatabaseConnectionSqueeze",
    "DatabaseLock",
    "DatabaseRestart",
    "DatabaseStop",
    "DatabaseTerminateBackends",
    "Direction",
    "DockerDisconnect",
    "DockerKill",
    "DockerPause",
    "DockerRestart",
    "DockerStop",
    "Fault",
    "FaultBase",
    "FaultFamily",
    "LockMode",
    "NetworkBandwidth",
    "NetworkDown",
    "NetworkLatency",
    "NetworkLimitData",
    "NetworkResetPeer",
    "NetworkSlowClose",
    "NetworkTimeout",
    "ProcessKill",
    "ProcessSigstop",
    "ProviderCapacity",
    "ProviderErrors",
    "ProviderHang",
    "ProviderLatency",
    "ProviderRateLimit",
    "QueueConsumerKill",
    "QueueConsumerStall",
    "QueueFlood",
    "ShutdownMode",
]
