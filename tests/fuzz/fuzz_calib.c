/*
 * fuzz_calib.c - libFuzzer target for the placement calibration cache
 * (sched-calib.json; host/sched/calib_file.c): parse with last-wins
 * duplicate keys, then the validated lookup of every entry and of a fixed
 * key; what an entry lookup accepts must hold its own invariants and be
 * found again after a write/re-parse round trip. Build and run: tools/fuzz.sh.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sched/sched.h"

static int near(double a, double b)
{
    double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return fabs(a - b) <= 8 * DBL_EPSILON * m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *j = sched_calib_parse((const char *)data, size);
    if (!j) return 0;
    if (!cJSON_IsObject(j)) abort();
    sched_calib cal;
    (void)sched_calib_entry(j, "cpu-reference|D256 H4 Hkv4 d64 F1024 ffn1|w1:128:0|g1:128:0|T64",
                            &cal);
    (void)sched_calib_entry(j, "", &cal);
    char *text = cJSON_PrintUnformatted(j);
    cJSON *back = text ? sched_calib_parse(text, strlen(text)) : NULL;
    for (const cJSON *e = j->child; e; e = e->next) {
        if (!e->string) abort();
        if (sched_calib_entry(j, e->string, &cal) != 0) continue;
        if (!(cal.window_s > 0 && cal.global_s > 0 && cal.xfer_host_s >= 0 &&
              cal.xfer_copy_s >= 0))
            abort();
        sched_calib again;
        /* cJSON prints a number it cannot write back (Inf) as null: skip those */
        if (back && sched_calib_entry(back, e->string, &again) != 0 &&
            cal.window_s < 1e308 && cal.global_s < 1e308 && cal.xfer_host_s < 1e308 &&
            cal.xfer_copy_s < 1e308)
            abort();
        /* cJSON prints 15 digits when they read back within a few ulp */
        if (back && sched_calib_entry(back, e->string, &again) == 0 &&
            (!near(again.window_s, cal.window_s) || !near(again.global_s, cal.global_s) ||
             !near(again.xfer_host_s, cal.xfer_host_s) || !near(again.xfer_copy_s, cal.xfer_copy_s)))
            abort();
    }
    cJSON_Delete(back);
    free(text);
    cJSON_Delete(j);
    return 0;
}
