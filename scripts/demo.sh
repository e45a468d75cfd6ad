#!/usr/bin/env bash
# berth's main job on this machine: builds berth and the berth-whoami test app, stages them as local
# images, and starts examples/cluster (berth in front of two sticky app replicas). Safe to run again.
#   scripts/demo.sh        start (or update) the cluster
#   scripts/demo.sh down   remove it
# Ports (on 127.0.0.1 only): BERTH_DEMO_HTTP_PORT (default 8000), BERTH_DEMO_API_PORT (default 8080).
set -euo pipefail
cd "$(dirname "$0")/.."

project=berth-demo
compose_file=examples/cluster/docker-compose.yml
export BERTH_DEMO_HTTP_PORT="${BERTH_DEMO_HTTP_PORT:-8000}"
export BERTH_DEMO_API_PORT="${BERTH_DEMO_API_PORT:-8080}"

if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
else
  echo "demo: neither 'docker compose' nor 'docker-compose' is installed" >&2
  exit 1
fi
compose+=(-p "$project" -f "$compose_file")

case "${1:-up}" in
  down)
    "${compose[@]}" down --remove-orphans
    exit 0
    ;;
  up) ;;
  *)
    echo "usage: scripts/demo.sh [up|down]" >&2
    exit 2
    ;;
esac

scripts/install-deps.sh
scripts/build-images.sh release
"${compose[@]}" up -d --remove-orphans

api="http://127.0.0.1:$BERTH_DEMO_API_PORT"
app="http://127.0.0.1:$BERTH_DEMO_HTTP_PORT"
echo "waiting for berth to route the app replicas..."
for _ in $(seq 1 120); do
  up=$(curl -fsS "$api/api/http/services/app@docker" 2>/dev/null | grep -o '"UP"' | wc -l || true)
  if [ "${up:-0}" -ge 2 ] && curl -fsS -o /dev/null "$app/"; then
    cat <<MSG

berth is routing $up replicas of the app.
  app:        $app/            (sticky: cookie app_affinity; /ws is a WebSocket echo)
  dashboard:  $api/dashboard/
  API:        $api/api/http/services
  scale:      ${compose[*]} up -d --scale app=4
  stop:       scripts/demo.sh down
MSG
    exit 0
  fi
  sleep 0.5
done
echo "demo: the app replicas were not routed within 60 s; berth's log:" >&2
"${compose[@]}" logs --tail 30 berth >&2
exit 1
