#!/usr/bin/env bash
# Installs what gradflow needs from Debian's packages (only what is missing), then configures
# and builds it (Release) into build/. Idempotent: a second run installs and rebuilds nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake g++ make git pkg-config libeigen3-dev nlohmann-json3-dev libspdlog-dev catch2
          libcli11-dev zlib1g-dev)
packages+=("$@")  # callers may add packages (the test script adds what only tests need)
# The optional OpenBLAS GEMM build (docs/speed.md): its headers and library.
case "${GRADFLOW_CMAKE_ARGS:-}" in *GRADFLOW_OPENBLAS=ON*) packages+=(libopenblas-pthread-dev) ;; esac

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

build_type="${GRADFLOW_BUILD_TYPE:-Release}"
cmake -S . -B build -DCMAKE_BUILD_TYPE="$build_type" ${GRADFLOW_CMAKE_ARGS:-} >/dev/null
cmake --build build -j "$(nproc)"
