#!/usr/bin/env bash
# README command 2: set up, build (Release) and run the whole test suite with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
# python3-numpy lets the .npy tests check our files with numpy.load itself.
bash scripts/setup.sh python3-numpy
cd build
ctest --output-on-failure -j "$(nproc)" "$@"

# Robustness (issue 6): fuzz the config front end (clang + libFuzzer, installed by fuzz.sh if
# missing) and run the whole suite under ASan + UBSan. GRADFLOW_FUZZ_SECONDS=0 or
# GRADFLOW_SANITIZE_SUITE=0 skip them; scripts/fuzz.sh and scripts/sanitize.sh run them alone.
cd ..
if [ "${GRADFLOW_FUZZ_SECONDS:-60}" != 0 ]; then
  bash scripts/fuzz.sh "${GRADFLOW_FUZZ_SECONDS:-60}"
fi
if [ "${GRADFLOW_SANITIZE_SUITE:-1}" != 0 ]; then
  bash scripts/sanitize.sh
fi
