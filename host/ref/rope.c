/*
 * rope.c - reference rotary position embedding (angles in double).
 */
#include <math.h>

#include "ref/ref_internal.h"

/* rope, in place on x [B*T, nh*d]; row b*T+t at position p = pos0[b] + t.   */
/* a_i = p * inv_freq_i (double), i < rot/2.                                 */
/*   PAIR: (x[2i], x[2i+1]);  HALF: (x[i], x[i+rot/2]); each pair (u, v) ->  */
/*   (u cos a - v sin a, v cos a + u sin a) * mscale; lanes >= rot untouched */

swacl_status swacl_ref_rope(swacl_backend *be, swacl_buf *x, int B, int T, int nh, int d,
                            const int *pos0, const swacl_rope_args *r)
{
    SWACL_FAIL_IF(be->ctx, !r, SWACL_INVALID_ARG, "ref rope: no arguments");
    if (r->layout == SWACL_POS_NONE) return SWACL_OK; /* NoPE */
    SWACL_FAIL_IF(be->ctx, r->layout != SWACL_POS_ROPE_PAIR && r->layout != SWACL_POS_ROPE_HALF,
                  SWACL_INVALID_ARG, "ref rope: unknown layout %d", (int)r->layout);
    SWACL_FAIL_IF(be->ctx, B < 0 || T < 0 || nh <= 0 || d <= 0 || d % 2, SWACL_INVALID_ARG,
                  "ref rope: bad shape B=%d T=%d nh=%d d=%d (d must be even)", B, T, nh, d);
    SWACL_FAIL_IF(be->ctx, r->rot < 2 || r->rot > d || r->rot % 2 || !r->inv_freq, SWACL_INVALID_ARG,
                  "ref rope: rotated lanes %d must be even and in 2..%d, with a frequency table",
                  r->rot, d);
    SWACL_FAIL_IF(be->ctx, B > 0 && !pos0, SWACL_INVALID_ARG, "ref rope: pos0 is NULL");
    SWACL_TRY(swacl_ref_need(be, "rope", "x", x, (size_t)B * T * nh * d));

    float *X = fdata(x);
    const int half = r->rot / 2, pair = r->layout == SWACL_POS_ROPE_PAIR;
    const double ms = r->mscale;
    const size_t width = (size_t)nh * d;
    /* small ones serially (a barrier outweighs them; see norm.c) */
#pragma omp parallel for collapse(2) schedule(static) num_threads(nthreads(be)) \
    if ((size_t)B * (size_t)T * width > ((size_t)1 << 18))
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < T; t++) {
            const double p = (double)pos0[b] + t;
            float *row = X + ((size_t)b * T + t) * width;
            for (int i = 0; i < half; i++) {
                /* one angle per frequency, shared by every head of the row */
                double a = p * r->inv_freq[i], c = cos(a) * ms, s = sin(a) * ms;
                /* lanes of the pair: adjacent (PAIR) or half the rotated span apart (HALF) */
                int i0 = pair ? 2 * i : i;
                int i1 = pair ? 2 * i + 1 : i + half;
                for (int h = 0; h < nh; h++) {
                    float *xh = row + (size_t)h * d;
                    double u = xh[i0], v = xh[i1];
                    xh[i0] = (float)(u * c - v * s);
                    xh[i1] = (float)(v * c + u * s);
                }
            }
        }
    }
    return SWACL_OK;
}
