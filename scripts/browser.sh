#!/usr/bin/env bash
# The browser of the e2e tests (go test ./e2e/): Debian's chromium, driven
# headless by playwright-core (pinned in e2e/package-lock.json: 1.64.1, whose
# own chromium is 156, Debian's major). Playwright's browser download is never
# used: the scenarios launch /usr/bin/chromium (e2e/lib.mjs).
#
#   scripts/browser.sh install   apt-get install chromium and fonts when missing,
#                                npm ci in e2e/ when the lock changed
#   scripts/browser.sh path      print the chromium executable
#
# Both are quick when everything is there. npm downloads are cached in npm's
# usual per-user cache (~/.npm).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

E2E=$ROOT/e2e
# npm ci leaves a copy of the lock it installed here: node_modules is current
# while the two are the same.
STAMP=$E2E/node_modules/.passerelle-lock.json

chromium_path() {
  if [ -n "${PASSERELLE_CHROMIUM:-}" ]; then echo "$PASSERELLE_CHROMIUM"; return 0; fi
  command -v chromium || true
}

install_chromium() {
  local need=()
  [ -n "$(chromium_path)" ] || need+=(chromium)
  # Without recommends chromium brings no font: pages would render no text.
  [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
  [ -d /usr/share/fonts/truetype/liberation ] || need+=(fonts-liberation)
  [ ${#need[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "browser: missing ${need[*]} and no apt-get: install them by hand"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  log "browser: installing ${need[*]} from Debian's packages"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  local bin; bin=$(chromium_path)
  [ -n "$bin" ] || die "browser: chromium still not found after apt-get install"
  log "browser: $("$bin" --version 2>/dev/null || echo "$bin")"
}

install_modules() {
  if [ -f "$STAMP" ] && cmp -s "$E2E/package-lock.json" "$STAMP"; then return 0; fi
  command -v node >/dev/null || die "node not found: install Node.js 20 or newer"
  command -v npm >/dev/null || die "npm not found: install npm"
  local major; major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || die "Node.js 20 or newer is needed, found $(node --version)"
  log "browser: npm ci in e2e/ (playwright-core)"
  mkdir -p "$LOCAL/browser"
  (cd "$E2E" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error) >"$LOCAL/browser/npm.log" 2>&1 ||
    { tail -20 "$LOCAL/browser/npm.log" >&2; die "browser: npm ci failed (log: $LOCAL/browser/npm.log)"; }
  cp "$E2E/package-lock.json" "$STAMP"
  log "browser: installed into e2e/node_modules"
}

case "${1:-}" in
  install) install_chromium; install_modules ;;
  path)
    bin=$(chromium_path)
    [ -n "$bin" ] || die "browser: chromium not found (scripts/browser.sh install)"
    echo "$bin" ;;
  *) echo "usage: $0 install|path" >&2; exit 2 ;;
esac
