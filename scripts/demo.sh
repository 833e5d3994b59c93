#!/usr/bin/env bash
# Seeds the demo world of `make up` and prints how to walk it.
#
#   scripts/demo.sh seed      accounts on the local PDS and GoToSocial, demo
#                             members in the graph, a visitor account
#
# The demo: DEMO_MEMBERS (default 24) members, each with a synthetic X account
# (fixtures.XID(n)), a PDS account demo-NN.test and a GoToSocial account
# demo_NN, linked and verified. A visitor signs in as demo-visitor.test on the local
# PDS, uploads the archive `passerelle demo archive` writes (it follows the
# demo members), and reconnects. The PDS forgets its accounts when it
# restarts, so every run checks them and seeds again (a few seconds);
# GoToSocial keeps its accounts, made once (about a second each).
#
# Uses the binary in bin/ and the settings of the environment
# (PASSERELLE_NEO4J_URI...), so tests can seed the test services.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BIN=${PASSERELLE_BIN:-$ROOT/bin/passerelle}
DIR=${DEMO_DIR:-$LOCAL/demo}
N=${DEMO_MEMBERS:-24}
PDS=${PDS_URL:-http://localhost:2583}
GTS=${GTS_URL:-http://localhost:8090}
GTS_DOMAIN=${GTS#http://}
# The demo seals nothing: without a key, dev mode is enough.
export PASSERELLE_DEV=${PASSERELLE_DEV:-true}
VISITOR=demo-visitor.test
VISITOR_PASSWORD=${DEMO_PASSWORD:-demo-passerelle-2026}

pds_did() { { curl -fsS "$PDS/xrpc/com.atproto.identity.resolveHandle?handle=$1" 2>/dev/null || true; } | jq -r '.did // empty'; }
pds_account() {
  local handle=$1 password=$2 did
  did=$(pds_did "$handle")
  [ -n "$did" ] || did=$("$ROOT/scripts/pds.sh" create-account "$handle" "$password")
  [ -n "$did" ] || die "demo: could not make $handle on the PDS"
  echo "$did"
}
gts_exists() { curl -fsS -o /dev/null "$GTS/.well-known/webfinger?resource=acct:$1@$GTS_DOMAIN" 2>/dev/null; }

seed() {
  [ -x "$BIN" ] || die "no $BIN: run make build"
  command -v jq >/dev/null || die "jq not found: apt-get install jq"
  curl -fsS -o /dev/null "$PDS/xrpc/_health" || die "demo: no PDS at $PDS (make services-networks)"
  curl -fsS -o /dev/null "$GTS/api/v1/instance" || die "demo: no GoToSocial at $GTS (make services-networks)"
  mkdir -p "$DIR"
  local csv=$DIR/accounts.csv
  : >"$csv.tmp"
  for n in $(seq 1 "$N"); do
    local nn; nn=$(printf %02d "$n")
    local did; did=$(pds_account "demo-$nn.test" "demo-member-$nn-password")
    if ! gts_exists "demo_$nn"; then
      "$ROOT/scripts/gotosocial.sh" create-account "demo_$nn" "demo_$nn@example.test" "Demo-Horse-$nn-Battery-9" >/dev/null
    fi
    echo "$n,$did,demo-$nn.test,demo_$nn@$GTS_DOMAIN" >>"$csv.tmp"
  done
  mv "$csv.tmp" "$csv"
  "$BIN" demo seed "$csv"
  pds_account "$VISITOR" "$VISITOR_PASSWORD" >/dev/null
  "$BIN" demo archive --members "$N" "$DIR/my-x-archive.zip" >/dev/null
  cat <<TXT

Demo: $N members are on the local Bluesky PDS and GoToSocial.
  1. Open the site and sign in with Bluesky as $VISITOR, password $VISITOR_PASSWORD
     (the local PDS's own page asks for it; or unfold "Or use an app password": server $PDS)
  2. Upload this archive (it follows the demo members on X): $DIR/my-x-archive.zip
     (made by: bin/passerelle demo archive --members $N $DIR/my-x-archive.zip)
  3. Watch the import, open Reconnections, press "Reconnect all": the follows appear on the PDS.
TXT
}

case "${1:-}" in
  seed) seed ;;
  *) echo "usage: $0 seed" >&2; exit 2 ;;
esac
