#!/usr/bin/env bash
# Download the Cassandra server jar and all of its runtime dependencies from
# Maven Central into "$CASSANDRA_HOME/lib". Safe to run repeatedly: when the
# jars for the requested version are already there it does nothing.
#
# Env:
#   CASSANDRA_HOME     cache folder (default: $HOME/.cache/tern-cassandra)
#   CASSANDRA_VERSION  cassandra-all version (default: the one in pom.xml)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
home="${CASSANDRA_HOME:-$HOME/.cache/tern-cassandra}"
lib="$home/lib"
version="${CASSANDRA_VERSION:-$(sed -n 's:.*<cassandra.version>\(.*\)</cassandra.version>.*:\1:p' "$here/pom.xml")}"

# The marker is written only after a complete copy, so an interrupted download
# is retried from scratch instead of leaving a half-filled lib dir behind.
marker="$lib/.complete-$version"
if [[ -f "$marker" && -f "$lib/cassandra-all-$version.jar" ]]; then
  echo "cassandra $version already fetched in $lib"
  exit 0
fi

command -v mvn >/dev/null || { echo "mvn not found on PATH" >&2; exit 1; }

echo "fetching cassandra-all $version and dependencies into $lib ..."
start=$(date +%s)
rm -rf "$lib"
mkdir -p "$lib"
# Test-scoped and provided artifacts are not needed to run the server.
# Maven's output is kept for the failure case only (its quiet mode still
# prints stray terminal escape codes).
mvn_log="$(mktemp)"
trap 'rm -f "$mvn_log"' EXIT
if ! mvn -q -B -f "$here/pom.xml" \
    -Dcassandra.version="$version" \
    dependency:copy-dependencies \
    -DincludeScope=runtime \
    -DoutputDirectory="$lib" >"$mvn_log" 2>&1; then
  cat "$mvn_log" >&2
  echo "maven could not fetch cassandra-all $version" >&2
  exit 1
fi

[[ -f "$lib/cassandra-all-$version.jar" ]] || { echo "cassandra-all-$version.jar missing after fetch" >&2; exit 1; }
ls "$lib"/jamm-*.jar >/dev/null 2>&1 || { echo "jamm jar missing after fetch" >&2; exit 1; }
touch "$marker"

jars=("$lib"/*.jar)
echo "fetched ${#jars[@]} jars ($(du -sh "$lib" | cut -f1)) in $(( $(date +%s) - start )) s"
