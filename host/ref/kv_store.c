/*
 * kv_store.c - reference KV-cache append (ring of cap slots).
 */
#include <string.h>

#include "ref/ref_internal.h"

/* for t < n_new[b], t >= n_new[b] - cap: cache[b, (pos0[b]+t) % cap, :] = src[b*T+t, :]
 * (only the last cap new rows can survive, so earlier ones are skipped) */
swacl_status swacl_ref_kv_store(swacl_backend *be, swacl_buf *cache, const swacl_buf *src, int B,
                                int T, int cap, int width, const int *pos0, const int *n_new,
                                int f16)
{
    SWACL_FAIL_IF(be->ctx, B < 0 || T < 0 || cap <= 0 || width <= 0, SWACL_INVALID_ARG,
                  "ref kv_store: bad shape B=%d T=%d cap=%d width=%d", B, T, cap, width);
    SWACL_FAIL_IF(be->ctx, B > 0 && (!pos0 || !n_new), SWACL_INVALID_ARG,
                  "ref kv_store: pos0 / n_new is NULL");
    const size_t nc = (size_t)B * cap * width; /* f16: 2-byte values */
    SWACL_TRY(swacl_ref_need(be, "kv_store", "cache", cache, f16 ? (nc + 1) / 2 : nc));
    SWACL_TRY(swacl_ref_need(be, "kv_store", "src", src, (size_t)B * T * width));
    for (int b = 0; b < B; b++)
        SWACL_FAIL_IF(be->ctx, pos0[b] < 0 || n_new[b] < 0 || n_new[b] > T, SWACL_INVALID_ARG,
                      "ref kv_store: sequence %d has pos0=%d n_new=%d (T=%d)", b, pos0[b], n_new[b],
                      T);
    for (int b = 0; b < B; b++) {
        int t0 = n_new[b] - cap > 0 ? n_new[b] - cap : 0;
        for (int t = t0; t < n_new[b]; t++) {
            size_t slot = (size_t)((pos0[b] + t) % cap);
            const float *row = fdata(src) + ((size_t)b * T + t) * width;
            if (f16) /* round to nearest even, as vstore_half */
                swacl_row_encode(SWACL_WT_F16, row, (uint16_t *)(void *)cache->data + ((size_t)b * cap + slot) * width,
                                 width);
            else
                memcpy(fdata(cache) + ((size_t)b * cap + slot) * width, row, (size_t)width * sizeof(float));
        }
    }
    return SWACL_OK;
}
