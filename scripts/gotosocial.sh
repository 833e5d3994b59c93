#!/usr/bin/env bash
# A real Mastodon-API server: GoToSocial v0.18.3, built from the Go module
# proxy through the wrapper module in scripts/gotosocial/ (its go.mod repeats
# GoToSocial's replace lines, which only count in the main module of a build).
#
#   scripts/gotosocial.sh provision     build the binary (only when missing or
#                                       when the wrapper's go.mod/go.sum changed)
#   scripts/gotosocial.sh start         provision if needed, start, wait for /api/v1/instance
#   scripts/gotosocial.sh stop | status
#   scripts/gotosocial.sh create-account USER EMAIL PASSWORD
#       admin CLI create + confirm, then unlocks the account (CLI-made
#       accounts are locked: follows would wait for approval); prints its id
#   scripts/gotosocial.sh token USER|EMAIL PASSWORD
#       an access token (scopes "read write follow push") through the OAuth
#       authorization-code flow, as a browser would do it; prints the token
#
# The server answers on http://localhost:8090 (bound to 127.0.0.1; "host" in
# its config is localhost:8090, so local accounts are @USER@localhost:8090).
# Passwords must pass GoToSocial's strength check (long, mixed: e.g.
# "correct-Horse-battery-9"). Data (SQLite, media) lives in
# $LOCAL/gotosocial/ and survives restarts; "rm -rf .local/gotosocial/data"
# (server stopped) starts afresh.
#
# Settings (environment):
#   GTS_PORT            default 8090
#   GTS_RATE_LIMITS     "on" keeps GoToSocial's own request rate limit (300
#                       requests / 5 min per IP) and throttling; default off
#
# First build, caches empty: about 4 minutes on 2 cores, leaving ~750 MB in
# Go's module cache and ~1.8 GB in its build cache; with warm caches a rebuild
# is a few seconds of linking. The binary is ~80 MB.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GTS_VERSION=v0.18.3
DIR=$LOCAL/gotosocial
BIN=$DIR/bin/gotosocial
PIDFILE=$DIR/gotosocial.pid
LOGFILE=$DIR/gotosocial.log
CONFIG=$DIR/config.yaml
WRAPPER=$ROOT/scripts/gotosocial
PORT=${GTS_PORT:-8090}
HOST=localhost:$PORT
URL=http://localhost:$PORT
# Modules the checksum database may not know (GoToSocial's sqlite fork on
# GitLab); the hashes in the wrapper's go.sum are checked all the same.
export GONOSUMDB=${GONOSUMDB:+$GONOSUMDB,}github.com/superseriousbusiness,gitlab.com/NyaaaWhatsUpDoc

provision() {
  command -v go >/dev/null || die "go not found: install Go 1.24 or newer"
  if [ -x "$BIN" ] && [ -f "$DIR/web/.complete" ] &&
     [ "$BIN" -nt "$WRAPPER/go.mod" ] && [ "$BIN" -nt "$WRAPPER/go.sum" ]; then
    return 0
  fi
  mkdir -p "$DIR/bin"
  log "gotosocial: building $GTS_VERSION (first time: module download and ~4 min of compiling)"
  # The wrapper is its own module: build from inside it so its go.mod (and
  # its replace lines) is the main module.
  if ! (cd "$WRAPPER" && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' \
      -tags 'netgo osusergo kvformat timetzdata' -o "$BIN.tmp" \
      github.com/superseriousbusiness/gotosocial/cmd/gotosocial) >"$DIR/build.log" 2>&1; then
    tail -20 "$DIR/build.log" >&2
    die "gotosocial: build failed (log: $DIR/build.log)"
  fi
  mv "$BIN.tmp" "$BIN"
  # Templates and static assets are read from disk at start: copy them from
  # the module's source so a later "go clean -modcache" does not break us.
  # (The JS/CSS bundles of the web UI are not in the module; the API, the
  # sign-in and authorize pages work without them.)
  local src
  src=$(cd "$WRAPPER" && go list -m -f '{{.Dir}}' github.com/superseriousbusiness/gotosocial)
  [ -d "$src/web/template" ] || die "gotosocial: no web/template in $src"
  rm -rf "$DIR/web"
  mkdir -p "$DIR/web"
  cp -r "$src/web/template" "$src/web/assets" "$DIR/web/"
  chmod -R u+w "$DIR/web"
  touch "$DIR/web/.complete"
  log "gotosocial: built $BIN ($(du -h "$BIN" | cut -f1))"
}

write_config() {
  mkdir -p "$DIR/data" "$DIR/data/storage"
  local rate=0 throttle=0
  if [ "${GTS_RATE_LIMITS:-off}" = on ]; then rate=300 throttle=8; fi
  cat >"$CONFIG" <<CONF
# Written by scripts/gotosocial.sh; edit the script, not this file.
log-level: "info"
log-client-ip: false
application-name: "passerelle-local"
host: "$HOST"
protocol: "http"
bind-address: "127.0.0.1"
port: $PORT
trusted-proxies: ["127.0.0.1/32"]
db-type: "sqlite"
db-address: "$DIR/data/sqlite.db"
db-sqlite-journal-mode: "WAL"
db-sqlite-synchronous: "NORMAL"
web-template-base-dir: "$DIR/web/template/"
web-asset-base-dir: "$DIR/web/assets/"
storage-backend: "local"
storage-local-base-path: "$DIR/data/storage"
instance-federation-mode: "blocklist"
instance-expose-peers: false
accounts-registration-open: false
letsencrypt-enabled: false
media-ffmpeg-pool-size: 1
cache:
  memory-target: "64MiB"
advanced-rate-limit-requests: $rate
advanced-throttling-multiplier: $throttle
CONF
}

ready() { curl -fsS -o /dev/null "$URL/api/v1/instance"; }

start() {
  provision
  if running "$PIDFILE"; then log "gotosocial: already running (pid $(cat "$PIDFILE"))"; return 0; fi
  if port_open "$PORT"; then die "gotosocial: port $PORT is taken by another process"; fi
  write_config
  [ -f "$LOGFILE" ] && mv "$LOGFILE" "$LOGFILE.1"
  log "gotosocial: starting on 127.0.0.1:$PORT (rate limits ${GTS_RATE_LIMITS:-off})"
  nohup "$BIN" --config-path "$CONFIG" server start >"$LOGFILE" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local deadline=$((SECONDS + ${GTS_START_TIMEOUT:-120}))
  until ready >/dev/null 2>&1; do
    if ! running "$PIDFILE"; then tail -20 "$LOGFILE" >&2; die "gotosocial: exited during start (log: $LOGFILE)"; fi
    [ $SECONDS -ge $deadline ] && die "gotosocial: not ready after ${GTS_START_TIMEOUT:-120}s (log: $LOGFILE)"
    sleep 0.5
  done
  log "gotosocial: ready (pid $(cat "$PIDFILE"))"
}

admin() { "$BIN" --config-path "$CONFIG" admin "$@" >>"$DIR/admin.log" 2>&1; }

# token USER|EMAIL PASSWORD: registers an app, signs in with a cookie jar,
# approves the authorize form and trades the code for a token.
token() {
  local who=${1:-} password=${2:-}
  [ -n "$who" ] && [ -n "$password" ] || die "usage: $0 token USER|EMAIL PASSWORD"
  command -v jq >/dev/null || die "jq not found: apt-get install jq"
  ready || die "gotosocial: not running (scripts/gotosocial.sh start)"
  local email=$who
  if [[ $who != *@* ]]; then
    email=$(awk -v u="$who" '$1 == u { print $2 }' "$DIR/data/accounts.tsv" 2>/dev/null | tail -1)
    [ -n "$email" ] || die "gotosocial: no e-mail known for '$who' (made by create-account?); pass the e-mail instead"
  fi
  local oob=urn:ietf:wg:oauth:2.0:oob scopes="read write follow push"
  local jar=$DIR/cookies.$$
  rm -f "$jar"
  local app client_id client_secret
  app=$(curl -fsS "$URL/api/v1/apps" --data-urlencode "client_name=passerelle-local" \
    --data-urlencode "redirect_uris=$oob" --data-urlencode "scopes=$scopes") ||
    die "gotosocial: could not register an app"
  client_id=$(jq -r .client_id <<<"$app"); client_secret=$(jq -r .client_secret <<<"$app")
  # GET /oauth/authorize keeps the request in the session and sends us to sign in.
  curl -fsS -o /dev/null -c "$jar" -b "$jar" -G "$URL/oauth/authorize" \
    --data-urlencode "client_id=$client_id" --data-urlencode "redirect_uri=$oob" \
    --data-urlencode "response_type=code" --data-urlencode "scope=$scopes" ||
    die "gotosocial: GET /oauth/authorize failed"
  local code
  code=$(curl -sS -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" "$URL/auth/sign_in" \
    --data-urlencode "username=$email" --data-urlencode "password=$password")
  [ "$code" = 302 ] || [ "$code" = 303 ] || die "gotosocial: sign-in as $who refused (HTTP $code)"
  # The authorize form posts nothing of its own: the session holds the request.
  local location
  location=$(curl -sS -o /dev/null -w '%{redirect_url}' -c "$jar" -b "$jar" -X POST "$URL/oauth/authorize")
  code=$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' <<<"$location")
  [ -n "$code" ] || die "gotosocial: no authorization code (redirected to '$location')"
  local tok
  tok=$(curl -fsS "$URL/oauth/token" --data-urlencode "grant_type=authorization_code" \
    --data-urlencode "code=$code" --data-urlencode "client_id=$client_id" \
    --data-urlencode "client_secret=$client_secret" --data-urlencode "redirect_uri=$oob" \
    --data-urlencode "scope=$scopes" | jq -r '.access_token // empty')
  rm -f "$jar"
  [ -n "$tok" ] || die "gotosocial: token exchange failed"
  echo "$tok"
}

create_account() {
  local user=${1:-} email=${2:-} password=${3:-}
  [ -n "$user" ] && [ -n "$email" ] && [ -n "$password" ] || die "usage: $0 create-account USER EMAIL PASSWORD"
  command -v jq >/dev/null || die "jq not found: apt-get install jq"
  ready || die "gotosocial: not running (scripts/gotosocial.sh start)"
  admin account create --username "$user" --email "$email" --password "$password" ||
    { tail -5 "$DIR/admin.log" >&2; die "gotosocial: admin account create $user failed (log: $DIR/admin.log)"; }
  admin account confirm --username "$user" ||
    { tail -5 "$DIR/admin.log" >&2; die "gotosocial: admin account confirm $user failed (log: $DIR/admin.log)"; }
  printf '%s\t%s\n' "$user" "$email" >>"$DIR/data/accounts.tsv"
  local tok; tok=$(token "$email" "$password")
  curl -fsS -X PATCH -H "Authorization: Bearer $tok" "$URL/api/v1/accounts/update_credentials" \
    --data-urlencode "locked=false" | jq -r .id
}

case "${1:-}" in
  provision) provision ;;
  start) start ;;
  stop) stop_pid gotosocial "$PIDFILE" 30 ;;
  status) if running "$PIDFILE"; then echo "gotosocial: running (pid $(cat "$PIDFILE"), $URL)"; else echo "gotosocial: stopped"; exit 1; fi ;;
  create-account) shift; create_account "$@" ;;
  token) shift; token "$@" ;;
  *) echo "usage: $0 provision|start|stop|status|create-account USER EMAIL PASSWORD|token USER|EMAIL PASSWORD" >&2; exit 2 ;;
esac
