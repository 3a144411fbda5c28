/*
 * rope.c - reference rotary position embedding (angles in double).
 */
#include <math.h>

#include "ref/ref_internal.h"

/* rope, in place on x [B*T, nh*d]; row b*T+t at position p = pos0[b] + t.   */
/* inv_freq_i = theta^(-2i/d), a_i = p * inv_freq_i (double), i < d/2.       */
/*   PAIR: (x[2i], x[2i+1]);  HALF: (x[i], x[i+d/2]); each pair (u, v) ->    */
/*   (u cos a - v sin a, v cos a + u sin a)                                  */

swacl_status swacl_ref_rope(swacl_backend *be, swacl_buf *x, int B, int T, int nh, int d,
                            const int *pos0, swacl_pos layout, float theta)
{
    if (layout == SWACL_POS_NONE) return SWACL_OK; /* NoPE */
    SWACL_FAIL_IF(be->ctx, layout != SWACL_POS_ROPE_PAIR && layout != SWACL_POS_ROPE_HALF,
                  SWACL_INVALID_ARG, "ref rope: unknown layout %d", (int)layout);
    SWACL_FAIL_IF(be->ctx, B < 0 || T < 0 || nh <= 0 || d <= 0 || d % 2, SWACL_INVALID_ARG,
                  "ref rope: bad shape B=%d T=%d nh=%d d=%d (d must be even)", B, T, nh, d);
    SWACL_FAIL_IF(be->ctx, !(theta > 0), SWACL_INVALID_ARG, "ref rope: theta must be > 0 (got %g)",
                  (double)theta);
    SWACL_FAIL_IF(be->ctx, B > 0 && !pos0, SWACL_INVALID_ARG, "ref rope: pos0 is NULL");
    SWACL_TRY(swacl_ref_need(be, "rope", "x", x, (size_t)B * T * nh * d));

    float *X = fdata(x);
    const int half = d / 2;
    const size_t width = (size_t)nh * d;
#pragma omp parallel for collapse(2) schedule(static) num_threads(nthreads(be))
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < T; t++) {
            const double p = (double)pos0[b] + t;
            float *row = X + ((size_t)b * T + t) * width;
            for (int i = 0; i < half; i++) {
                /* one angle per frequency, shared by every head of the row */
                double inv_freq = pow((double)theta, -2.0 * i / d);
                double a = p * inv_freq, c = cos(a), s = sin(a);
                /* lanes of the pair: adjacent (PAIR) or half a head apart (HALF) */
                int i0 = layout == SWACL_POS_ROPE_PAIR ? 2 * i : i;
                int i1 = layout == SWACL_POS_ROPE_PAIR ? 2 * i + 1 : i + half;
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
