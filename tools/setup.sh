#!/usr/bin/env bash
# setup.sh - install swacl's build and test dependencies on Debian/Ubuntu and
# build ./build (Release). Safe to run again: apt-get skips what is present
# and cmake rebuilds only what changed.
#
#   ./tools/setup.sh                 install + configure + build
#   SWACL_SKIP_APT=1 ./tools/setup.sh   build only
#   BUILD_DIR=out ./tools/setup.sh      another build directory
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"

PACKAGES=(ocl-icd-opencl-dev opencl-headers pocl-opencl-icd libclblast-dev clinfo
          libcriterion-dev libcjson-dev libopenblas-dev libpcre2-dev libutf8proc-dev pkg-config cmake gcc g++
          gnuplot-nox openmpi-bin libopenmpi-dev) # Open MPI: the pipeline across processes (-DSWACL_MPI)

log() { printf '==> %s\n' "$*"; }

if [[ "${SWACL_SKIP_APT:-0}" != 1 ]]; then
    if [[ "$(id -u)" == 0 ]]; then
        SUDO=()
    elif command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "setup.sh: error: not root and no sudo; install as root: ${PACKAGES[*]}" >&2
        exit 1
    fi
    missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$p")
    done
    if ((${#missing[@]})); then
        log "installing: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        "${SUDO[@]}" apt-get update </dev/null
        "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            "${missing[@]}" </dev/null
    else
        log "all packages present"
    fi
fi

log "configuring $BUILD_DIR (Release)"
cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release
log "building with $JOBS jobs"
cmake --build "$BUILD_DIR" -j "$JOBS"
log "done: $BUILD_DIR/swacl"
