#!/usr/bin/env bash
# Stop a server started by ops/redis/start.sh and delete its directory.
#
# Usage: ops/redis/stop.sh [--dir DIR] [--keep]
#   --dir DIR  the server dir (default: the one start.sh recorded for REDIS_PORT)
#   --keep     stop the server but keep its dir (AOF, log), e.g. to restart it
#              later with `start.sh --dir DIR`
#
# Env: REDIS_PORT (as for start.sh),
#      REDIS_STOP_TIMEOUT seconds to wait after SIGTERM before SIGKILL (default: 30)
set -euo pipefail

port="${REDIS_PORT:-6379}"
timeout="${REDIS_STOP_TIMEOUT:-30}"
pointer="/tmp/tern-redis.$port.dir"
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
    echo "no redis server recorded for port $port (nothing to stop)"
    exit 0
  fi
  dir="$(cat "$pointer")"
fi

if [[ ! -d "$dir" ]]; then
  echo "redis dir $dir is gone; nothing to stop"
  [[ -f "$pointer" && "$(cat "$pointer")" == "$dir" ]] && rm -f "$pointer"
  exit 0
fi
if [[ ! -f "$dir/.tern-redis" ]]; then
  echo "$dir was not created by ops/redis/start.sh; refusing to touch it" >&2
  exit 1
fi

# Only signal the pid if it still is a redis-server: pids get reused.
is_ours() { [[ -r "/proc/$1/cmdline" ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q "redis-server"; }

pid="$(cat "$dir/redis.pid" 2>/dev/null || true)"
if [[ -n "$pid" ]] && is_ours "$pid"; then
  # SIGTERM: redis fsyncs the AOF and exits cleanly.
  kill -TERM "$pid"
  deadline=$((SECONDS + timeout))
  while is_ours "$pid" && (( SECONDS < deadline )); do sleep 0.1; done
  if is_ours "$pid"; then
    echo "redis $pid still running after $timeout s; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 10))
    while is_ours "$pid" && (( SECONDS < deadline )); do sleep 0.1; done
    if is_ours "$pid"; then echo "redis $pid would not die" >&2; exit 1; fi
  fi
  echo "redis $pid stopped"
else
  echo "redis was not running"
fi

rm -f "$dir/redis.pid"
[[ -f "$pointer" && "$(cat "$pointer")" == "$dir" ]] && rm -f "$pointer"
if (( keep )); then
  echo "kept $dir"
else
  rm -rf -- "$dir"
  echo "removed $dir"
fi
