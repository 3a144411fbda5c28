#!/bin/sh
# start_warm.sh - warm start (issue 12.4): wall seconds of one whole process,
# `swacl run --model DIR --seq 64` with the default reference check and with
# --no-verify, for swacl builds A and B, and llama.cpp's llama-bench (64-token
# prompt, no warmup, -t 2) on the f32 GGUF of the same weights, interleaved
# round by round. Every cache is filled by a first, untimed round (program
# cache in SWACL_CACHE_DIR per build, PoCL's cache, the file pages).
#   bench/start_warm.sh HF_DIR GGUF ROUNDS SWACL_A SWACL_B LLAMA_BIN_DIR
# Prints "who seconds" per measurement (reference seconds in brackets for the
# checked runs); take best / median per who.
set -u
dir=$1 gguf=$2 rounds=$3 a=$4 b=$5 lb=$6
tmp=${TMPDIR:-/tmp}/start_warm.$$
wall() { # wall seconds of "$@" (its stdout kept in $tmp)
  t0=$(date +%s.%N); "$@" >"$tmp" 2>/dev/null; t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}
for r in $(seq 0 "$rounds"); do
  for who in A A-noverify B B-noverify llama; do
    case $who in
      A*) bin=$a ;; B*) bin=$b ;;
    esac
    case $who in
      llama) s=$(wall "$lb/llama-bench" -m "$gguf" -p 64 -n 0 -t 2 -r 1 --no-warmup) ;;
      *-noverify) s=$(SWACL_CACHE_DIR=${TMPDIR:-/tmp}/start-cache-${who%-*} wall "$bin" run \
                      --model "$dir" --seq 64 --no-verify --json) ;;
      *) s=$(SWACL_CACHE_DIR=${TMPDIR:-/tmp}/start-cache-$who wall "$bin" run --model "$dir" \
                      --seq 64 --json) ;;
    esac
    [ "$r" = 0 ] && continue # the round that fills the caches
    ref=$(grep -o '"ref_seconds":[0-9.e-]*' "$tmp" | cut -d: -f2)
    echo "$who $s${ref:+ [ref $ref]}"
  done
done
rm -f "$tmp"
