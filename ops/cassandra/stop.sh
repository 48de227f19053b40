#!/usr/bin/env bash
# Stop a node started by ops/cassandra/start.sh and delete its directory.
#
# Usage: ops/cassandra/stop.sh [--dir DIR] [--keep]
#   --dir DIR  the node dir (default: the one start.sh recorded for CASSANDRA_PORT)
#   --keep     stop the node but keep its dir (data, logs), e.g. to restart it
#              later with `start.sh --dir DIR`
#
# Env: CASSANDRA_HOME, CASSANDRA_PORT (as for start.sh),
#      CASSANDRA_STOP_TIMEOUT seconds to wait after SIGTERM before SIGKILL (default: 60)
set -euo pipefail

home="${CASSANDRA_HOME:-$HOME/.cache/tern-cassandra}"
port="${CASSANDRA_PORT:-9042}"
timeout="${CASSANDRA_STOP_TIMEOUT:-60}"
pointer="$home/run/node-$port.dir"

# SIGTERM runs Cassandra's shutdown hook (drains, flushes the commit log).
is_ours() {
  [[ -r "/proc/$1/cmdline" ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q "org.apache.cassandra.service.CassandraDaemon" \
    && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF "$2/conf/cassandra.yaml"
}

# shellcheck source=ops/lib/stop-server.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/stop-server.sh"
stop_recorded_server "${BASH_SOURCE[0]}" cassandra "$pointer" .tern-cassandra cassandra.pid "$timeout" "$@"
