#!/usr/bin/env bash
# Starts or stops every local service of one instance, dev or test.
#
#   scripts/services.sh start|stop|status [dev|test]
#
# Neo4j and Redis start side by side; each script waits for its service.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cmd=${1:-}; instance=${2:-dev}
export NEO4J_INSTANCE=$instance REDIS_INSTANCE=$instance
here=$ROOT/scripts
case "$cmd" in
  start)
    "$here/redis.sh" start
    "$here/neo4j.sh" start
    ;;
  stop)
    "$here/neo4j.sh" stop
    "$here/redis.sh" stop
    ;;
  status)
    rc=0
    "$here/neo4j.sh" status || rc=1
    "$here/redis.sh" status || rc=1
    exit $rc
    ;;
  *) echo "usage: $0 start|stop|status [dev|test]" >&2; exit 2 ;;
esac
