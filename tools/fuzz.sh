#!/usr/bin/env bash
# tools/fuzz.sh - build and run the libFuzzer target for the safetensors /
# config.json / .npy / token-id text parsers (tests/fuzz/fuzz_safetensors.c) with clang,
# -fsanitize=fuzzer,address,undefined.
#
#   tools/fuzz.sh [SECONDS] [extra libFuzzer args...]   (default 60 s)
#
# Builds into build-fuzz/, copies the seed corpus tests/fuzz/corpus/ to a
# scratch corpus (so runs do not grow the checked-in one) and exits non-zero
# on any crash, leak or sanitizer report. Needs clang (apt-get install clang)
# and libcjson-dev.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECS="${1:-60}"
shift || true
CC="${CLANG:-clang}"
command -v "$CC" >/dev/null || { echo "fuzz.sh: clang not found (apt-get install clang)" >&2; exit 2; }
OUT="$ROOT/build-fuzz"
mkdir -p "$OUT"
CJSON_CFLAGS="$(pkg-config --cflags libcjson 2>/dev/null || true)"
CJSON_LIBS="$(pkg-config --libs libcjson 2>/dev/null || echo -lcjson)"
"$CC" -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Wall -Wextra -I"$ROOT/include" -I"$ROOT/host" $CJSON_CFLAGS \
    "$ROOT/tests/fuzz/fuzz_safetensors.c" \
    "$ROOT/host/model/safetensors.c" "$ROOT/host/model/hf_config.c" \
    "$ROOT/host/model/hf_load.c" "$ROOT/host/model/npy.c" \
    "$ROOT/host/model/config.c" "$ROOT/host/model/weights.c" "$ROOT/host/common/common.c" \
    "$ROOT/host/model/inputs.c" "$ROOT/host/common/file.c" \
    $CJSON_LIBS -lm -o "$OUT/fuzz_safetensors"
rm -rf "$OUT/corpus"
mkdir -p "$OUT/corpus" "$OUT/artifacts"
cp "$ROOT"/tests/fuzz/corpus/* "$OUT/corpus/"
exec "$OUT/fuzz_safetensors" "$OUT/corpus" -max_total_time="$SECS" -max_len=16384 \
    -artifact_prefix="$OUT/artifacts/" -print_final_stats=1 "$@"
