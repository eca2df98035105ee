"""Raw Locust in one process, for a fixed window: ``python -m bench.locust_child``.

Runs ``--users`` users of one kind without waiting between requests (``GET /`` on the
target), lets them warm up, then counts the requests Locust's own statistics saw during
``--seconds`` and prints one JSON line: ``{"requests": N, "failures": F, "seconds": S}``.
This is Locust as a library (``Environment`` + local runner), what the ``locust`` command
runs minus its web UI and console printing.

Kinds: ``fast`` (``FastHttpUser``, a connection per user), ``http`` (``HttpUser``,
requests), ``pooled`` (a ``User`` sending through the personas' own client over the one
pool of spikekit's ``PlayersEnvironment``: the load engine's client and connection model
without the personas' journeys).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import gevent
from locust import FastHttpUser, HttpUser, User, constant, task
from locust.env import Environment

from spikekit.load.client import PlayerClient
from spikekit.load.http import PoolLimits
from spikekit.load.personas import PlayersEnvironment, players_environment


class Fast(FastHttpUser):
    wait_time = constant(0)

    @task
    def get(self) -> None:
        self.client.get("/")


class Http(HttpUser):
    wait_time = constant(0)

    @task
    def get(self) -> None:
        self.client.get("/")


class Pooled(User):
    wait_time = constant(0)

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        assert self.host is not None
        events = environment.events
        pool = players_environment(environment).pools.for_url(self.host)
        self.http = PlayerClient(pool, self.host, events.request)

    @task
    def get(self) -> None:
        self.http.request("GET", "/", "/")


KINDS: dict[str, type[User]] = {
    "fast": Fast,
    "http": Http,
    "pooled": Pooled,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", required=True)
    parser.add_argument("--kind", choices=sorted(KINDS), required=True)
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=512, help="pooled: the pool size")
    args = parser.parse_args(argv)
    user_classes = [KINDS[args.kind]]
    if args.kind == "pooled":
        limits = PoolLimits(args.connections, network_timeout_s=30.0, connect_timeout_s=10.0)
        env: Environment = PlayersEnvironment(limits, user_classes=user_classes, host=args.host)
    else:
        env = Environment(user_classes=user_classes, host=args.host)
    runner = env.create_local_runner()
    runner.start(args.users, spawn_rate=max(args.users, 1) * 10)
    gevent.sleep(args.warmup)
    requests0, failures0 = env.stats.total.num_requests, env.stats.total.num_failures
    began = time.perf_counter()
    gevent.sleep(args.seconds)
    requests1, failures1 = env.stats.total.num_requests, env.stats.total.num_failures
    seconds = time.perf_counter() - began
    runner.quit()
    result = {
        "requests": requests1 - requests0,
        "failures": failures1 - failures0,
        "seconds": seconds,
    }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
