#!/usr/bin/env bash
# bench_mpi.sh - the layer pipeline across MPI ranks vs one process (issue 16,
# bench/README.md): a batch-8 prefill, 1 rank x 1 core (one PoCL sub-device)
# vs 2 ranks x 1 core (a sub-device each), interleaved over ROUNDS rounds,
# plus one process over both sub-devices (device-copy link) for context.
#
#   tools/bench_mpi.sh [BUILD_DIR] [ROUNDS]     (defaults: build 3)
#   PRESET=cohere2 BATCH=8 SEQ=256 tools/bench_mpi.sh
#   MB="2 8" tools/bench_mpi.sh build 0          (only the bench part)
#
# Prints one line per run: seconds per forward (mean of 3 after 1 warm-up)
# and, for the pipelines, per stage busy_s and transfer_s per forward.
# Then, for each micro-batch count in MB (default "2 8"), `swacl bench
# --pipeline-only` under mpirun: the 2-rank pipeline and each sub-device
# alone on rank 0, interleaved in one run (best of 3), with each rank's
# busy / transfer seconds per forward and its transfer share.
set -euo pipefail
BUILD="${1:-build}"
ROUNDS="${2:-3}"
PRESET="${PRESET:-cohere2}" BATCH="${BATCH:-8}" SEQ="${SEQ:-256}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
SW="$BUILD/swacl"
COMMON=(run --preset "$PRESET" --batch "$BATCH" --seq "$SEQ" --warmup 1 --iters 3 --no-verify --json -q)
show() { # label, JSON on stdin
    python3 -c '
import json, sys
j = json.load(sys.stdin); n = j["iters"] + 1
st = " ".join("[%s layers %d-%d busy %.3f s xfer %.3f s]" % (s["selector"], s["layers"][0], s["layers"][1],
              s["busy_s"] / n, s.get("transfer_s", 0) / n) for s in j.get("placement", []))
print("%-22s %.3f s/forward %8.0f tok/s %s" % (sys.argv[1], j["seconds"], j["tokens_per_s"], st))' "$1"
}
# the MPI hop (placement auto, verbose): one 64-row and one 1024-row x
mpirun --oversubscribe -np 2 "$SW" run --preset "$PRESET" --batch 2 --seq 16 --devices 0:0.0,1:0.1 \
    --no-verify -v -q 2>&1 | grep "mpi: hop" || true
for r in $(seq "$ROUNDS"); do
    echo "round $r"
    "$SW" "${COMMON[@]}" --device 0.0 | show "1 rank x 1 core"
    mpirun --oversubscribe -np 2 "$SW" "${COMMON[@]}" --devices 0:0.0,1:0.1 --placement 0-3:0,4-7:1 \
        | show "2 ranks x 1 core"
    "$SW" "${COMMON[@]}" --devices 0.0,0.1 --placement 0-3:0,4-7:1 | show "1 rank, 2 sub-devices"
done
for mb in ${MB:-2 8}; do
    mpirun --oversubscribe -np 2 "$SW" bench --devices 0:0.0,1:0.1 --placement 0-3:0,4-7:1 --pipeline-only \
        --batch "$BATCH" --max-seq "$SEQ" --micro-batches "$mb" --json -q | python3 -c '
import json, sys
p = json.load(sys.stdin)["pipeline"]; one = p["single"][0]["tokens_per_s"]
print("bench, %d micro-batches: 2 ranks %.0f tok/s, 1 rank x 1 core (%s alone) %.0f tok/s: %.2fx, nmse %g" % (
      p["micro_batches"], p["tokens_per_s"], p["single"][0]["selector"], one, p["tokens_per_s"] / one, p["nmse"]))
for r in p["ranks"]:
    print("  rank %d layers %d-%d: busy %.3f s, transfer %.3f s per forward (transfer share %.1f%%)" % (
          r["rank"], r["layer_begin"], r["layer_end"] - 1, r["busy_s"], r["transfer_s"], 100 * r["transfer_share"]))'
done
