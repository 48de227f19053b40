# shellcheck shell=bash
# Shared by ops/*/stop.sh (sourced, not run): the --dir/--keep arguments, the directory start.sh
# recorded, a TERM-then-KILL stop of a pid checked to still be the server (pids get reused), and
# the clean-up. The caller defines `is_ours PID DIR`, true while PID is its server for DIR.

# stop_recorded_server SCRIPT NAME POINTER MARKER PIDFILE TIMEOUT [--dir DIR] [--keep]
stop_recorded_server() {
  local script="$1" name="$2" pointer="$3" marker="$4" pidfile="$5" timeout="$6"
  shift 6
  local dir="" keep=0
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --dir) dir="${2:?--dir needs a path}"; shift 2 ;;
      --dir=*) dir="${1#--dir=}"; shift ;;
      --keep) keep=1; shift ;;
      -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$script"; return 0 ;;
      *) echo "unknown argument: $1" >&2; return 2 ;;
    esac
  done

  if [[ -z "$dir" ]]; then
    if [[ ! -f "$pointer" ]]; then
      echo "no $name recorded (nothing to stop)"
      return 0
    fi
    dir="$(cat "$pointer")"
  fi
  if [[ ! -d "$dir" ]]; then
    echo "$name dir $dir is gone; nothing to stop"
    [[ -f "$pointer" && "$(cat "$pointer")" == "$dir" ]] && rm -f "$pointer"
    return 0
  fi
  if [[ ! -f "$dir/$marker" ]]; then
    echo "$dir was not created by the $name start script; refusing to touch it" >&2
    return 1
  fi

  local pid deadline
  pid="$(cat "$dir/$pidfile" 2>/dev/null || true)"
  if [[ -n "$pid" ]] && is_ours "$pid" "$dir"; then
    kill -TERM "$pid"
    deadline=$((SECONDS + timeout))
    while is_ours "$pid" "$dir" && (( SECONDS < deadline )); do sleep 0.2; done
    if is_ours "$pid" "$dir"; then
      echo "$name $pid still running after $timeout s; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      deadline=$((SECONDS + 10))
      while is_ours "$pid" "$dir" && (( SECONDS < deadline )); do sleep 0.2; done
      if is_ours "$pid" "$dir"; then echo "$name $pid would not die" >&2; return 1; fi
    fi
    echo "$name $pid stopped"
  else
    echo "$name was not running"
  fi

  rm -f "$dir/$pidfile"
  [[ -f "$pointer" && "$(cat "$pointer")" == "$dir" ]] && rm -f "$pointer"
  if (( keep )); then
    echo "kept $dir"
  else
    rm -rf -- "$dir"
    echo "removed $dir"
  fi
}
