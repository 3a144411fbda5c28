/*
 * compare.c - swacl_compare: the one output-vs-reference comparison (tests,
 * verification in the CLI, benchmarks).
 */
#include <math.h>

#include "swacl.h"

swacl_compare_result swacl_compare(const float *a, const float *ref, size_t n, double atol,
                                   double rtol)
{
    swacl_compare_result c = {0.0, 0, 0.0, 0, 0};
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        double x = a[i], r = ref[i];
        if (!isfinite(x) || !isfinite(r)) {
            c.nonfinite++;
            continue;
        }
        double e = fabs(x - r);
        num += e * e;
        den += r * r;
        if (e > c.max_abs_err) {
            c.max_abs_err = e;
            c.worst = i;
        }
        if (e > atol + rtol * fabs(r)) c.n_bad++;
    }
    /* all-zero reference: the plain error energy, so any error shows */
    c.nmse = den > 0.0 ? num / den : num;
    return c;
}
