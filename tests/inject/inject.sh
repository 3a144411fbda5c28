#!/bin/sh
# inject.sh SWACL KERNELS_CL WORKDIR [SEQ]
#
# The default verification must catch a 0.1% error in any single kernel
# (issue 14): for each kernel, a copy of kernels_cl/ with that kernel's
# output scaled by 1.001 (one sed edit, marked INJECTED) is loaded through
# SWACL_KERNEL_DIR, and `swacl run` must exit 3 on every preset that
# exercises the kernel. A kernel a preset does not exercise leaves the
# device output bit-identical to the clean run (same max_abs_err and nmse):
# that pair is reported as "not exercised" and skipped. The clean kernels
# must pass the same runs. matmul: CLBlast does the big GEMMs; swacl's own
# matmul kernels are gemv (M <= 8: the head at the last position, decode)
# and bias_rows, and those are what is injected.
set -u
SWACL=$1 SRC=$2 WORK=$3 SEQ=${4:-48}
# INJECT_PRESETS: a subset (the sanitizer build's ctest sets two)
PRESETS=${INJECT_PRESETS:-"rnope-swa swan cohere2 irope irope-llama4 baseline"}
rm -rf "$WORK" && mkdir -p "$WORK" || exit 1
: "${SWACL_CACHE_DIR:=$WORK/cache}"
export SWACL_CACHE_DIR

# name file sed-expression
cat > "$WORK/cases" <<'CASES'
swiglu act.cl s|((g) / (1.0f + exp(-(g))) \* (u))|((g) / (1.0f + exp(-(g))) * (u) * 1.001f) /* INJECTED */|
gelu act.cl s|(1.0f + erf((g) \* 0.70710678118654752f)))|(1.0f + erf((g) * 0.70710678118654752f)) * 1.001f) /* INJECTED */|
norm norm.cl s|yr\[i\] = o;|yr[i] = o * 1.001f; /* INJECTED */|
rope rope.cl s|\*c = cos(r);|*c = cos(r) * 1.001f; /* INJECTED */|
attention attn.cl s|\(const float inv = \)1.0f / \(.*\);|\11.001f / \2; /* INJECTED */|
gemv matmul.cl s|\*yo = accumulate ? \*yo + s : s;|*yo = (accumulate ? *yo + s : s) * 1.001f; /* INJECTED */|
bias matmul.cl s|if (mode) \*yp += bv;|if (mode) *yp = (*yp + bv) * 1.001f; /* INJECTED */|
gather embed.cl s|= src\[(size_t)idx\[i\] \* width + c\];|= src[(size_t)idx[i] * width + c] * (c % 2 ? 1.0f : 1.001f); /* INJECTED */|
add add.cl s|y\[i\] += x\[i\];|y[i] = (y[i] + x[i]) * 1.001f; /* INJECTED */|
scale scale.cl s|y\[i\] \*= s;|y[i] *= s * 1.001f; /* INJECTED */|
kv_store kv_store.cl s|= src\[((size_t)b \* T + t) \* width + c\];|= src[((size_t)b * T + t) * width + c] * 1.001f; /* INJECTED */|
CASES

fail=0
field() { sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p" "$2"; }
run() { # dir preset out -> exit status of swacl run
    SWACL_KERNEL_DIR=$1 "$SWACL" run --preset "$2" --seq "$SEQ" --json -q >"$3" 2>"$3.err"
}
for p in $PRESETS; do
    run "$SRC" "$p" "$WORK/clean-$p.json"
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "FAIL clean kernels, $p: exit $rc"; cat "$WORK/clean-$p.json.err"; fail=1
    else
        echo "ok   clean kernels, $p: bound_ratio $(field bound_ratio "$WORK/clean-$p.json")"
    fi
done
while read -r name file expr; do
    d=$WORK/k-$name
    cp -R "$SRC" "$d" || exit 1
    sed "$expr" "$SRC/$file" >"$d/$file" || exit 1
    if ! grep -q INJECTED "$d/$file"; then
        echo "FAIL $name: the edit did not apply to $file (kernel source changed?)"; fail=1; continue
    fi
    for p in $PRESETS; do
        o=$WORK/$name-$p.json
        run "$d" "$p" "$o"
        rc=$?
        c=$WORK/clean-$p.json
        if [ $rc -eq 0 ] && [ "$(field max_abs_err "$o")" = "$(field max_abs_err "$c")" ] &&
            [ "$(field nmse "$o")" = "$(field nmse "$c")" ]; then
            echo "skip $name, $p: not exercised (output identical to the clean run)"
        elif [ $rc -eq 3 ]; then
            echo "ok   $name, $p: caught, bound_ratio $(field bound_ratio "$o") nmse $(field nmse "$o")"
        else
            echo "FAIL $name, $p: exit $rc, bound_ratio $(field bound_ratio "$o") nmse $(field nmse "$o")"
            cat "$o.err"; fail=1
        fi
    done
done <"$WORK/cases"
exit $fail
