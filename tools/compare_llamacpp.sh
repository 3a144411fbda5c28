#!/usr/bin/env bash
# tools/compare_llamacpp.sh - decode tokens/s of llama.cpp (CPU) and swacl on
# the same GGUF file, after a 512-token prompt (issue 11).
#
#   tools/compare_llamacpp.sh LLAMA_BUILD_DIR FILE.gguf [FILE.gguf ...]
#   tools/compare_llamacpp.sh --make-model LLAMA_CPP_SRC OUT_DIR
#
# The first form runs, per file, `llama-bench -p 0 -n NEW -d 512 -r 1` (decode
# of NEW tokens at depth 512: the KV cache holds a 512-token prompt) and
# `swacl generate --prompt-len 512 --max-new NEW --json` (the default device;
# set SWACL_DEVICE to pick another), the two back to back, in ROUNDS rounds
# (default 3) over all files: llama.cpp's spinning thread pool collapses
# when the machine is oversubscribed, so single runs swing several-fold and
# only figures from the same minutes compare. Each round prints a line per
# file (UTC time, 1-minute load average, both tok/s); then one markdown
# table row per file: type, best and median tok/s of each, and the ratios
# best/best and median/median. THREADS (default: nproc) goes to both; NEW
# defaults to 64.
#
# --make-model writes a random Llama (D 512, 8 layers, 8 heads / 4 KV heads,
# F 1536, V 4096; transformers, BF16) to OUT_DIR/hf and converts it with
# LLAMA_CPP_SRC/convert_hf_to_gguf.py to OUT_DIR/bench-{f32,f16,bf16,q8_0}.gguf
# (needs /work/venv-style python with torch, transformers, sentencepiece).
#
# llama.cpp comes from the llama-cpp-python sdist, which vendors its source:
#   pip download --no-deps --no-binary :all: llama-cpp-python
#   tar xzf llama_cpp_python-*.tar.gz -C .peer
#   cmake -S .peer/llama_cpp_python-*/vendor/llama.cpp -B .peer/llama-build \
#         -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DGGML_OPENMP=OFF
#   cmake --build .peer/llama-build --target llama-bench
# Nothing of llama.cpp is committed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-/work/venv/bin/python}"

if [ "${1:-}" = "--make-model" ]; then
    SRC="$(cd "$2" && pwd)"
    OUT="$3"
    mkdir -p "$OUT/hf"
    ROOT="$ROOT" "$PY" - "$OUT/hf" <<'EOF'
import os, sys, torch
from transformers import LlamaConfig, AutoModelForCausalLM
sys.path.insert(0, os.path.join(os.environ.get("ROOT", "."), "tools"))
out = sys.argv[1]
cfg = LlamaConfig(vocab_size=4096, hidden_size=512, intermediate_size=1536, num_hidden_layers=8,
                  num_attention_heads=8, num_key_value_heads=4, max_position_embeddings=4096,
                  tie_word_embeddings=False)
torch.manual_seed(0)
m = AutoModelForCausalLM.from_config(cfg).to(torch.bfloat16)
with torch.no_grad():
    for n, p in m.named_parameters():
        if "norm" not in n:
            p.copy_((torch.randn(p.shape) / p.shape[-1] ** 0.5).to(torch.bfloat16))
m.save_pretrained(out, safe_serialization=True)
from make_gguf_fixtures import make_tokenizer
make_tokenizer(out, 100)
EOF
    for t in f32 f16 bf16 q8_0; do
        "$PY" "$SRC/convert_hf_to_gguf.py" "$OUT/hf" --outtype "$t" \
            --outfile "$OUT/bench-$t.gguf" >/dev/null 2>&1
        echo "wrote $OUT/bench-$t.gguf"
    done
    exit 0
fi

BUILD="$1"
shift
BENCH="$BUILD/bin/llama-bench"
SWACL="${SWACL:-$ROOT/build/swacl}"
[ -x "$BENCH" ] || { echo "compare_llamacpp.sh: no $BENCH" >&2; exit 2; }
[ -x "$SWACL" ] || { echo "compare_llamacpp.sh: no $SWACL (build swacl first)" >&2; exit 2; }
THREADS="${THREADS:-$(nproc)}"
NEW="${NEW:-64}"
ROUNDS="${ROUNDS:-3}"
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
dev=()
[ -n "${SWACL_DEVICE:-}" ] && dev=(--device "$SWACL_DEVICE")
for ((r = 1; r <= ROUNDS; r++)); do
    for f in "$@"; do
        when="$(date -u +%H:%M:%S)"
        load="$(cut -d' ' -f1 /proc/loadavg)"
        lc=$("$BENCH" -m "$f" -p 0 -n "$NEW" -d 512 -t "$THREADS" -r 1 -o json 2>/dev/null |
            "$PY" -c 'import json,sys; r=json.load(sys.stdin); print("%.2f" % r[0]["avg_ts"])')
        sw=$("$SWACL" generate --model "$f" --prompt-len 512 --max-new "$NEW" --threads "$THREADS" \
            "${dev[@]}" --json 2>/dev/null |
            "$PY" -c 'import json,sys; print("%.2f" % json.load(sys.stdin)["decode_tokens_per_s"])')
        echo "round $r $when load $load $(basename "$f") llama.cpp $lc swacl $sw"
        echo "$(basename "$f") $lc $sw" >>"$LOG"
    done
done
"$PY" - "$LOG" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f, lc, sw = line.split()
    rows.setdefault(f, []).append((float(lc), float(sw)))
print("| file | llama.cpp tok/s best / median | swacl tok/s best / median "
      "| swacl / llama.cpp (best, median) |")
print("|---|---|---|---|")
for f, v in rows.items():
    lc = [a for a, _ in v]
    sw = [b for _, b in v]
    lb, lm, sb, sm = max(lc), statistics.median(lc), max(sw), statistics.median(sw)
    print("| %s | %.1f / %.1f | %.1f / %.1f | %.2f, %.2f |" % (f, lb, lm, sb, sm, sb / lb, sm / lm))
EOF
