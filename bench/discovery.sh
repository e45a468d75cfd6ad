#!/usr/bin/env bash
# Discovery latency on the real Docker Engine: for N containers (default 50), the time from the
# container's start (State.StartedAt, set by the daemon) to the first request berth serves from it.
# Prints median and p99. The app runs without a HEALTHCHECK: with one, berth (like Traefik) waits
# for "healthy", and the figure would measure the healthcheck interval instead of berth.
#   bench/discovery.sh [N]      (needs the images berth:local and berth-whoami:local: scripts/build-images.sh)
# Everything it starts is labelled org.berth.bench and removed on exit; ports are on 127.0.0.1 only.
set -euo pipefail
runs="${1:-50}"
id="berth-bench-$$"
network="$id"
label="org.berth.bench=$$"

cleanup() {
  local ids
  ids=$(docker ps -aq --filter "label=$label")
  [ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1 || true
  docker network rm "$network" >/dev/null 2>&1 || true
}
trap cleanup EXIT

docker network create --label "$label" "$network" >/dev/null
docker run -d --name "$id-berth" --label "$label" --network "$network" \
  -v /var/run/docker.sock:/var/run/docker.sock:ro -p 127.0.0.1::80 berth:local \
  --providers.docker=true --providers.docker.exposedbydefault=false \
  --providers.docker.network="$network" --entrypoints.web.address=:80 >/dev/null
port=$(docker port "$id-berth" 80/tcp | head -n1 | sed 's/.*://')
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done

now_ns() { date +%s%N; }
results=$(mktemp)
for i in $(seq "$runs"); do
  name="$id-app-$i"
  docker create --name "$name" --label "$label" --network "$network" \
    --label traefik.enable=true --label "traefik.http.routers.r$i.rule=Host(\`app$i.bench\`)" \
    --label "traefik.http.services.s$i.loadbalancer.server.port=80" --no-healthcheck \
    berth-whoami:local >/dev/null
  docker start "$name" >/dev/null
  until [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: app$i.bench" "http://127.0.0.1:$port/")" = 200 ]; do :; done
  served=$(now_ns)
  started=$(date -d "$(docker inspect -f '{{.State.StartedAt}}' "$name")" +%s%N)
  echo "start $(( (served - started) / 1000 ))" >>"$results"
  docker rm -f "$name" >/dev/null
done
python3 - "$results" <<'PY'
import statistics, sys
values = sorted(int(line.split()[1]) / 1000 for line in open(sys.argv[1]))
p99 = values[min(len(values) - 1, int(round(0.99 * (len(values) - 1))))]
print(f"start -> first request served through berth, {len(values)} containers: "
      f"median {statistics.median(values):.1f} ms, p99 {p99:.1f} ms, max {values[-1]:.1f} ms")
PY
rm -f "$results"
