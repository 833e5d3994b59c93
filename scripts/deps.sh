#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for the local services: Debian's
# redis-server, Maven and a Java 17 JDK (for Neo4j), curl, and jq (the PDS and
# GoToSocial scripts read JSON with it). Skips what is there.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v mvn >/dev/null || need+=(maven)
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v curl >/dev/null || need+=(curl)
command -v jq >/dev/null || need+=(jq)
[ ${#need[@]} -eq 0 ] && exit 0

command -v apt-get >/dev/null || die "missing ${need[*]} and no apt-get: install them by hand"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
log "installing ${need[*]} from Debian's packages"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian starts its own redis-server on 6379 after install; ours runs from
# scripts/redis.sh, so stop the system one.
if [[ " ${need[*]} " == *" redis-server "* ]]; then
  $sudo systemctl disable --now redis-server 2>/dev/null || $sudo service redis-server stop 2>/dev/null || true
fi
