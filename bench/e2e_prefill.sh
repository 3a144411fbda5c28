#!/bin/sh
# e2e_prefill.sh - prefill tok/s of a GGUF model: swacl builds A and B (e.g.
# before / after a change) and llama.cpp's llama-bench, interleaved round by
# round (issue 12). Usage:
#   bench/e2e_prefill.sh MODEL "512 2048" ROUNDS SWACL_A SWACL_B LLAMA_BIN_DIR
# Prints one line per measurement: who seq tok/s. Take the best per (who, seq):
# the machine is shared and a loaded round only ever reads slow.
set -u
model=$1 seqs=$2 rounds=$3 a=$4 b=$5 lb=$6
for r in $(seq 1 "$rounds"); do
  for s in $seqs; do
    for who in A B; do
      bin=$a; [ $who = B ] && bin=$b
      SWACL_CACHE_DIR=${TMPDIR:-/tmp}/e2e-cache-$who "$bin" run --model "$model" --seq "$s" \
        --no-verify --warmup 1 --iters 1 --json -q 2>/dev/null |
        python3 -c "import json,sys; d=json.load(sys.stdin); print('$who', $s, round(d['tokens_per_s'],1))" ||
        echo "$who $s failed"
    done
    "$lb/llama-bench" -m "$model" -p "$s" -n 0 -t 2 -r 1 -o csv 2>/dev/null |
      awk -F, -v s="$s" 'NR>1 {gsub(/"/,""); print "llama", s, $(NF-1)}'
  done
done
