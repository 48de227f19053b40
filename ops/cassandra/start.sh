#!/usr/bin/env bash
# Start a single throwaway Apache Cassandra node on loopback for local runs and
# tests. The node is tuned to boot fast and stay small; it is not a production
# configuration.
#
# Usage: ops/cassandra/start.sh [--dir DIR]
#   --dir DIR   keep config, data and logs in DIR (created if missing; an
#               existing node dir is reused, data included). Default: a new
#               mktemp dir /tmp/tern-cassandra-XXXXXX.
#
# Env:
#   CASSANDRA_HOME           jar cache (default: $HOME/.cache/tern-cassandra)
#   CASSANDRA_PORT           CQL port (default: 9042)
#   CASSANDRA_STORAGE_PORT   internode port, bound on 127.0.0.1 (default: 7000)
#   CASSANDRA_HEAP           -Xms/-Xmx value (default: 512m)
#   CASSANDRA_START_TIMEOUT  seconds to wait for CQL (default: 180)
#   CASSANDRA_COMMITLOG_SYNC batch (default: ack after fsync), group (fsync every 10 ms) or periodic (ack first, fsync every 10 s)
#   CASSANDRA_MLOCK=1        let Cassandra mlockall() its memory (off by default)
#   JAVA                     java binary (default: $JAVA_HOME/bin/java or java)
#
# On success prints the time until CQL was ready; ops/cassandra/stop.sh stops
# the node and deletes its dir.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home="${CASSANDRA_HOME:-$HOME/.cache/tern-cassandra}"
port="${CASSANDRA_PORT:-9042}"
storage_port="${CASSANDRA_STORAGE_PORT:-7000}"
heap="${CASSANDRA_HEAP:-512m}"
timeout="${CASSANDRA_START_TIMEOUT:-180}"
case "${CASSANDRA_COMMITLOG_SYNC:-batch}" in
  group) commitlog_settings=$'commitlog_sync: group\ncommitlog_sync_group_window: 10ms' ;;
  batch) commitlog_settings=$'commitlog_sync: batch' ;;
  periodic) commitlog_settings=$'commitlog_sync: periodic\ncommitlog_sync_period: 10000ms' ;;
  *) echo "CASSANDRA_COMMITLOG_SYNC must be group, batch or periodic" >&2; exit 2 ;;
esac
dir=""

while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) dir="${2:?--dir needs a path}"; shift 2 ;;
    --dir=*) dir="${1#--dir=}"; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

if [[ -n "${JAVA:-}" ]]; then java="$JAVA"
elif [[ -n "${JAVA_HOME:-}" ]]; then java="$JAVA_HOME/bin/java"
else java="$(command -v java || true)"; fi
[[ -x "$java" ]] || { echo "java not found (set JAVA or JAVA_HOME)" >&2; exit 1; }
# Cassandra 5.0 runs on Java 11 or 17; the flags below are the Java 17 set.
java_major="$("$java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)"
[[ "$java_major" == 17 ]] || { echo "need Java 17, found: $java_major ($java)" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# One node per CQL port: the pointer file lets stop.sh find the node again.
pointer="$home/run/node-$port.dir"
if port_open "$port"; then
  echo "something already listens on 127.0.0.1:$port" >&2
  [[ -f "$pointer" ]] && echo "(a node started from $(cat "$pointer") may still run: ops/cassandra/stop.sh)" >&2
  exit 1
fi
if port_open "$storage_port"; then
  echo "something already listens on 127.0.0.1:$storage_port (set CASSANDRA_STORAGE_PORT)" >&2
  exit 1
fi

"$here/fetch.sh" >/dev/null
lib="$home/lib"
jamms=("$lib"/jamm-*.jar)
jamm="${jamms[0]}"

if [[ -z "$dir" ]]; then
  dir="$(mktemp -d /tmp/tern-cassandra-XXXXXX)"
else
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
fi
# Marker: stop.sh only deletes directories that carry it.
touch "$dir/.tern-cassandra"
mkdir -p "$dir"/{conf,data,commitlog,hints,saved_caches,cdc_raw,triggers,logs}
log="$dir/logs/system.log"

# Every key here exists in 5.0's Config; an unknown key stops the node at boot.
cat >"$dir/conf/cassandra.yaml" <<EOF
cluster_name: tern-test
# One token: nothing to balance on a single node, and the fastest token setup.
num_tokens: 1
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "127.0.0.1:$storage_port"
listen_address: 127.0.0.1
rpc_address: 127.0.0.1
storage_port: $storage_port
native_transport_port: $port
start_native_transport: true

data_file_directories:
  - $dir/data
commitlog_directory: $dir/commitlog
hints_directory: $dir/hints
saved_caches_directory: $dir/saved_caches
cdc_raw_directory: $dir/cdc_raw

# A write is acknowledged only once the commit log holding it is fsynced, so nothing
# acknowledged is lost to kill -9: batch mode fsyncs as soon as it can, covering every write
# that arrived meanwhile (a default node's periodic mode acknowledges first and fsyncs every
# 10 s). Measured with 'npm run bench -- storage', history writes/s with 1 / 64 in flight:
# periodic 967 / 10,859, batch 476 / 2,962, group with a 10 ms window 96 / 1,173.
# CASSANDRA_COMMITLOG_SYNC=periodic or group selects the others, for comparison.
${commitlog_settings}
# Smaller segments: less disk preallocated per segment on a test node.
commitlog_segment_size: 8MiB
commitlog_total_space: 256MiB

# Throwaway data: no snapshots on DROP/TRUNCATE or before compaction.
auto_snapshot: false
snapshot_before_compaction: false
# A single node has nobody to hand hints to.
hinted_handoff_enabled: false

# Small footprint: one compactor and one flusher, tiny caches.
concurrent_compactors: 1
memtable_flush_writers: 1
concurrent_reads: 8
concurrent_writes: 16
concurrent_counter_writes: 8
key_cache_size: 8MiB
row_cache_size: 0MiB
counter_cache_size: 0MiB
file_cache_size: 32MiB
networking_cache_size: 16MiB
memtable_heap_space: 64MiB
memtable_offheap_space: 64MiB
index_summary_capacity: 8MiB
prepared_statements_cache_size: 8MiB
EOF

cat >"$dir/conf/logback.xml" <<'EOF'
<configuration scan="false">
  <!-- stdout is redirected to logs/system.log by start.sh -->
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="STDOUT"/></root>
</configuration>
EOF

jvm_opts=(
  -Xms"$heap" -Xmx"$heap"
  -Xss256k
  -XX:+UseG1GC
  -XX:+ParallelRefProcEnabled
  -XX:MaxTenuringThreshold=1
  -XX:MaxGCPauseMillis=300
  # No hsperfdata file in /tmp; die on OOM instead of limping on.
  -XX:+PerfDisableSharedMem
  -XX:+ExitOnOutOfMemoryError
  -Djava.net.preferIPv4Stack=true
  # jamm measures object sizes for memtable accounting; the server needs it.
  -javaagent:"$jamm"

  # --- From Cassandra's conf/jvm17-server.options (JPMS + Netty) ---
  -Djdk.attach.allowAttachSelf=true
  --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
  --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
  --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
  --add-exports java.sql/java.sql=ALL-UNNAMED
  --add-exports java.base/java.lang.ref=ALL-UNNAMED
  --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
  --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
  --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
  --add-opens java.base/java.lang.module=ALL-UNNAMED
  --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
  --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
  --add-opens java.base/jdk.internal.math=ALL-UNNAMED
  --add-opens java.base/jdk.internal.module=ALL-UNNAMED
  --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
  --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
  --add-opens java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens java.base/java.io=ALL-UNNAMED
  --add-opens java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
  --add-opens java.base/java.lang=ALL-UNNAMED
  --add-opens java.base/java.util=ALL-UNNAMED
  -Dio.netty.tryReflectionSetAccessible=true
  -Dio.netty.allocator.useCacheForAllThreads=true
  -Dio.netty.allocator.maxOrder=11

  # --- Cassandra ---
  -Dcassandra.config="file://$dir/conf/cassandra.yaml"
  -Dlogback.configurationFile="$dir/conf/logback.xml"
  -Dcassandra.storagedir="$dir"
  -Dcassandra.logdir="$dir/logs"
  -Dcassandra.triggers_dir="$dir/triggers"
  # Keeps stdout open (the daemon closes it otherwise) so logs reach system.log.
  -Dcassandra-foreground=yes
  # Alone in its ring: no need to wait for gossip to settle.
  -Dcassandra.skip_wait_for_gossip_to_settle=0
)

# Cassandra calls mlockall() at boot. As root (CAP_IPC_LOCK ignores the memlock
# limit) that succeeds and pins every mapped page: about 0.9 GB resident for a
# 512 MB heap. A test node gains nothing from it, so by default the JVM runs
# without CAP_IPC_LOCK under a small memlock limit; the call then fails and
# Cassandra logs a warning and carries on. CASSANDRA_MLOCK=1 keeps the lock.
launcher=()
if [[ "${CASSANDRA_MLOCK:-0}" != 1 && $EUID -eq 0 ]] && command -v setpriv >/dev/null; then
  launcher=(setpriv --bounding-set=-ipc_lock)
fi

started=$EPOCHREALTIME
# nohup + redirects: the node outlives this script and holds none of its fds,
# so callers that capture our output don't hang. Every step execs, so $! is
# the JVM's pid.
(
  if [[ "${CASSANDRA_MLOCK:-0}" != 1 ]]; then ulimit -S -l 64; fi
  exec nohup "${launcher[@]}" "$java" "${jvm_opts[@]}" -cp "$lib/*" \
    org.apache.cassandra.service.CassandraDaemon
) </dev/null >"$log" 2>&1 &
pid=$!
echo "$pid" >"$dir/cassandra.pid"
mkdir -p "$home/run"
echo "$dir" >"$pointer"

elapsed() { awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

fail() {
  echo "cassandra did not become ready: $1" >&2
  echo "--- last lines of $log ---" >&2
  tail -n 40 "$log" >&2 || true
  echo "--- (node dir kept: $dir; ops/cassandra/stop.sh removes it) ---" >&2
  exit 1
}

deadline=$((SECONDS + timeout))
until grep -q "Starting listening for CQL clients" "$log" 2>/dev/null && port_open "$port"; do
  if ! kill -0 "$pid" 2>/dev/null; then
    fail "process $pid exited after $(elapsed) s"
  fi
  if (( SECONDS >= deadline )); then
    kill -KILL "$pid" 2>/dev/null || true
    fail "no CQL on 127.0.0.1:$port within $timeout s (process killed)"
  fi
  sleep 0.5
done

echo "cassandra ready on 127.0.0.1:$port in $(elapsed) s (pid $pid, dir $dir)"
