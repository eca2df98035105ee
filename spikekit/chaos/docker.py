"""Docker faults, for platforms that run in containers: through the ``docker`` SDK.

pause → unpause, stop → start, kill → start, restart (nothing to revert but making sure it
runs), disconnect from a network → connect again. The engine is the SDK's default
(``DOCKER_HOST`` or the local socket) or :attr:`ChaosContext.docker_url`; a TCP engine off
this machine needs ``--allow-target``. When no engine answers, the fault fails with a
:class:`~spikekit.errors.ChaosError` saying so.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from spikekit.chaos.base import Fault, FaultConfigError, RevertRecord, register
from spikekit.errors import ChaosError
from spikekit.scenarios.faults import (
    DockerDisconnect,
    DockerKill,
    DockerPause,
    DockerRestart,
    DockerStop,
)

if TYPE_CHECKING:
    from spikekit.chaos.context import ChaosContext

__all__ = ["ContainerChanged", "DockerFault", "docker_client"]

DockerSpec = DockerPause | DockerStop | DockerKill | DockerRestart | DockerDisconnect
DEFAULT_SOCKET = "unix:///var/run/docker.sock"
Action = Literal["unpause", "start", "ensure_running", "connect"]


def docker_client(ctx: ChaosContext, what: str) -> Any:
    """A ``docker.DockerClient`` on the engine, after the guard; ChaosError when none answers."""
    import docker  # the SDK is only needed for these faults
    from docker.errors import DockerException

    url = ctx.docker_url or os.environ.get("DOCKER_HOST")
    if url:
        ctx.guard.check_url(url, what)
    where = url or DEFAULT_SOCKET
    if where.startswith("unix://") and not Path(where.removeprefix("unix://")).exists():
        raise ChaosError(what, f"no Docker engine answers at {where}: no such socket")
    client = None
    try:
        client = docker.DockerClient(base_url=url) if url else docker.from_env()
        client.ping()
    except DockerException as error:
        if client is not None:
            client.close()
        raise ChaosError(what, f"no Docker engine answers at {where}: {error}") from None
    return client


class ContainerChanged(RevertRecord):
    """How to undo what a Docker fault did to one container."""

    kind: Literal["docker.container"] = "docker.container"
    docker_url: str | None
    container: str
    action: Action
    network: str | None = None

    def undo(self, ctx: ChaosContext) -> str:
        from docker.errors import APIError, NotFound

        if self.docker_url:
            ctx.guard.check_url(self.docker_url, "docker")
        client = docker_client(_with_url(ctx, self.docker_url), "docker")
        try:
            container = client.containers.get(self.container)
            container.reload()
            running = container.status == "running"
            if self.action == "unpause" and container.status == "paused":
                container.unpause()
            elif self.action in ("start", "ensure_running") and not running:
                container.start()
            elif self.action == "connect" and self.network is not None:
                client.networks.get(self.network).connect(container)
            else:
                return f"{self.container} needed nothing"
        except NotFound:
            return f"{self.container} is gone"
        except APIError as error:
            raise ChaosError(f"docker {self.container}", str(error)) from None
        finally:
            client.close()
        return f"{self.action} {self.container}"


def _with_url(ctx: ChaosContext, url: str | None) -> ChaosContext:
    from dataclasses import replace

    return replace(ctx, docker_url=url) if url else ctx


_REVERT_ACTION: dict[str, Action] = {
    "docker.pause": "unpause",
    "docker.stop": "start",
    "docker.kill": "start",
    "docker.restart": "ensure_running",
    "docker.disconnect": "connect",
}


@register(*_REVERT_ACTION)
class DockerFault(Fault[DockerSpec]):
    """One container paused, stopped, killed, restarted or cut off a network."""

    @property
    def revert_action(self) -> Action:
        return _REVERT_ACTION[self.spec.type]

    def _container(self, client: Any) -> Any:
        from docker.errors import NotFound

        try:
            return client.containers.get(self.spec.container)
        except NotFound:
            raise FaultConfigError(
                self.fault_type, f"no container {self.spec.container!r}"
            ) from None

    def check(self) -> None:
        client = docker_client(self.ctx, self.fault_type)
        try:
            self._container(client)
        finally:
            client.close()

    def _inject(self) -> RevertRecord:
        from docker.errors import APIError

        spec = self.spec
        client = docker_client(self.ctx, self.fault_type)
        try:
            container = self._container(client)
            match spec:
                case DockerPause():
                    container.pause()
                case DockerStop():
                    container.stop(timeout=spec.timeout_s)
                case DockerKill():
                    container.kill(signal=spec.signal)
                case DockerRestart():
                    container.restart()
                case DockerDisconnect():
                    client.networks.get(spec.network).disconnect(container)
        except APIError as error:
            raise self.error(str(error)) from None
        finally:
            client.close()
        return ContainerChanged(
            docker_url=self.ctx.docker_url or os.environ.get("DOCKER_HOST"),
            container=spec.container,
            action=self.revert_action,
            network=spec.network if isinstance(spec, DockerDisconnect) else None,
        )
