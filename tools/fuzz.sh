#!/usr/bin/env bash
# tools/fuzz.sh - build and run the libFuzzer targets with clang,
# -fsanitize=fuzzer,address,undefined:
#   fuzz_safetensors  safetensors / config.json / .npy / token-id text parsers
#                     (3/4 of the time)
#   fuzz_pcache       program-cache entry header + PoCL binary walk (1/4)
#
#   tools/fuzz.sh [SECONDS] [extra libFuzzer args...]   (default 60 s in all)
#
# Builds into build-fuzz/, copies the seed corpora tests/fuzz/corpus/ and
# tests/fuzz/corpus_pcache/ to scratch corpora (so runs do not grow the
# checked-in ones) and exits non-zero on any crash, leak or sanitizer report. Needs clang (apt-get install clang)
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
"$CC" -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Wall -Wextra -I"$ROOT/host" \
    "$ROOT/tests/fuzz/fuzz_pcache.c" "$ROOT/host/cl/cl_pcache.c" -o "$OUT/fuzz_pcache"
SECS_PC=$(( SECS / 4 > 0 ? SECS / 4 : 1 ))
SECS_ST=$(( SECS - SECS_PC > 0 ? SECS - SECS_PC : 1 ))
rm -rf "$OUT/corpus" "$OUT/corpus_pcache"
mkdir -p "$OUT/corpus" "$OUT/corpus_pcache" "$OUT/artifacts"
cp "$ROOT"/tests/fuzz/corpus/* "$OUT/corpus/"
cp "$ROOT"/tests/fuzz/corpus_pcache/* "$OUT/corpus_pcache/"
"$OUT/fuzz_safetensors" "$OUT/corpus" -max_total_time="$SECS_ST" -max_len=16384 \
    -artifact_prefix="$OUT/artifacts/" -print_final_stats=1 "$@"
exec "$OUT/fuzz_pcache" "$OUT/corpus_pcache" -max_total_time="$SECS_PC" -max_len=16384 \
    -artifact_prefix="$OUT/artifacts/pcache-" -print_final_stats=1 "$@"
