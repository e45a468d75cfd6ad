#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for the given number of seconds (default 60).
# A crash leaves its input as crash-* in the current folder and fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"

scripts/install-deps.sh
cmake --preset fuzz >/dev/null
# Only the fuzz targets (and the libraries they fuzz), not the whole project, with clang.
targets=$(sed -n 's/^berth_fuzz_target(\([a-z_]*\).*/\1/p' fuzz/CMakeLists.txt)
cmake --build --preset fuzz --target $targets

for target in build/fuzz/fuzz/*_fuzz; do
  [ -x "$target" ] || continue
  name=$(basename "$target")
  corpus="build/fuzz/corpus-$name"
  mkdir -p "$corpus"
  seeds=()
  [ -d "fuzz/seeds/$name" ] && seeds=("fuzz/seeds/$name")
  echo "fuzzing $name for ${seconds}s"
  "$target" -max_total_time="$seconds" "$corpus" "${seeds[@]}" >"build/fuzz/$name.log" 2>&1 ||
    { tail -n 40 "build/fuzz/$name.log"; exit 1; }
  tail -n 2 "build/fuzz/$name.log"
done
