/*
 * rope_freq.c - RoPE inverse frequencies for every scaling rule
 * (docs/MODEL.md "RoPE scaling"), in double, the one place the reference
 * and the OpenCL path get them from. The rules follow transformers'
 * modeling_rope_utils.py (_compute_*_parameters); there the table is
 * float32, here double, which agrees to ~1e-7 relative.
 */
#include <math.h>

#include "internal.h"

static const double k_pi = 3.14159265358979323846;

/* YaRN: the dimension index whose wavelength makes n_rot turns over
 * max_pos positions. */
static double yarn_corr_dim(double n_rot, int dim, double base, double max_pos)
{
    return (dim * log(max_pos / (n_rot * 2.0 * k_pi))) / (2.0 * log(base));
}

void swacl_rope_freqs(const swacl_rope_scaling *r, float theta, int rot, long ctx_len,
                      double *inv_freq, float *mscale)
{
    const int half = rot / 2;
    double base = theta;
    *mscale = 1.0f;
    const swacl_rope_type type = r ? r->type : SWACL_ROPE_DEFAULT;
    if (type == SWACL_ROPE_DYNAMIC && ctx_len > r->original_max_pos) {
        /* NTK-aware base growth once the context passes the trained length */
        const double f = r->factor, L = (double)ctx_len, L0 = r->original_max_pos;
        base = theta * pow(f * L / L0 - (f - 1.0), (double)rot / (rot - 2));
    }
    for (int i = 0; i < half; i++) inv_freq[i] = 1.0 / pow(base, 2.0 * i / rot);
    if (type == SWACL_ROPE_LINEAR) {
        for (int i = 0; i < half; i++) inv_freq[i] /= r->factor;
    } else if (type == SWACL_ROPE_LLAMA3) {
        /* short wavelengths kept, long ones divided by factor, a smooth
         * blend in between (Llama 3.1) */
        const double L0 = r->original_max_pos, lo = r->low_freq_factor, hi = r->high_freq_factor;
        const double low_wl = L0 / lo, high_wl = L0 / hi;
        for (int i = 0; i < half; i++) {
            const double f = inv_freq[i], wl = 2.0 * k_pi / f;
            if (wl < high_wl) continue;
            if (wl > low_wl) {
                inv_freq[i] = f / r->factor;
            } else if (hi > lo) { /* lo == hi (Llama 4): no band, nothing between */
                const double smooth = (L0 / wl - lo) / (hi - lo);
                inv_freq[i] = (1.0 - smooth) * f / r->factor + smooth * f;
            }
        }
    } else if (type == SWACL_ROPE_YARN) {
        double low = yarn_corr_dim(r->beta_fast, rot, base, r->original_max_pos);
        double high = yarn_corr_dim(r->beta_slow, rot, base, r->original_max_pos);
        if (r->truncate) {
            low = floor(low);
            high = ceil(high);
        }
        if (low < 0) low = 0;
        if (high > rot - 1) high = rot - 1;
        if (low == high) high += 0.001; /* avoid a zero-width ramp */
        for (int i = 0; i < half; i++) {
            double ramp = (i - low) / (high - low);
            ramp = ramp < 0 ? 0 : ramp > 1 ? 1 : ramp;
            const double extra = 1.0 - ramp; /* 1: extrapolate (keep), 0: interpolate */
            const double f = inv_freq[i];
            inv_freq[i] = f / r->factor * (1.0 - extra) + f * extra;
        }
        *mscale = r->attention_factor;
    }
}
