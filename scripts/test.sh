#!/usr/bin/env bash
# The whole test suite: on SQLite, then again on PostgreSQL when one answers at
# $TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test). Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
workers=${TEST_WORKERS:-2}
pg_url=${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}

echo "== tests on SQLite =="
env -u DATABASE_URL $PY -m pytest -n "$workers" "$@"

if [ "${SKIP_POSTGRES:-0}" != "1" ] && $PY - "$pg_url" <<'PYEOF' 2>/dev/null
import sys, psycopg
psycopg.connect(sys.argv[1], connect_timeout=3).close()
PYEOF
then
  echo "== tests on PostgreSQL ($pg_url) =="
  DATABASE_URL="$pg_url" $PY -m pytest -n "$workers" "$@"
else
  echo "== PostgreSQL not reachable at $pg_url: skipped the PostgreSQL run =="
fi
