#!/usr/bin/env bash
# The HTTP load tool of the web UI benchmark (e2e/load_bench_test.go):
# Debian's wrk. `make bench` runs `scripts/wrk.sh install` first.
#
#   scripts/wrk.sh install   apt-get install wrk when it is missing
#   scripts/wrk.sh path      print the wrk executable
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "${1:-}" in
  install)
    command -v wrk >/dev/null && exit 0
    command -v apt-get >/dev/null || die "wrk: missing and no apt-get: install wrk by hand"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    log "wrk: installing from Debian's packages"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends wrk >/dev/null
    command -v wrk >/dev/null || die "wrk: still not found after apt-get install"
    log "wrk: $(wrk --version 2>&1 | head -1)" ;;
  path)
    command -v wrk || die "wrk not found (scripts/wrk.sh install)" ;;
  *) echo "usage: $0 install|path" >&2; exit 2 ;;
esac
