#!/usr/bin/env bash
# Start a throwaway Redis server on loopback for local runs and tests, with the
# append-only file on (fsync every second), in its own temp dir.
# Installs Debian's redis-server first if it is missing.
#
# Usage: ops/redis/start.sh [--dir DIR]
#   --dir DIR  keep config, AOF and log in DIR (created if missing; an existing
#              dir is reused, AOF included). Default: a new mktemp dir
#              /tmp/tern-redis-XXXXXX.
#
# Env:
#   REDIS_PORT           port on 127.0.0.1 (default: 6379)
#   REDIS_START_TIMEOUT  seconds to wait for PONG (default: 30)
#
# ops/redis/stop.sh stops it and deletes its dir.
set -euo pipefail

port="${REDIS_PORT:-6379}"
timeout="${REDIS_START_TIMEOUT:-30}"
dir=""

while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) dir="${2:?--dir needs a path}"; shift 2 ;;
    --dir=*) dir="${1#--dir=}"; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  sudo=()
  if [[ $EUID -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "redis-server is missing and installing it needs root" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "installing redis-server with apt-get ..."
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq redis-server >/dev/null
fi

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The pointer file lets stop.sh find this server again by port.
pointer="/tmp/tern-redis.$port.dir"
if port_open "$port"; then
  echo "something already listens on 127.0.0.1:$port" >&2
  if [[ -f "$pointer" ]]; then
    echo "(a server started from $(cat "$pointer") may still run: ops/redis/stop.sh)" >&2
  else
    # On a machine with systemd, installing the package also starts the
    # system-wide service on 6379.
    echo "(a system redis service? stop it, or pick another REDIS_PORT)" >&2
  fi
  exit 1
fi

if [[ -z "$dir" ]]; then
  dir="$(mktemp -d /tmp/tern-redis-XXXXXX)"
else
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
fi
# Marker: stop.sh only deletes directories that carry it.
touch "$dir/.tern-redis"
log="$dir/redis.log"

cat >"$dir/redis.conf" <<EOF
bind 127.0.0.1
port $port
protected-mode yes
daemonize yes
pidfile $dir/redis.pid
logfile $log
dir $dir
# Durability as in production: AOF, fsync once per second.
appendonly yes
appendfsync everysec
# The AOF is the only persistence; no background RDB snapshots.
save ""
EOF

started=$EPOCHREALTIME
elapsed() { awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }

fail() {
  echo "redis did not become ready: $1" >&2
  echo "--- last lines of $log ---" >&2
  tail -n 30 "$log" >&2 2>/dev/null || true
  echo "--- (dir kept: $dir; ops/redis/stop.sh removes it) ---" >&2
  exit 1
}

echo "$dir" >"$pointer"
# With daemonize the command returns once the server has forked; a config
# error makes it exit non-zero right here.
redis-server "$dir/redis.conf" >>"$log" 2>&1 || fail "redis-server exited with status $?"

deadline=$((SECONDS + timeout))
until [[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" == PONG ]]; do
  if (( SECONDS >= deadline )); then
    pid="$(cat "$dir/redis.pid" 2>/dev/null || true)"
    if [[ -n "$pid" ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
    fail "no PONG from 127.0.0.1:$port within $timeout s"
  fi
  sleep 0.1
done

echo "redis ready on 127.0.0.1:$port in $(elapsed) s (pid $(cat "$dir/redis.pid"), dir $dir)"
