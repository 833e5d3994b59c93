#!/usr/bin/env bash
# A real local Bluesky PDS and PLC directory: atproto's dev-env
# (@atproto/dev-env 0.3.215 from the npm registry, the last line that runs on
# Node 20) started as TestNetworkNoAppView by scripts/pds/run.mjs.
#
#   scripts/pds.sh provision                 npm ci into $LOCAL/pds (only when the lock changed)
#   scripts/pds.sh start                     provision if needed, start, wait for PDS and PLC
#   scripts/pds.sh stop | status
#   scripts/pds.sh create-account HANDLE PASSWORD
#                                            e.g. alice.test; prints the new DID
#
# Both listen on 127.0.0.1 only: the PDS on http://localhost:2583 (its public
# URL; handles end in .test), the PLC directory on http://127.0.0.1:2582
# (GET /<did> answers the DID document).
#
# Data: the PDS keeps its SQLite files and blobs in $LOCAL/pds/data, but the
# PLC directory lives in memory, so every start begins empty (data/ is wiped):
# accounts and records do NOT survive a restart. Tests create what they need.
#
# Settings (environment):
#   PDS_PORT                    default 2583
#   PLC_PORT                    default 2582
#   PDS_RATE_LIMITS_ENABLED     "true" turns on the PDS's own rate limits (read
#                               at start; default off). Then, per client IP:
#                               3000 requests / 5 min; per account: repo writes
#                               5000 points / hour and 35000 / day (create 3,
#                               update 2, delete 1); createSession 30 / 5 min
#                               and 300 / day per handle; createAccount 100 /
#                               5 min. A 429 carries ratelimit-* headers.
#   PDS_RATE_LIMIT_BYPASS_KEY   with limits on, requests sending this value in
#                               the x-ratelimit-bypass header skip them
#
# Accounts and app passwords by hand (admin is admin:admin-pass, dev-env's):
#   scripts/pds.sh create-account alice.test hunter22
#   curl -s localhost:2583/xrpc/com.atproto.server.createSession \
#     -H 'content-type: application/json' -d '{"identifier":"alice.test","password":"hunter22"}'
#   curl -s localhost:2583/xrpc/com.atproto.server.createAppPassword \
#     -H "authorization: Bearer $ACCESS_JWT" -H 'content-type: application/json' \
#     -d '{"name":"passerelle"}'     # answers {"name":..,"password":"xxxx-xxxx-xxxx-xxxx",..}
# An app password logs in through createSession like the account password.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DIR=$LOCAL/pds
PIDFILE=$DIR/pds.pid
LOGFILE=$DIR/pds.log
SRC=$ROOT/scripts/pds
PDS_PORT=${PDS_PORT:-2583}
PLC_PORT=${PLC_PORT:-2582}
PDS_URL=http://127.0.0.1:$PDS_PORT

provision() {
  command -v node >/dev/null || die "node not found: install Node.js 20 or newer"
  command -v npm >/dev/null || die "npm not found: install npm"
  local major; major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || die "Node.js 20 or newer is needed, found $(node --version)"
  if [ -f "$DIR/.complete" ] && cmp -s "$SRC/package-lock.json" "$DIR/package-lock.json"; then
    return 0
  fi
  mkdir -p "$DIR"
  rm -f "$DIR/.complete"
  cp "$SRC/package.json" "$SRC/package-lock.json" "$DIR/"
  log "pds: installing @atproto/dev-env with npm ci (first time: ~470 packages, a few minutes)"
  (cd "$DIR" && npm ci --no-audit --no-fund --loglevel=error) >"$DIR/npm.log" 2>&1 ||
    { tail -20 "$DIR/npm.log" >&2; die "pds: npm ci failed (log: $DIR/npm.log)"; }
  # better-sqlite3 is native. npm 11 may skip install scripts it was not told
  # to allow; then build it here, from source against the local Node headers
  # (prebuilt binaries come from GitHub, which may not be reachable).
  if ! (cd "$DIR" && node -e 'new (require("better-sqlite3"))(":memory:")') >/dev/null 2>&1; then
    command -v make >/dev/null && command -v g++ >/dev/null && command -v python3 >/dev/null ||
      die "pds: building better-sqlite3 needs make, g++ and python3: apt-get install -y build-essential python3"
    log "pds: building better-sqlite3 from source"
    (cd "$DIR" && npm rebuild better-sqlite3 --build-from-source --foreground-scripts) >>"$DIR/npm.log" 2>&1 ||
      { tail -20 "$DIR/npm.log" >&2; die "pds: building better-sqlite3 failed (log: $DIR/npm.log)"; }
    (cd "$DIR" && node -e 'new (require("better-sqlite3"))(":memory:")') ||
      die "pds: better-sqlite3 still does not load (log: $DIR/npm.log)"
  fi
  touch "$DIR/.complete"
  log "pds: installed into $DIR/node_modules"
}

ready() {
  curl -fsS -o /dev/null "$PDS_URL/xrpc/_health" && curl -fsS -o /dev/null "http://127.0.0.1:$PLC_PORT/_health"
}

start() {
  provision
  if running "$PIDFILE"; then log "pds: already running (pid $(cat "$PIDFILE"))"; return 0; fi
  for port in "$PDS_PORT" "$PLC_PORT"; do
    if port_open "$port"; then die "pds: port $port is taken by another process"; fi
  done
  log "pds: starting PDS on 127.0.0.1:$PDS_PORT, PLC on 127.0.0.1:$PLC_PORT (rate limits ${PDS_RATE_LIMITS_ENABLED:-off})"
  [ -f "$LOGFILE" ] && mv "$LOGFILE" "$LOGFILE.1"
  # dev-env makes an (unused) folder in the temp dir at each start: keep it in ours.
  rm -rf "$DIR/tmp"; mkdir -p "$DIR/tmp"
  TMPDIR=$DIR/tmp PDS_PORT=$PDS_PORT PLC_PORT=$PLC_PORT PDS_DATA_DIR=$DIR/data PDS_MODULES=$DIR \
    PDS_RATE_LIMITS_ENABLED=${PDS_RATE_LIMITS_ENABLED:-false} \
    nohup node "$SRC/run.mjs" >"$LOGFILE" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local deadline=$((SECONDS + ${PDS_START_TIMEOUT:-90}))
  until ready >/dev/null 2>&1; do
    if ! running "$PIDFILE"; then tail -20 "$LOGFILE" >&2; die "pds: exited during start (log: $LOGFILE)"; fi
    [ $SECONDS -ge $deadline ] && die "pds: not ready after ${PDS_START_TIMEOUT:-90}s (log: $LOGFILE)"
    sleep 0.5
  done
  log "pds: ready (pid $(cat "$PIDFILE"))"
}

# create_account HANDLE PASSWORD: prints the DID. Asks the admin API for an
# invite code when the server wants one.
create_account() {
  local handle=${1:-} password=${2:-}
  [ -n "$handle" ] && [ -n "$password" ] || die "usage: $0 create-account HANDLE PASSWORD"
  command -v jq >/dev/null || die "jq not found: apt-get install jq"
  ready || die "pds: not running (scripts/pds.sh start)"
  local body invite=""
  if [ "$(curl -fsS "$PDS_URL/xrpc/com.atproto.server.describeServer" | jq -r .inviteCodeRequired)" = true ]; then
    invite=$(curl -fsS -u admin:admin-pass -H 'content-type: application/json' \
      -d '{"useCount":1}' "$PDS_URL/xrpc/com.atproto.server.createInviteCode" | jq -r .code)
  fi
  body=$(jq -nc --arg h "$handle" --arg p "$password" --arg e "${handle}@example.com" --arg i "$invite" \
    '{handle: $h, password: $p, email: $e} + (if $i == "" then {} else {inviteCode: $i} end)')
  local out
  out=$(curl -sS -H 'content-type: application/json' -d "$body" "$PDS_URL/xrpc/com.atproto.server.createAccount")
  local did; did=$(jq -r '.did // empty' <<<"$out")
  [ -n "$did" ] || die "pds: createAccount $handle: $(jq -r '"\(.error): \(.message)"' <<<"$out" 2>/dev/null || echo "$out")"
  echo "$did"
}

case "${1:-}" in
  provision) provision ;;
  start) start ;;
  stop) stop_pid pds "$PIDFILE" 30 ;;
  status) if running "$PIDFILE"; then echo "pds: running (pid $(cat "$PIDFILE"), pds 127.0.0.1:$PDS_PORT, plc 127.0.0.1:$PLC_PORT)"; else echo "pds: stopped"; exit 1; fi ;;
  create-account) shift; create_account "$@" ;;
  *) echo "usage: $0 provision|start|stop|status|create-account HANDLE PASSWORD" >&2; exit 2 ;;
esac
