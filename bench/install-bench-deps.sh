#!/usr/bin/env bash
# Installs the Debian 12 packages that only berth's benchmark harness (bench/run.sh) needs: the load
# generator and the proxies berth is compared with. Kept apart from scripts/install-deps.sh so that
# builds and CI never pull in web servers. Idempotent: nothing is fetched when all are present.
#
# The packaged nginx, HAProxy and Caddy come with systemd units that Debian starts on install; the
# harness runs its own instances on 127.0.0.1 with its own configurations, so the packaged services
# are stopped and disabled again where systemd is present (policy-rc.d keeps them from starting in
# containers without it).
set -euo pipefail

packages=(
  wrk
  nginx-light
  haproxy
  caddy
  linux-perf
  strace
  procps
  python3
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
echo "install-bench-deps: installing ${missing[*]}" >&2

# Debian's maintainer scripts ask invoke-rc.d before starting a service; exit code 101 means "no".
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
  "${sudo_cmd[@]}" chmod 755 "$policy"
  own_policy=1
fi
cleanup() { if [ "$own_policy" -eq 1 ]; then "${sudo_cmd[@]}" rm -f "$policy"; fi; }
trap cleanup EXIT

"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
  "${missing[@]}"
