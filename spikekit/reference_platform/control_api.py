"""A small request channel into a running supervisor: "start this process again".

Chaos faults stop processes of the stack (a database crash, a killed service); starting
one again must be done by the supervisor, because only its main thread's children get
the parent-death signal and only it owns their ``Popen``. The channel is a folder in the
stack's state folder, so it needs no port and works for any process that can read
``stack.json``::

    <state_dir>/control/requests/<id>.json    written (atomically) by a client
    <state_dir>/control/responses/<id>.json   written by the supervisor when done

A request names a process as in ``stack.json`` (``postgres``, ``redis``, ``gateway``,
``gateway-2``, ``haproxy`` ...). ``start`` starts it again with the same command line,
port, data and environment (PostgreSQL recovers its data; Redis starts empty unless
``keep_data`` and a snapshot exists), waits until it answers, and saves ``stack.json``
with its new PID.
A process that is still alive is left alone (the answer is ``ok`` with its PID).

Supervisor side: ``control = StackControl(stack)``, then ``control.handle_pending()``
from the supervisor's main loop. Client side: :func:`request_start`.
"""

from __future__ import annotations

import contextlib
import signal
import time
import uuid
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from spikekit.errors import StackError
from spikekit.processes import ManagedProcess, spawn, wait_until
from spikekit.reference_platform.redis_server import ping

if TYPE_CHECKING:
    from spikekit.reference_platform.supervisor import Stack

__all__ = ["ControlRequest", "ControlResponse", "StackControl", "control_dir", "request_start"]

CONTROL_DIR = "control"
READY_TIMEOUT_S = 60.0


class ControlRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    action: Literal["start"] = "start"
    target: str
    keep_data: bool = False
    created_at: float


class ControlResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    ok: bool
    error: str | None = None
    pid: int | None = None
    create_time: float | None = None


def control_dir(state_dir: Path) -> Path:
    return state_dir / CONTROL_DIR


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


# -- client ------------------------------------------------------------------------------


def request_start(
    state_dir: Path, target: str, *, keep_data: bool = False, timeout: float = READY_TIMEOUT_S
) -> ControlResponse:
    """Ask the supervisor of ``state_dir`` to start ``target`` again; wait for its answer.

    Raises StackError when the supervisor does not answer within ``timeout`` (it is not
    running, or it does not watch the control folder) or answers with an error.
    """
    folder = control_dir(state_dir)
    request = ControlRequest(
        id=uuid.uuid4().hex, target=target, keep_data=keep_data, created_at=time.time()
    )
    _write_atomically(folder / "requests" / f"{request.id}.json", request.model_dump_json())
    answer = folder / "responses" / f"{request.id}.json"
    if not wait_until(answer.exists, timeout=timeout, interval=0.05):
        with contextlib.suppress(FileNotFoundError):
            (folder / "requests" / f"{request.id}.json").unlink()
        raise StackError(
            f"the supervisor of {state_dir} did not start {target} within {timeout:g} s "
            f"(is it running, and does it watch {folder}?)"
        )
    response = ControlResponse.model_validate_json(answer.read_text())
    answer.unlink(missing_ok=True)
    if not response.ok:
        raise StackError(f"the supervisor could not start {target}: {response.error}")
    return response


# -- supervisor side -------------------------------------------------------------------------


class StackControl:
    """Answers control requests for one :class:`Stack`; call :meth:`handle_pending` often.

    Call it from the thread that started the stack: processes started here get the
    parent-death signal of the calling thread.
    """

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.folder = control_dir(stack.state_dir)
        (self.folder / "requests").mkdir(parents=True, exist_ok=True)
        (self.folder / "responses").mkdir(parents=True, exist_ok=True)

    def handle_pending(self) -> int:
        """Answer every waiting request; returns how many were handled."""
        handled = 0
        for path in sorted((self.folder / "requests").glob("*.json")):
            try:
                request = ControlRequest.model_validate_json(path.read_text())
            except (OSError, ValidationError, ValueError):
                path.unlink(missing_ok=True)
                continue
            response = self._handle(request)
            _write_atomically(
                self.folder / "responses" / f"{request.id}.json", response.model_dump_json()
            )
            path.unlink(missing_ok=True)
            handled += 1
        return handled

    def _handle(self, request: ControlRequest) -> ControlResponse:
        try:
            process = self._start(request.target, keep_data=request.keep_data)
        except (StackError, OSError) as error:
            return ControlResponse(id=request.id, ok=False, error=str(error))
        if self.stack.state is not None:
            self.stack.save(self.stack.state.status)
        return ControlResponse(
            id=request.id, ok=True, pid=process.pid, create_time=process.ref.create_time
        )

    def _start(self, target: str, *, keep_data: bool) -> ManagedProcess:
        stack = self.stack
        if target == "postgres" and stack.postgres is not None:
            server = stack.postgres
            old = _require(server.process, target)
            if old.poll() is None:
                return old
            server.process = _respawn(old, user=server.run_as, death=signal.SIGQUIT)
            _wait_ready(server.process, server.ready, target)
            return server.process
        if target == "redis" and stack.redis is not None:
            redis = stack.redis
            old = _require(redis.process, target)
            if old.poll() is None:
                return old
            if not keep_data:
                (redis.folder / "dump.rdb").unlink(missing_ok=True)
            redis.process = _respawn(old, death=signal.SIGKILL)
            _wait_ready(redis.process, lambda: ping(redis.port), target)
            return redis.process
        if target == "haproxy" and stack.balancer is not None:
            return _require(stack.balancer.restart().process, target)
        for replica in stack.replicas:
            if replica.process.name == target:
                if replica.process.poll() is None:
                    return replica.process
                env = stack.service_env(replica.spec, replica.index, replica.port)
                replica.process = _respawn(replica.process, env=env)
                _wait_ready(replica.process, partial(_healthy, replica.url), target)
                return replica.process
        raise StackError(f"no process {target!r} in this stack")


def _require(process: ManagedProcess | None, target: str) -> ManagedProcess:
    if process is None:
        raise StackError(f"{target} was never started")
    return process


def _respawn(
    old: ManagedProcess,
    *,
    env: dict[str, str] | None = None,
    user: str | None = None,
    death: int = signal.SIGTERM,
) -> ManagedProcess:
    """The same command line again, with the same log file and stop signal."""
    args = old.popen.args
    assert isinstance(args, Sequence), "spawn() always passes a list"
    argv = [str(arg) for arg in args]
    return spawn(
        old.name,
        argv,
        old.log_file,
        env=env,
        user=user,
        stop_signal=old.stop_signal,
        death_signal=death,
    )


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_ready(process: ManagedProcess, ready: Callable[[], bool], target: str) -> None:
    if not wait_until(
        ready, timeout=READY_TIMEOUT_S, interval=0.1, alive=lambda: process.poll() is None
    ):
        raise StackError(f"{target} did not come back\n{process.log_tail()}")
