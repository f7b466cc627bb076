#!/usr/bin/env bash
# README command 2: set up, build (Release) and run the whole test suite with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
# python3-numpy lets the .npy tests check our files with numpy.load itself; the Slurm packages
# let the slurm_submit test start a single-node cluster (scripts/slurm_local.sh); chromium
# renders the HTML report headless (with a font, so text shows) and python3-pil checks its
# screenshot (scripts/check_report_render.sh); pandas, matplotlib, nbconvert and ipykernel let
# the "experiments" test check findings and execute the notebooks.
bash scripts/setup.sh python3-numpy slurmctld slurmd slurm-client munge chromium fonts-dejavu-core \
  python3-pil python3-pandas python3-matplotlib python3-nbconvert python3-ipykernel
cd build
ctest --output-on-failure -j "$(nproc)" "$@"
