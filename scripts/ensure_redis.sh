#!/usr/bin/env bash
# Starts a local redis-server (data under var/redis, append-only file on) if none answers at the
# URL given. Only for local URLs: a remote Redis is the operator's business.
set -euo pipefail
url=${1:-redis://localhost:6379/0}
if redis-cli -u "$url" ping >/dev/null 2>&1; then
  exit 0
fi
hostport=${url#*://}; hostport=${hostport%%/*}; hostport=${hostport##*@}
host=${hostport%%:*}; port=${hostport##*:}; [ "$port" = "$host" ] && port=6379
case "$host" in
  localhost|127.0.0.1|::1|"[::1]") ;;
  *) echo "ensure_redis: no Redis answers at $url and it is not local; start it first" >&2; exit 1 ;;
esac
mkdir -p var/redis
echo "ensure_redis: starting redis-server on port $port (data in var/redis)"
redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --dir "$(pwd)/var/redis" \
  --appendonly yes --logfile "$(pwd)/var/redis/redis.log"
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && exit 0; sleep 0.1; done
echo "ensure_redis: redis-server did not start; see var/redis/redis.log" >&2; exit 1
