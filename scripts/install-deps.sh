#!/usr/bin/env bash
# Installs every Debian 12 package that berth's build, tests, fuzzing and demo need.
# Idempotent: packages already present are not fetched again.
set -euo pipefail

packages=(
  build-essential g++ cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-url1.81-dev nlohmann-json3-dev libfmt-dev libssl-dev
  catch2 libre2-dev libyaml-cpp-dev libtoml11-dev zlib1g-dev libcrypt-dev
  clang clang-tidy clang-format libclang-rt-14-dev
  curl ca-certificates
  chromium
)

exec "$(dirname "$0")/apt-install.sh" "${packages[@]}"
