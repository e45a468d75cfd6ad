#!/usr/bin/env bash
# Installs every Debian 12 package that berth's build, tests, fuzzing and demo need.
# Idempotent: packages already present are not fetched again, and apt's lists are refreshed only
# when something is missing.
set -euo pipefail

packages=(
  build-essential g++ cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-url1.81-dev nlohmann-json3-dev libfmt-dev libcurl4-openssl-dev libssl-dev
  catch2 libre2-dev libyaml-cpp-dev libtoml11-dev zlib1g-dev libcrypt-dev
  clang clang-tidy clang-format libclang-rt-14-dev
  curl ca-certificates
  chromium
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
echo "install-deps: installing ${missing[*]}" >&2
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
