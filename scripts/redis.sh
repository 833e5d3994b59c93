#!/usr/bin/env bash
# Redis 7 from Debian's redis-server, on 127.0.0.1 with append-only
# persistence: queued tasks survive a restart.
#
#   scripts/redis.sh start | stop | status
#
# Two instances: "dev" (make up, port 6379) and "test" (make test, 6380).
# Settings (environment): REDIS_INSTANCE dev (default) or test; REDIS_PORT.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

INSTANCE=${REDIS_INSTANCE:-dev}
case "$INSTANCE" in
  dev) default_port=6379 ;;
  test) default_port=6380 ;;
  *) die "REDIS_INSTANCE must be dev or test, not '$INSTANCE'" ;;
esac
DIR=$LOCAL/redis-$INSTANCE
PIDFILE=$DIR/redis.pid
PORT=${REDIS_PORT:-$default_port}

start() {
  command -v redis-server >/dev/null || die "redis-server not found: apt-get install redis-server"
  if running "$PIDFILE"; then log "redis-$INSTANCE: already running (pid $(cat "$PIDFILE"))"; return 0; fi
  if port_open "$PORT"; then die "redis-$INSTANCE: port $PORT is taken by another process"; fi
  mkdir -p "$DIR/data"
  cat > "$DIR/redis.conf" <<CONF
# Written by scripts/redis.sh; edit the script, not this file.
bind 127.0.0.1
port $PORT
protected-mode yes
daemonize yes
pidfile $PIDFILE
logfile $DIR/redis.log
dir $DIR/data
appendonly yes
appendfsync everysec
save 900 1
CONF
  log "redis-$INSTANCE: starting on 127.0.0.1:$PORT"
  redis-server "$DIR/redis.conf"
  wait_for "redis-$INSTANCE" 30 redis-cli -p "$PORT" ping
  log "redis-$INSTANCE: ready (pid $(cat "$PIDFILE"))"
}

# Redis answers SIGTERM with a clean shutdown that flushes the append-only file.
stop() { stop_pid "redis-$INSTANCE" "$PIDFILE" 30; }

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running "$PIDFILE"; then echo "redis-$INSTANCE: running (pid $(cat "$PIDFILE"), 127.0.0.1:$PORT)"; else echo "redis-$INSTANCE: stopped"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
