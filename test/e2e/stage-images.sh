#!/usr/bin/env bash
# Stages the binaries under test as berth:e2e and berth-whoami:e2e (FROM scratch, no registry).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
stage="$here/../../scripts/stage-image.sh"
"$stage" "$1" berth:e2e --expose 80 --expose 8080 >/dev/null
"$stage" "$2" berth-whoami:e2e --expose 80 \
  --healthcheck '--interval=1s --timeout=2s CMD ["/usr/local/bin/berth-whoami","healthcheck","--port","80"]' \
  >/dev/null
echo "staged berth:e2e and berth-whoami:e2e"
