/*
 * compare.c - swacl_compare: an output against its reference, the one
 * comparison the CLI and tools use (see swacl.h).
 */
#include <math.h>

#include "internal.h"

swacl_compare_result swacl_compare(const float *a, const float *ref, size_t n, double atol,
                                   double rtol)
{
    swacl_compare_result c = {0, 0, 0, 0, 0};
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double x = a[i], y = ref[i];
        if (!isfinite(x) || !isfinite(y)) { /* counted, kept out of the sums */
            c.nonfinite++;
            continue;
        }
        double e = fabs(x - y);
        if (e > c.max_abs_err) {
            c.max_abs_err = e;
            c.worst = i;
        }
        if (e > atol + rtol * fabs(y)) c.n_bad++;
        num += e * e;
        den += y * y;
    }
    c.nmse = den > 0 ? num / den : num;
    return c;
}
