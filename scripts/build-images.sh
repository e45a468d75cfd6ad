#!/usr/bin/env bash
# Builds berth and berth-whoami with a CMake preset (default: release) and stages them as the local
# images berth:local and berth-whoami:local (FROM scratch: this machine has no registry).
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"

cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --target berth berth-whoami

build="build/$preset"
scripts/stage-image.sh "$build/src/app/berth" berth:local --expose 80 --expose 8080 \
  --healthcheck '--interval=5s --timeout=3s CMD ["/usr/local/bin/berth","healthcheck","--ping=true"]' \
  >/dev/null
scripts/stage-image.sh "$build/tools/whoami/berth-whoami" berth-whoami:local --expose 80 \
  --healthcheck '--interval=2s --timeout=2s CMD ["/usr/local/bin/berth-whoami","healthcheck","--port","80"]' \
  >/dev/null
echo "images: berth:local berth-whoami:local (from the $preset build)"
