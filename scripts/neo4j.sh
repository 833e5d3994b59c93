#!/usr/bin/env bash
# Neo4j 5.26 Community, assembled from Maven Central and run as a plain JVM.
#
#   scripts/neo4j.sh provision   resolve the jars (lib/) and APOC + GDS (plugins/)
#   scripts/neo4j.sh start       provision if needed, start, wait for Bolt
#   scripts/neo4j.sh stop        clean shutdown (SIGTERM, the JVM's hook)
#   scripts/neo4j.sh status
#
# Three instances share one set of jars: "dev" (make up, port 7687), "test"
# (make test, port 7688), so tests never touch the data of a local run, and
# "bench" (make bench, port 7689), which holds a large generated world.
#
#   scripts/neo4j.sh import-world DIR   (bench) replace the database with the
#                                        CSV files of `passerelle fixtures world`
#
# Settings (environment):
#   NEO4J_INSTANCE    dev (default), test or bench
#   NEO4J_BOLT_PORT   default 7687 for dev, 7688 for test, 7689 for bench
#   NEO4J_HEAP        default 2g
#   NEO4J_PAGECACHE   default 1g
#   NEO4J_AUTH        "off" (default, local work) or "on"; with "on" the
#                     password of user neo4j is set from NEO4J_PASSWORD on
#                     first start (neo4j-admin dbms set-initial-password).
#
# Starting the JVM ourselves skips Neo4j's launcher, so the JVM options its
# default neo4j.conf lists under server.jvm.additional are repeated below.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

INSTANCE=${NEO4J_INSTANCE:-dev}
case "$INSTANCE" in
  dev) default_port=7687 ;;
  test) default_port=7688 ;;
  bench) default_port=7689 ;;
  *) die "NEO4J_INSTANCE must be dev, test or bench, not '$INSTANCE'" ;;
esac
DIST=$LOCAL/neo4j-dist
LIB=$DIST/lib
PLUGINS=$DIST/plugins
HOME_DIR=$LOCAL/neo4j-$INSTANCE
CONF_DIR=$HOME_DIR/conf
PIDFILE=$HOME_DIR/neo4j.pid
BOLT_PORT=${NEO4J_BOLT_PORT:-$default_port}
POM=$ROOT/scripts/neo4j/pom.xml
PLUGINS_POM=$ROOT/scripts/neo4j/plugins.xml

provision() {
  if [ -f "$LIB/.complete" ] && [ "$LIB/.complete" -nt "$POM" ] && [ "$LIB/.complete" -nt "$PLUGINS_POM" ]; then
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found: install Maven (apt-get install maven)"
  command -v java >/dev/null || die "java not found: install a Java 17 JDK"
  log "neo4j-$INSTANCE: resolving jars from Maven Central (first time: ~125 MB)"
  mkdir -p "$DIST"
  rm -rf "$LIB.tmp" "$PLUGINS.tmp"
  # Jar names carry their groupId: GDS and Neo4j both have an "annotations".
  local mvnlog=$DIST/mvn.log
  for pom in "$POM:$LIB.tmp" "$PLUGINS_POM:$PLUGINS.tmp"; do
    if ! mvn -B -f "${pom%%:*}" dependency:copy-dependencies -DincludeScope=runtime \
        -Dmdep.prependGroupId=true -DoutputDirectory="${pom#*:}" >"$mvnlog" 2>&1; then
      grep -E 'ERROR|FAIL' "$mvnlog" | head -20 >&2
      die "neo4j: Maven could not resolve ${pom%%:*} (full log: $mvnlog)"
    fi
  done
  # Drop what the server already has (same group and artifact, any version).
  local jar artifact
  for jar in "$PLUGINS.tmp"/*.jar; do
    artifact=$(basename "$jar" | sed -E 's/-[0-9][^-]*(-[a-z]+)?\.jar$//')
    if compgen -G "$LIB.tmp/$artifact-[0-9]*.jar" >/dev/null; then rm "$jar"; fi
  done
  rm -rf "$LIB" "$PLUGINS"
  mv "$LIB.tmp" "$LIB"; mv "$PLUGINS.tmp" "$PLUGINS"
  touch "$LIB/.complete"
  log "neo4j-$INSTANCE: $(ls "$LIB" | wc -l) jars in lib/, $(ls "$PLUGINS" | wc -l) in plugins/ (APOC, GDS)"
}

write_conf() {
  mkdir -p "$CONF_DIR" "$HOME_DIR/data" "$HOME_DIR/logs" "$HOME_DIR/import" "$HOME_DIR/run"
  local auth=false
  [ "${NEO4J_AUTH:-off}" = on ] && auth=true
  cat > "$CONF_DIR/neo4j.conf" <<CONF
# Written by scripts/neo4j.sh; edit the script, not this file.
server.directories.data=$HOME_DIR/data
server.directories.logs=$HOME_DIR/logs
server.directories.plugins=$PLUGINS
server.directories.import=$HOME_DIR/import
server.directories.run=$HOME_DIR/run
server.default_listen_address=127.0.0.1
server.bolt.enabled=true
server.bolt.listen_address=127.0.0.1:$BOLT_PORT
server.bolt.advertised_address=127.0.0.1:$BOLT_PORT
server.http.enabled=false
server.https.enabled=false
dbms.usage_report.enabled=false
dbms.security.auth_enabled=$auth
server.memory.pagecache.size=${NEO4J_PAGECACHE:-1g}
db.tx_log.rotation.retention_policy=1 days
dbms.security.procedures.unrestricted=apoc.*,gds.*
dbms.security.procedures.allowlist=apoc.*,gds.*
CONF
}

jvm_opts() {
  local heap=${NEO4J_HEAP:-2g}
  echo "-Xms$heap -Xmx$heap -XX:+UseG1GC -XX:-OmitStackTraceInFastThrow \
-XX:+UnlockExperimentalVMOptions -XX:+TrustFinalNonStaticFields -XX:+DisableExplicitGC \
-Djdk.nio.maxCachedBufferSize=1024 -Dio.netty.tryReflectionSetAccessible=true \
-Djdk.tls.ephemeralDHKeySize=2048 -Djdk.tls.rejectClientInitiatedRenegotiation=true \
-XX:FlightRecorderOptions=stackdepth=256 -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints \
--add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
--add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED \
--add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
--add-opens=java.base/sun.nio.fs=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED \
--enable-native-access=ALL-UNNAMED -Dlog4j2.disable.jmx=true \
-Dlog4j.layout.jsonTemplate.maxStringLength=32768 -Dfile.encoding=UTF-8"
}

start() {
  provision
  if running "$PIDFILE"; then log "neo4j-$INSTANCE: already running (pid $(cat "$PIDFILE"))"; return 0; fi
  if port_open "$BOLT_PORT"; then die "neo4j-$INSTANCE: port $BOLT_PORT is taken by another process"; fi
  write_conf
  if [ "${NEO4J_AUTH:-off}" = on ] && [ ! -d "$HOME_DIR/data/dbms" ]; then
    [ -n "${NEO4J_PASSWORD:-}" ] || die "NEO4J_AUTH=on needs NEO4J_PASSWORD (8 characters or more)"
    # shellcheck disable=SC2046
    NEO4J_HOME=$HOME_DIR NEO4J_CONF=$CONF_DIR java $(jvm_opts) -cp "$LIB/*" org.neo4j.cli.AdminTool \
      dbms set-initial-password "$NEO4J_PASSWORD" >/dev/null
  fi
  # A fresh neo4j.log per start, so the readiness check reads this start's lines.
  [ -f "$HOME_DIR/logs/neo4j.log" ] && mv "$HOME_DIR/logs/neo4j.log" "$HOME_DIR/logs/neo4j.log.1"
  log "neo4j-$INSTANCE: starting on 127.0.0.1:$BOLT_PORT"
  # shellcheck disable=SC2046
  # plugins/ goes on the class path too, as Neo4j's launcher does: APOC's
  # extension factories are found there by the service loader.
  nohup java $(jvm_opts) -cp "$PLUGINS/*:$LIB/*" org.neo4j.server.CommunityEntryPoint \
    --home-dir="$HOME_DIR" --config-dir="$CONF_DIR" \
    >"$HOME_DIR/logs/console.log" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local deadline=$((SECONDS + ${NEO4J_START_TIMEOUT:-180}))
  until grep -q 'Started\.' "$HOME_DIR/logs/neo4j.log" 2>/dev/null && port_open "$BOLT_PORT"; do
    if ! running "$PIDFILE"; then
      grep -E 'ERROR|Caused by' "$HOME_DIR/logs/neo4j.log" | tail -5 >&2
      die "neo4j-$INSTANCE: exited during start (log: $HOME_DIR/logs/neo4j.log)"
    fi
    [ $SECONDS -ge $deadline ] && die "neo4j-$INSTANCE: not ready after ${NEO4J_START_TIMEOUT:-180}s (log: $HOME_DIR/logs/neo4j.log)"
    sleep 0.5
  done
  log "neo4j-$INSTANCE: ready (pid $(cat "$PIDFILE"))"
}

# import_world DIR: neo4j-admin's offline bulk import of a generated world
# (about a million records a second), replacing the instance's database.
import_world() {
  local dir=$1
  [ -f "$dir/follows.csv" ] || die "no world in $dir: run passerelle fixtures world --out $dir"
  provision
  if running "$PIDFILE"; then stop_pid "neo4j-$INSTANCE" "$PIDFILE" 120; fi
  write_conf
  local n r
  n=(--nodes="$dir/x_accounts.csv" --nodes="$dir/members.csv" --nodes="$dir/bluesky.csv" --nodes="$dir/mastodon.csv")
  r=(--relationships="$dir/follows.csv" --relationships="$dir/claims.csv" --relationships="$dir/uses_bluesky.csv"
     --relationships="$dir/uses_mastodon.csv" --relationships="$dir/same_as_bluesky.csv" --relationships="$dir/same_as_mastodon.csv")
  log "neo4j-$INSTANCE: importing the world in $dir"
  # shellcheck disable=SC2046
  NEO4J_HOME=$HOME_DIR NEO4J_CONF=$CONF_DIR java $(jvm_opts) -cp "$PLUGINS/*:$LIB/*" org.neo4j.cli.AdminTool \
    database import full neo4j --overwrite-destination=true --id-type=string "${n[@]}" "${r[@]}" \
    >"$HOME_DIR/logs/import.log" 2>&1 || { tail -20 "$HOME_DIR/logs/import.log" >&2; die "neo4j-$INSTANCE: import failed"; }
  grep -E 'IMPORT DONE|Imported' "$HOME_DIR/logs/import.log" | tail -3 >&2 || true
}

case "${1:-}" in
  provision) provision ;;
  import-world) [ -n "${2:-}" ] || die "usage: $0 import-world DIR"; import_world "$2" ;;
  start) start ;;
  stop) stop_pid "neo4j-$INSTANCE" "$PIDFILE" 120 ;;
  status) if running "$PIDFILE"; then echo "neo4j-$INSTANCE: running (pid $(cat "$PIDFILE"), bolt 127.0.0.1:$BOLT_PORT)"; else echo "neo4j-$INSTANCE: stopped"; exit 1; fi ;;
  *) echo "usage: $0 provision|start|stop|status|import-world DIR" >&2; exit 2 ;;
esac
