/*
 * norm.c - reference RMSNorm / LayerNorm per row, double statistics.
 */
#include <math.h>

#include "ref/ref_internal.h"

/* norm, per row of n:                                                       */
/*   RMS:   y = w * x / sqrt(mean(x^2) + eps)                               */
/*   LAYER: y = w * (x - mu) / sqrt(var + eps) + b   (biased variance)       */

swacl_status swacl_ref_norm(swacl_backend *be, swacl_norm kind, swacl_buf *y, const swacl_buf *x,
                            const swacl_buf *w, const swacl_buf *b, int rows, int n, float eps)
{
    SWACL_FAIL_IF(be->ctx, rows < 0 || n <= 0, SWACL_INVALID_ARG,
                  "ref norm: bad shape rows=%d n=%d", rows, n);
    SWACL_FAIL_IF(be->ctx,
                  kind != SWACL_NORM_RMS && kind != SWACL_NORM_LAYER &&
                      kind != SWACL_NORM_LAYER_NOBIAS,
                  SWACL_INVALID_ARG, "ref norm: unknown kind %d", (int)kind);
    SWACL_TRY(swacl_ref_need(be, "norm", "y", y, (size_t)rows * n));
    SWACL_TRY(swacl_ref_need(be, "norm", "x", x, (size_t)rows * n));
    if (w) SWACL_TRY(swacl_ref_need(be, "norm", "w", w, (size_t)n));
    if (b) SWACL_TRY(swacl_ref_need(be, "norm", "b", b, (size_t)n));
    SWACL_FAIL_IF(be->ctx, b && kind == SWACL_NORM_RMS, SWACL_INVALID_ARG,
                  "ref norm: RMS norm takes no bias");

    float *Y = fdata(y);
    const float *X = fdata(x);
    const float *Wg = w ? fdata(w) : NULL;
    const float *Bb = (b && kind == SWACL_NORM_LAYER) ? fdata(b) : NULL;
    const int layer = kind != SWACL_NORM_RMS;
    /* small norms serially: a parallel region's barrier costs more than the
     * work when the other thread is descheduled (shared machines) */
#pragma omp parallel for schedule(static) num_threads(nthreads(be)) \
    if ((size_t)rows * (size_t)n > ((size_t)1 << 18))
    for (int r = 0; r < rows; r++) {
        const float *xr = X + (size_t)r * n;
        float *yr = Y + (size_t)r * n; /* may equal xr: stats are read first */
        /* mean (LayerNorm only; RMS norm does not centre) */
        double mu = 0;
        if (layer) {
            for (int i = 0; i < n; i++) mu += xr[i];
            mu /= n;
        }
        /* mean of squares of the (centred) values: var or mean(x^2) */
        double ss = 0;
        for (int i = 0; i < n; i++) {
            double c = (double)xr[i] - mu;
            ss += c * c;
        }
        double rstd = 1.0 / sqrt(ss / n + (double)eps);
        /* normalise, scale, shift */
        for (int i = 0; i < n; i++) {
            double v = ((double)xr[i] - mu) * rstd;
            if (Wg) v *= Wg[i];
            if (Bb) v += Bb[i];
            yr[i] = (float)v;
        }
    }
    return SWACL_OK;
}
