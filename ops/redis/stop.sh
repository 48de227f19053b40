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

# SIGTERM: redis fsyncs the AOF and exits cleanly.
is_ours() { [[ -r "/proc/$1/cmdline" ]] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q "redis-server"; }

# shellcheck source=ops/lib/stop-server.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/stop-server.sh"
stop_recorded_server "${BASH_SOURCE[0]}" redis "$pointer" .tern-redis redis.pid "$timeout" "$@"
