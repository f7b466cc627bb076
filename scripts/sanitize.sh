#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer (GCC): configures
# build-asan/ (CMakePresets.json "asan-ubsan": RelWithDebInfo, GRADFLOW_SANITIZE=ON, UBSan
# reports abort), builds, and runs ctest there. Any sanitizer report fails the test it came from.
#   bash scripts/sanitize.sh [ctest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --preset asan-ubsan >/dev/null
cmake --build --preset asan-ubsan -j "$(nproc)"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cd build-asan
ctest --output-on-failure -j "$(nproc)" "$@"
