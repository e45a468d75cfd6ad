#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, then runs each fuzz target briefly,
# the pure components' tests under ASan+UBSan, and last every test (unit, component, browser and
# end-to-end on the local Docker Engine) in the debug build, whose ctest summary closes the output.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

# ccache keyed on paths relative to the checkout, so every clone (CI's included) shares one cache.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true

echo "== fuzz targets, briefly"
scripts/fuzz.sh "${BERTH_FUZZ_SECONDS:-20}"

echo "== asan build: the pure components' tests under AddressSanitizer and UndefinedBehaviorSanitizer"
pure=(log config rules labels file runtime middleware)
cmake --preset asan >/dev/null
cmake --build --preset asan --target "${pure[@]/%/_tests}"
ctest --preset asan -R "^($(IFS='|'; echo "${pure[*]}")):"

echo "== debug build: all tests"
cmake --preset debug >/dev/null
cmake --build --preset debug
ctest --preset debug
