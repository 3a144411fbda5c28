#!/bin/sh
# nonfinite.sh SWACL FIXTURE_DIR WORKDIR
#
# Non-finite weights (issue 14): a copy of a fixture model with its last
# weight value overwritten by NaN bytes (0xFFFFFFFF: NaN in F32, and two
# NaNs in F16/BF16) must be refused by `run` and `generate` with a message
# naming the tensor; with --allow-nonfinite it loads, and the verification
# fails naming the non-finite values instead of an nmse line.
set -u
SWACL=$1 FIX=$2 WORK=$3
rm -rf "$WORK" && mkdir -p "$WORK" && cp -R "$FIX" "$WORK/m" || exit 1
f=$WORK/m/model.safetensors
size=$(wc -c <"$f")
printf '\377\377\377\377' | dd of="$f" bs=1 seek=$((size - 4)) conv=notrunc 2>/dev/null || exit 1
: "${SWACL_CACHE_DIR:=$WORK/cache}"
export SWACL_CACHE_DIR
fail=0
# expect RC REGEX args...: exit code RC and stderr matching REGEX
expect() {
    want=$1 re=$2
    shift 2
    "$SWACL" "$@" >"$WORK/out" 2>"$WORK/err"
    rc=$?
    if [ $rc -ne "$want" ] || ! grep -Eq "$re" "$WORK/err"; then
        echo "FAIL swacl $*: exit $rc (want $want), stderr:"; cat "$WORK/err"; fail=1
    else
        echo "ok   swacl $*: exit $rc: $(grep -E "$re" "$WORK/err" | head -1)"
    fi
}
named="tensor 'model\.norm\.weight' has a non-finite value \(NaN\) at index 62"
counted="verification failed: [0-9]+ non-finite values in the device output"
expect 2 "$named" run --model "$WORK/m" --seq 8 -q
expect 2 "$named" generate --model "$WORK/m" --prompt-len 4 --max-new 2 -q
expect 3 "$counted" run --model "$WORK/m" --seq 8 -q --allow-nonfinite
expect 3 "$counted" generate --model "$WORK/m" --prompt-len 4 --max-new 2 -q --allow-nonfinite --verify
exit $fail
