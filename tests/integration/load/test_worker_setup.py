"""A worker never misses the master's setup, even read before Locust's constructor returns.

A fake master (Locust's own rpc server on 127.0.0.1) answers the worker's ``client_ready``
with the setup *before* its ack: the worker necessarily reads the setup while it still waits
for the ack inside ``WorkerRunner.__init__`` — what a starved worker did when the setup
followed the ack in one turn ("Unknown message type received: spikekit_setup", and the
worker never played). Run in a subprocess: Locust monkey-patches the process it runs in.
"""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
from gevent import monkey; monkey.patch_all()
import json
import gevent
from locust.rpc import rpc
from locust.env import Environment
from locust.rpc import Message
from locust.runners import WorkerRunner
from spikekit.load.worker import SetupFirstRunner
from spikekit.ports import free_port

def fake_master(server):
    node, _ = server.recv_from_client()  # client_ready
    server.send_to_client(Message("spikekit_setup", {"n": 1}, node))
    server.send_to_client(Message("ack", {"index": 0}, node))

def attempt(first):
    port = free_port()
    server = rpc.Server("127.0.0.1", port)
    master = gevent.spawn(fake_master, server)
    got = []
    handler = lambda runner, environment, msg, **_: got.append((runner is not None, msg.data))
    if first:
        runner = SetupFirstRunner(Environment(), "127.0.0.1", port, {"spikekit_setup": handler})
    else:  # registered once Locust's constructor returned
        runner = WorkerRunner(Environment(), "127.0.0.1", port)
        runner.register_message("spikekit_setup", lambda **kw: handler(runner, **kw))
    master.join(timeout=5)
    gevent.sleep(0.2)
    runner.greenlet.kill(block=True)
    runner.client.close()
    server.close()
    return got

print(json.dumps({"after": attempt(False), "first": attempt(True)}))
"""


def test_the_setup_handler_is_registered_before_the_worker_connects() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["after"] == []  # the control: Locust dropped it as an unknown message
    assert result["first"] == [[True, {"n": 1}]]  # ours handled it, with the runner
