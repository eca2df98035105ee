"""The commented template written by ``spikekit scenarios new PATH``; it validates as is."""

from __future__ import annotations

import re

_TEMPLATE = """\
# A spikekit scenario: a load shape, players, SLOs and a fault schedule.
# Check it with:  spikekit scenarios validate {path}
# Durations: 30s, 2m, 1m30s, 1h, 500ms, or a plain number of seconds.
# Reference: docs/scenarios.md (every field, the fault catalog).

name: {name}
description: >-
  What this scenario shows, in one or two sentences (it appears in reports).

# The bundled reference platform (profile: resilient | fragile), or {{url: http://host:port}}.
target:
  profile: resilient
  replicas: {{gateway: 1}}          # processes per service; unnamed services run one

population:
  accounts: 200000                # player accounts seeded before the run
  balance_cents: 50000            # starting balance of each account, integer cents

# Closed model: concurrent players. Each stage moves from the previous level to its
# `players` over `duration`, along `ramp` (linear | exponential | step).
# Open model instead: `model: open`, stages of `arrivals_per_s` (new sessions per second)
# and `session_length` — people arrive whether or not the site is slow.
load:
  model: closed
  start_players: 1000
  stages:
    - {{duration: 1m, players: 1000}}                       # warm-up hold
    - {{duration: 2m, players: 10000, ramp: exponential}}   # the spike
    - {{duration: 5m, players: 10000}}                      # hold the peak
    - {{duration: 2m, players: 2000, ramp: linear}}         # decay

# Relative weights of the player journeys (only the ratios matter).
personas:
  slot_player: 60
  high_roller: 3
  depositor: 12
  lobby_browser: 20
  new_registrant: 5

# Who plays: {{}} = the personas above; or {{locustfile: mine.py}} (your Locust users, run
# with your rights), or {{journeys: [...]}} declared here (examples/own-platform/).
players: {{}}
games:
  family: null                    # e.g. jackpot: favour one game family
  share: 0.8                      # share of launches that go to it

# Between a player's actions, drawn in [min, max]: a pause after each answer, or with
# `pacing: true` the time from one action's start to the next (a rhythm, e.g. spins): a
# late action's latency then counts from when it was due (coordinated omission).
think_time: {{min: 1s, max: 5s, pacing: false}}

impatience:
  retry_on_failure: 0.6           # probability of retrying a failed request
  refresh_on_slow: 0.3            # probability of re-sending a slow one
  slow_threshold: 3s
  max_retries: 3

# What "survived" means. metric: latency_p95 | latency_p99 (ms) | error_rate (0..1) |
# login_success_rate (a floor, 0..1) | wallet_latency_p95 (ms) | stream_lag (messages) |
# deposit_completion_p95, withdrawal_completion_p95 (ms, accepted -> credited) |
# launch_success_rate (a floor) | round_rollback_rate (0..1) | unsettled_rounds (at the end).
# endpoint: "*" or "METHOD /path"; window_s: rolling window in seconds. On a platform of
# your own, series: {{metric: NAME, labels: {{...}}}} reads a business SLI from your
# telemetry (docs/scenarios.md, "series").
slos:
  - {{name: login p95, metric: latency_p95, endpoint: POST /api/login, threshold: 800}}
  - name: rounds p95
    metric: latency_p95
    endpoint: "POST /api/games/{{game}}/rounds"   # {{game}}: one series for every game
    threshold: 500
  - {{name: error rate, metric: error_rate, threshold: 0.01, window_s: 10}}
  - {{name: wallet p95, metric: wallet_latency_p95, threshold: 100}}
  - {{name: deposits p95, metric: deposit_completion_p95, threshold: 10000}}
  - {{name: unsettled rounds, metric: unsettled_rounds, threshold: 0}}

recovery:
  stable_s: 10                    # back within SLO this long = recovered
  stall_s: 10                     # no answer this long, players waiting = a breach

# Faults at offsets from the start; `duration` omitted = until the run ends.
# `spikekit chaos list` prints every type and its parameters.
faults:
  - type: provider.errors
    at: 4m
    duration: 1m
    provider: busiest             # or a provider id
    rate: 0.5
    status_codes: [502, 503]
    note: the busiest provider fails half its requests at the peak
    # steady_state: none          # this fault on time, whatever the default below

# Every fault without a steady_state of its own goes on only while the platform is within
# these SLOs (names above), waiting up to `within`, else it is skipped ("not injected").
steady_state:
  slos: [error rate]
  within: 30s

stop_conditions:
  - {{metric: error_rate, threshold: 0.5, sustained: 60s}}

# A platform of your own only (target: {{url: ...}}): its /metrics and PromQL against its
# Prometheus, each second, e.g. {{scrape: [{{service: api, url: http://127.0.0.1:8080}}],
# prometheus: {{url: http://127.0.0.1:9090, queries: {{NAME: PROMQL}}}}}}; then SLOs and stop
# conditions of metric: query judge any series (docs/telemetry.md).
telemetry: null

scale: 1.0                        # multiplies players and arrival rates (--scale)
duration_scale: 1.0               # multiplies stage durations and fault times
seed: 0                           # random seed of the players' choices
"""


def scenario_name_for(stem: str) -> str:
    """A valid scenario name from a file name: lower case, dashes."""
    name = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    return name or "my-scenario"


def render_template(path: str, stem: str) -> str:
    """The template for a file at ``path`` (shown in its header) named after ``stem``."""
    return _TEMPLATE.format(path=path, name=scenario_name_for(stem))
