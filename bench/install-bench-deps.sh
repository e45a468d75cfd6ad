#!/usr/bin/env bash
# Installs the Debian 12 packages that only berth's benchmark harness (bench/run.sh) needs: the load
# generators (wrk; ab for new TLS connections, since it never resumes a session) and the proxies
# berth is compared with. Kept apart from scripts/install-deps.sh so that builds and CI never pull
# in web servers. Idempotent; the packaged services are not started (the harness runs its own
# instances on 127.0.0.1).
set -euo pipefail

packages=(
  wrk
  apache2-utils
  openssl
  nginx-light
  haproxy
  caddy
  linux-perf
  strace
  procps
  python3
)

exec "$(dirname "$0")/../scripts/apt-install.sh" "${packages[@]}"
