#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, then builds and runs every test
# (unit, component and end-to-end on the local Docker Engine) in the debug build, the unit tests again
# under ASan+UBSan, and each fuzz target briefly.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

echo "== debug build: all tests"
cmake --preset debug >/dev/null
cmake --build --preset debug
ctest --preset debug

echo "== asan build: unit tests under AddressSanitizer and UndefinedBehaviorSanitizer"
cmake --preset asan >/dev/null
cmake --build --preset asan
ctest --preset asan

echo "== fuzz targets, briefly"
scripts/fuzz.sh "${BERTH_FUZZ_SECONDS:-20}"
