/* calib_file.c - the calibration cache (sched-calib.json) as text: parse and
 * per-key lookup with its validation, apart from placement.c so that
 * tests/fuzz/fuzz_calib.c links it without the model, graph or backends.
 * Any rejection only costs a re-calibration. */
#include <math.h>
#include <cjson/cJSON.h>
#include <stddef.h>

#include "common/file.h"
#include "sched/sched.h"

cJSON *sched_calib_parse(const char *text, size_t n)
{
    cJSON *j = text && n > 0 ? cJSON_ParseWithLength(text, n) : NULL;
    if (j && (swacl_json_last_wins(j) != 0 || !cJSON_IsObject(j))) {
        cJSON_Delete(j);
        j = NULL;
    }
    return j;
}

/* A cached time is usable when finite, positive (>= 0 for transfers, 0 =
 * no device copy) and under a day; anything else (hand edits, 1e300, -1)
 * is measured again instead of feeding absurd costs to the placement. */
static int calib_time_ok(const cJSON *v, int zero_ok)
{
    if (!cJSON_IsNumber(v)) return 0;
    double t = v->valuedouble;
    return isfinite(t) && (zero_ok ? t >= 0 : t > 0) && t < 86400.0;
}

int sched_calib_entry(const cJSON *j, const char *key, sched_calib *cal)
{
    const cJSON *e = j && key ? cJSON_GetObjectItemCaseSensitive(j, key) : NULL;
    const cJSON *a = e ? cJSON_GetObjectItemCaseSensitive(e, "window_s") : NULL;
    const cJSON *b = e ? cJSON_GetObjectItemCaseSensitive(e, "global_s") : NULL;
    const cJSON *xh = e ? cJSON_GetObjectItemCaseSensitive(e, "xfer_host_s") : NULL;
    const cJSON *xc = e ? cJSON_GetObjectItemCaseSensitive(e, "xfer_copy_s") : NULL;
    if (!(calib_time_ok(a, 0) && calib_time_ok(b, 0) && calib_time_ok(xh, 1) &&
          calib_time_ok(xc, 1)))
        return -1;
    cal->window_s = a->valuedouble;
    cal->global_s = b->valuedouble;
    cal->xfer_host_s = xh->valuedouble;
    cal->xfer_copy_s = xc->valuedouble;
    return 0;
}
