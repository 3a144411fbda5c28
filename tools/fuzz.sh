#!/usr/bin/env bash
# tools/fuzz.sh - build and run every libFuzzer target with clang,
# -fsanitize=fuzzer,address,undefined; each gets a share of the time:
#   fuzz_safetensors  safetensors / config.json / .npy / token-id text
#                     parsers (3/8; seeds tests/fuzz/corpus/)
#   fuzz_gguf         GGUF parser + metadata mapping (1/8; corpus_gguf/)
#   fuzz_pcache       program-cache entry header + PoCL binary walk
#                     (1/8; tests/fuzz/corpus_pcache/)
#   fuzz_tune         GEMM tune file (1/8; tests/fuzz/corpus_tune/)
#   fuzz_calib        placement calibration cache sched-calib.json
#                     (1/8; tests/fuzz/corpus_calib/)
#   fuzz_tokenizer    tokenizer.json + encode/decode of a text after a NUL
#                     (1/8; tests/fuzz/corpus_tok/)
#
#   tools/fuzz.sh [SECONDS] [extra libFuzzer args...]   (default 60 s in all)
#
# Builds into build-fuzz/, copies each seed corpus to a scratch corpus (so
# runs do not grow the checked-in ones), runs every target even after one
# fails, prints one summary line per target and exits non-zero if any
# target found a crash, leak or sanitizer report (its reproducer is under
# build-fuzz/artifacts/). Needs clang (apt-get install clang) and libcjson-dev.
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
H="$ROOT/host"

build() { # name, sources... (each target links only the parser files it needs)
    local name="$1"
    shift
    # shellcheck disable=SC2086
    "$CC" -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -Wall -Wextra -I"$ROOT/include" -I"$H" $CJSON_CFLAGS "$@" $CJSON_LIBS -lm -o "$OUT/$name"
}
build fuzz_safetensors "$ROOT/tests/fuzz/fuzz_safetensors.c" \
    "$H/model/safetensors.c" "$H/model/hf_config.c" "$H/model/hf_json.c" "$H/model/hf_swacl.c" \
    "$H/model/hf_rope.c" "$H/model/hf_qwen.c" "$H/model/hf_gemma.c" "$H/model/hf_load.c" "$H/model/npy.c" \
    "$H/model/gguf.c" "$H/model/gguf_load.c" "$H/model/quant.c" \
    "$H/model/config.c" "$H/model/weights.c" "$H/common/common.c" "$H/model/inputs.c" \
    "$H/common/file.c"
build fuzz_gguf "$ROOT/tests/fuzz/fuzz_gguf.c" \
    "$H/model/safetensors.c" "$H/model/hf_config.c" "$H/model/hf_json.c" "$H/model/hf_swacl.c" \
    "$H/model/hf_rope.c" "$H/model/hf_qwen.c" "$H/model/hf_gemma.c" "$H/model/hf_load.c" "$H/model/npy.c" \
    "$H/model/gguf.c" "$H/model/gguf_load.c" "$H/model/quant.c" \
    "$H/model/config.c" "$H/model/weights.c" "$H/common/common.c" "$H/model/inputs.c" \
    "$H/common/file.c"
build fuzz_pcache "$ROOT/tests/fuzz/fuzz_pcache.c" "$H/cl/cl_pcache.c"
build fuzz_tune "$ROOT/tests/fuzz/fuzz_tune.c" "$H/cl/cl_tune_file.c"
build fuzz_calib "$ROOT/tests/fuzz/fuzz_calib.c" "$H/sched/calib_file.c" "$H/common/file.c" \
    "$H/common/common.c"
# shellcheck disable=SC2046
build fuzz_tokenizer "$ROOT/tests/fuzz/fuzz_tokenizer.c" "$H/text/tok_util.c" "$H/text/tok_load.c" \
    "$H/text/tok_pre.c" "$H/text/tok_bpe.c" "$H/text/tok_decode.c" "$H/common/common.c" \
    $(pkg-config --cflags --libs libpcre2-8 libutf8proc)

# target:corpus:share (eighths of SECONDS)
TARGETS="fuzz_safetensors:corpus:3 fuzz_gguf:corpus_gguf:1 fuzz_pcache:corpus_pcache:1 fuzz_tune:corpus_tune:1 fuzz_calib:corpus_calib:1 fuzz_tokenizer:corpus_tok:1"
rm -rf "$OUT/artifacts"
mkdir -p "$OUT/artifacts"
fail=0
summary=""
reports=""
for t in $TARGETS; do
    IFS=: read -r name corpus share <<<"$t"
    secs=$(( SECS * share / 8 > 0 ? SECS * share / 8 : 1 ))
    rm -rf "${OUT:?}/$corpus"
    mkdir -p "$OUT/$corpus"
    cp "$ROOT/tests/fuzz/$corpus"/* "$OUT/$corpus/"
    echo "fuzz.sh: $name for ${secs}s on $corpus" >&2
    rc=0
    "$OUT/$name" "$OUT/$corpus" -max_total_time="$secs" -max_len=16384 \
        -artifact_prefix="$OUT/artifacts/$name-" -print_final_stats=1 "$@" \
        2> >(tee "$OUT/$name.log" >&2) || rc=$?
    wait # the tee of this target's log
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/$name.log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$OUT/$name.log" | tail -1 || true)
    summary+="$name: ${secs}s, ${runs:-?} runs, ${cov:-cov: ?}, rc=$rc"$'\n'
    if [ "$rc" -ne 0 ]; then
        fail=1
        # The report itself, repeated after the summary: CI keeps only the
        # tail of a long log, and the stats lines come after the report.
        reports+="--- $name (rc=$rc): $(ls "$OUT/artifacts/$name-"* 2>/dev/null | tr '\n' ' ' || true)"$'\n'
        for a in "$OUT/artifacts/$name-"*; do # small reproducers inline, to rebuild with base64 -d
            if [ -f "$a" ] && [ "$(stat -c %s "$a")" -le 4096 ]; then
                reports+="base64 $(basename "$a"): $(base64 -w0 "$a")"$'\n'
            fi
        done
        reports+="$(grep -m1 -A40 -E '(ERROR|WARNING): |deadly signal|out-of-memory|SUMMARY: ' "$OUT/$name.log" || true)"$'\n'
    fi
done
printf 'fuzz.sh summary:\n%s' "$summary" >&2
[ -z "$reports" ] || printf 'fuzz.sh reports:\n%s' "$reports" >&2
exit "$fail"
