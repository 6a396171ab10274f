#!/usr/bin/env bash
# Runs the whole product on one machine: Redis (started if none answers), migrations, the demo
# account with a processed sample document, then web + admin, workers and the scheduler.
set -euo pipefail
cd "$(dirname "$0")/.."
export REDIS_URL=${REDIS_URL:-redis://localhost:6379/0}
export PORT=${PORT:-8000}
PY=.venv/bin/python
mkdir -p var

scripts/ensure_redis.sh "$REDIS_URL"
$PY manage.py migrate --no-input -v0
$PY manage.py collectstatic --no-input -v0
$PY manage.py demo
echo "run: processing the sample document (samples/cell-biology-notes.pdf)"
$PY manage.py process samples/cell-biology-notes.pdf --owner "${DEMO_USERNAME:-demo}"
echo "run: web UI on http://127.0.0.1:${PORT}/ and admin on http://127.0.0.1:${PORT}/admin/  (Ctrl-C stops everything)"
exec .venv/bin/honcho start -f Procfile
