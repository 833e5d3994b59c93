# Shared helpers for the service scripts. Sourced, not run.
#
# Every service keeps its files under $PASSERELLE_LOCAL (default .local/ in
# the project root, ignored by git): <service>/ holds the binaries or jars,
# data, logs and a pid file. Downloads are cached in the usual per-user caches
# (~/.m2, Go's module cache, npm's cache) so a second provision is quick, but
# nothing here relies on them being warm.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOCAL=${PASSERELLE_LOCAL:-$ROOT/.local}
mkdir -p "$LOCAL"

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# running PIDFILE: true when the pid in PIDFILE is alive.
running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# port_open PORT: true when something listens on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for DESCRIPTION SECONDS COMMAND...: retry COMMAND every half second.
wait_for() {
  local what=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then die "$what not ready after ${secs}s"; fi
    sleep 0.5
  done
}

# stop_pid NAME PIDFILE [SECONDS]: SIGTERM, wait, then SIGKILL.
stop_pid() {
  local name=$1 pidfile=$2 secs=${3:-60}
  if ! running "$pidfile"; then rm -f "$pidfile"; log "$name: not running"; return 0; fi
  local pid; pid=$(cat "$pidfile")
  kill "$pid"
  local deadline=$((SECONDS + secs))
  while kill -0 "$pid" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then log "$name: still up after ${secs}s, killing"; kill -9 "$pid"; fi
    sleep 0.3
  done
  rm -f "$pidfile"
  log "$name: stopped"
}
