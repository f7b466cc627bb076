#!/usr/bin/env bash
# README command 1: set up, build (Release) and run the quickstart experiment.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
./build/gradflow run configs/quickstart.json "$@"
