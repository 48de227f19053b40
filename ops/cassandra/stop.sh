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
dir=""
keep=0

while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) dir="${2:?--dir needs a path}"; shift 2 ;;
    --dir=*) dir="${1#--dir=}"; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

if [[ -z "$dir" ]]; then
  if [[ ! -f "$pointer" ]]; then
    echo "no cassandra node recorded for port $port (nothing to stop)"
    exit 0
  fi
  dir="$(cat "$pointer")"
fi

if [[ ! -d "$dir" ]]; then
  echo "node dir $dir is gone; nothing to stop"
  [[ -f "$pointer" && "$(cat "$pointer")" == "$dir" ]] && rm -f "$pointer"
  exit 0
fi
if [[ ! -f "$dir/.tern-cassandra" ]]; then
  echo "$dir was not created by ops/cassandra/start.sh; refusing to touch it" >&2
  exit 1
fi

# Only signal the pid if it still is our Cassandra: pids get reused.
is_ours() {
  [[ -r "/proc/$1/cmdline" ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q "org.apache.cassandra.service.CassandraDaemon" \
    && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF "$dir/conf/cassandra.yaml"
}

pid="$(cat "$dir/cassandra.pid" 2>/dev/null || true)"
if [[ -n "$pid" ]] && is_ours "$pid"; then
  # SIGTERM runs Cassandra's shutdown hook (drains, flushes the commit log).
  kill -TERM "$pid"
  deadline=$((SECONDS + timeout))
  while is_ours "$pid" && (( SECONDS < deadline )); do sleep 0.2; done
  if is_ours "$pid"; then
    echo "cassandra $pid still running after $timeout s; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 10))
    while is_ours "$pid" && (( SECONDS < deadline )); do sleep 0.2; done
    if is_ours "$pid"; then echo "cassandra $pid would not die" >&2; exit 1; fi
  fi
  echo "cassandra $pid stopped"
else
  echo "cassandra was not running"
fi

rm -f "$dir/cassandra.pid"
[[ -f "$pointer" && "$(cat "$pointer")" == "$dir" ]] && rm -f "$pointer"
if (( keep )); then
  echo "kept $dir"
else
  rm -rf -- "$dir"
  echo "removed $dir"
fi
