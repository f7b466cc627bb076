#!/usr/bin/env bash
# README command 2: set up, build (Release) and run the whole test suite with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
# python3-numpy lets the .npy tests check our files with numpy.load itself; the Slurm packages
# let the slurm_submit test start a single-node cluster (scripts/slurm_local.sh); chromium
# renders the HTML report headless (with a font, so text shows) and python3-pil checks its
# screenshot (scripts/check_report_render.sh); pandas, matplotlib, nbconvert and ipykernel let
# the "experiments" test check findings and execute the notebooks; dataset-fashion-mnist is the
# data of experiment f and of the fashion_mnist tests; python3-torch runs the autograd comparison
# (scripts/check_autograd.py).
bash scripts/setup.sh python3-numpy python3-torch slurmctld slurmd slurm-client munge chromium fonts-dejavu-core \
  python3-pil python3-pandas python3-matplotlib python3-nbconvert python3-ipykernel \
  dataset-fashion-mnist
cd build
ctest --output-on-failure -j "$(nproc)" "$@"

# Robustness (issues 6, 11): fuzz the input readers (config, CSV, .npy, IDX) for 60 s in all, shared
# by fuzz.sh's targets (clang + libFuzzer, installed by fuzz.sh if missing; ~3 min of CPU with
# its build). GRADFLOW_FUZZ_SECONDS=0 skips it.
# The suite under ASan + UBSan costs a second full build (~12 min of CPU for the library alone
# on this machine), so it runs only with GRADFLOW_SANITIZE_SUITE=1 (or bash scripts/sanitize.sh).
cd ..
if [ "${GRADFLOW_FUZZ_SECONDS:-60}" != 0 ]; then
  bash scripts/fuzz.sh "${GRADFLOW_FUZZ_SECONDS:-60}"  # every target, sharing the seconds
fi
if [ "${GRADFLOW_SANITIZE_SUITE:-0}" != 0 ]; then
  bash scripts/sanitize.sh
fi
