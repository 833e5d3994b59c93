#!/usr/bin/env bash
# Runs `passerelle serve` and `passerelle work` in the background against the
# dev services, for `make up`. The binary must be built (make build).
#
#   scripts/app.sh start | stop | status
#
# A secret key is made once and kept in .local/secret.key, so tokens
# encrypted by one run can be read by the next.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DIR=$LOCAL/app
BIN=$ROOT/bin/passerelle
KEYFILE=$LOCAL/secret.key
export PASSERELLE_HTTP_ADDR=${PASSERELLE_HTTP_ADDR:-127.0.0.1:8080}
export PASSERELLE_UPLOAD_DIR=${PASSERELLE_UPLOAD_DIR:-$LOCAL/uploads}
# The local networks of make up: sign-in on the local PDS, DIDs from its PLC.
export PASSERELLE_BLUESKY_HOSTS=${PASSERELLE_BLUESKY_HOSTS:-http://localhost:2583}
export PASSERELLE_MASTODON_HOSTS=${PASSERELLE_MASTODON_HOSTS:-http://localhost:8090}
export PASSERELLE_PLC_URL=${PASSERELLE_PLC_URL:-http://127.0.0.1:2582}
export PASSERELLE_PUBLIC_URL=${PASSERELLE_PUBLIC_URL:-http://$PASSERELLE_HTTP_ADDR/}

start_one() {
  local name=$1
  if running "$DIR/$name.pid"; then log "$name: already running (pid $(cat "$DIR/$name.pid"))"; return 0; fi
  nohup "$BIN" "$name" >>"$DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$DIR/$name.pid"
  sleep 0.3
  running "$DIR/$name.pid" || { tail -5 "$DIR/$name.log" >&2; die "$name exited at start (log: $DIR/$name.log)"; }
  log "$name: started (pid $(cat "$DIR/$name.pid"), log $DIR/$name.log)"
}

start() {
  [ -x "$BIN" ] || die "no $BIN: run make build"
  mkdir -p "$DIR"
  if [ ! -s "$KEYFILE" ]; then
    head -c 32 /dev/urandom | base64 >"$KEYFILE"
    chmod 600 "$KEYFILE"
  fi
  export PASSERELLE_SECRET_KEY=${PASSERELLE_SECRET_KEY:-$(cat "$KEYFILE")}
  "$BIN" migrate
  start_one serve
  start_one work
  wait_for "passerelle serve" 30 curl -fsS "http://$PASSERELLE_HTTP_ADDR/readyz"
}

case "${1:-}" in
  start) start ;;
  stop) stop_pid serve "$DIR/serve.pid" 30; stop_pid work "$DIR/work.pid" 40 ;;
  status)
    rc=0
    for n in serve work; do
      if running "$DIR/$n.pid"; then echo "$n: running (pid $(cat "$DIR/$n.pid"))"; else echo "$n: stopped"; rc=1; fi
    done
    exit $rc ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
