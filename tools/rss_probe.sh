#!/usr/bin/env bash
# tools/rss_probe.sh - where a command's peak RSS goes (issue 11's memory bar).
#
#   tools/rss_probe.sh OUT_PREFIX COMMAND [ARGS...]
#   e.g. tools/rss_probe.sh /tmp/f32 ./build/swacl generate \
#            --model c168-f32.gguf --prompt-len 8192 --max-new 64 --json -q
#
# Runs COMMAND (stdout to OUT_PREFIX.json, stderr to OUT_PREFIX.err), samples
# /proc/PID/status every 0.2 s and keeps /proc/PID/smaps of the sample with
# the largest VmRSS; then prints that sample (VmHWM, VmRSS, RssAnon, RssFile,
# KiB) and the resident MiB per mapping name at it ([anon]: mmap'd
# allocations, e.g. weights and device buffers; [heap]: brk malloc arena;
# file names: the libraries' touched pages and mapped weight files).
# Linux only; the peak between two samples is in VmHWM, not in the breakdown.
set -u
out=$1
shift
"$@" >"$out.json" 2>"$out.err" &
pid=$!
best=0
line=""
while kill -0 "$pid" 2>/dev/null; do
    s=$(awk '/^(VmRSS|RssAnon|RssFile|VmHWM):/{printf "%s %s ", $1, $2}' "/proc/$pid/status" 2>/dev/null)
    r=$(echo "$s" | sed -n 's/.*VmRSS: \([0-9]*\).*/\1/p')
    if [ -n "$r" ] && [ "$r" -gt "$best" ]; then
        best=$r
        line=$s
        cp "/proc/$pid/smaps" "$out.smaps" 2>/dev/null
    fi
    sleep 0.2
done
wait "$pid"
rc=$?
echo "rc=$rc $line" | tee "$out.peak"
awk '/^[0-9a-f]+-[0-9a-f]+ /{n = NF >= 6 ? $6 : "[anon]"; sub(/.*\//, "", n)}
     /^Rss:/{rss[n] += $2; tot += $2}
     END{for (n in rss) if (rss[n] >= 1024) printf "%9.1f MiB  %s\n", rss[n] / 1024, n;
         printf "%9.1f MiB  total\n", tot / 1024}' "$out.smaps" | sort -rn
exit $rc
