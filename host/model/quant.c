/*
 * quant.c - weight storage types: f32, f16, bf16 and llama.cpp's q8_0 /
 * q4_0 blocks (ggml-common.h block_q8_0 / block_q4_0, quantized exactly as
 * ggml-quants.c quantize_row_q8_0_ref / quantize_row_q4_0_ref, so a tensor
 * quantized here has the bytes llama.cpp would write). The decoders are
 * the one definition of what a packed weight means: the reference backend
 * multiplies by their output and the OpenCL kernels reproduce them.
 */
#define _DEFAULT_SOURCE /* posix_memalign, madvise and MADV_HUGEPAGE */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"
#include "model/hf.h"

static const char *const k_names[SWACL_WT_COUNT] = {"auto", "f32", "f16", "bf16", "q8_0", "q4_0"};

const char *swacl_wtype_name(swacl_wtype t)
{
    return (int)t >= 0 && t < SWACL_WT_COUNT ? k_names[t] : NULL;
}

int swacl_wtype_parse(const char *s)
{
    for (int i = 0; s && i < SWACL_WT_COUNT; i++)
        if (strcmp(s, k_names[i]) == 0) return i;
    return -1;
}

int swacl_wtype_fits(swacl_wtype t, int64_t K)
{
    return (t != SWACL_WT_Q8_0 && t != SWACL_WT_Q4_0) || K % SWACL_QK == 0;
}

size_t swacl_wtype_row_bytes(swacl_wtype t, int64_t K)
{
    switch (t) {
    case SWACL_WT_F16:
    case SWACL_WT_BF16: return (size_t)K * 2;
    case SWACL_WT_Q8_0: return (size_t)(K / SWACL_QK) * SWACL_Q8_0_BLOCK;
    case SWACL_WT_Q4_0: return (size_t)(K / SWACL_QK) * SWACL_Q4_0_BLOCK;
    default: return (size_t)K * 4;
    }
}

/* float -> IEEE half, round to nearest even (as F16C / GGML_FP32_TO_FP16). */
uint16_t swacl_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) /* Inf / NaN (quiet) */
        return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0));
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* rounds past 65504 */
    if (ax < 0x38800000u) { /* subnormal half (or zero): scale into integer units of 2^-24 */
        float a;
        memcpy(&a, &ax, 4);
        float q = a * 16777216.0f; /* exact scaling; rint rounds to nearest even */
        return (uint16_t)(sign | (uint32_t)rintf(q));
    }
    uint32_t e = ((ax >> 23) - 127 + 15) << 10;
    uint32_t m = ax & 0x7fffffu;
    uint32_t h = e | (m >> 13);
    uint32_t rest = m & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++; /* carry may bump the exponent */
    return (uint16_t)(sign | h);
}

uint16_t swacl_f32_to_bf16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u); /* quiet NaN */
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void swacl_row_encode(swacl_wtype t, const float *x, void *dst, int64_t K)
{
    uint8_t *o = dst;
    switch (t) {
    case SWACL_WT_F16:
        for (int64_t i = 0; i < K; i++) wr16(o + 2 * i, swacl_f32_to_f16(x[i]));
        return;
    case SWACL_WT_BF16:
        for (int64_t i = 0; i < K; i++) wr16(o + 2 * i, swacl_f32_to_bf16(x[i]));
        return;
    case SWACL_WT_Q8_0:
        for (int64_t b = 0; b < K / SWACL_QK; b++, x += SWACL_QK, o += SWACL_Q8_0_BLOCK) {
            float amax = 0.0f;
            for (int j = 0; j < SWACL_QK; j++) amax = fmaxf(amax, fabsf(x[j]));
            const float d = amax / ((1 << 7) - 1);
            const float id = d ? 1.0f / d : 0.0f;
            wr16(o, swacl_f32_to_f16(d));
            for (int j = 0; j < SWACL_QK; j++) o[2 + j] = (uint8_t)(int8_t)roundf(x[j] * id);
        }
        return;
    case SWACL_WT_Q4_0:
        for (int64_t b = 0; b < K / SWACL_QK; b++, x += SWACL_QK, o += SWACL_Q4_0_BLOCK) {
            float amax = 0.0f, max = 0.0f; /* max keeps the sign of the largest magnitude */
            for (int j = 0; j < SWACL_QK; j++)
                if (amax < fabsf(x[j])) {
                    amax = fabsf(x[j]);
                    max = x[j];
                }
            const float d = max / -8;
            const float id = d ? 1.0f / d : 0.0f;
            wr16(o, swacl_f32_to_f16(d));
            for (int j = 0; j < SWACL_QK / 2; j++) {
                const float x0 = x[j] * id, x1 = x[SWACL_QK / 2 + j] * id;
                int8_t a = (int8_t)(x0 + 8.5f), c = (int8_t)(x1 + 8.5f);
                uint8_t q0 = (uint8_t)(a < 15 ? a : 15), q1 = (uint8_t)(c < 15 ? c : 15);
                o[2 + j] = (uint8_t)(q0 | (q1 << 4));
            }
        }
        return;
    default: memcpy(o, x, (size_t)K * 4); return;
    }
}

void swacl_row_decode(swacl_wtype t, const void *src, float *y, int64_t K)
{
    const uint8_t *p = src;
    switch (t) {
    case SWACL_WT_F16:
        for (int64_t i = 0; i < K; i++) y[i] = swacl_f16_to_f32(rd16(p + 2 * i));
        return;
    case SWACL_WT_BF16:
        /* swacl_bf16_to_f32 inline (the high half of the float's bits): the
         * call per value was 6% of a warm start's CPU time */
        for (int64_t i = 0; i < K; i++) {
            const uint32_t bits = (uint32_t)rd16(p + 2 * i) << 16;
            memcpy(&y[i], &bits, 4);
        }
        return;
    case SWACL_WT_Q8_0:
        for (int64_t b = 0; b < K / SWACL_QK; b++, y += SWACL_QK, p += SWACL_Q8_0_BLOCK) {
            const float d = swacl_f16_to_f32(rd16(p));
            for (int j = 0; j < SWACL_QK; j++) y[j] = (float)(int8_t)p[2 + j] * d;
        }
        return;
    case SWACL_WT_Q4_0:
        for (int64_t b = 0; b < K / SWACL_QK; b++, y += SWACL_QK, p += SWACL_Q4_0_BLOCK) {
            const float d = swacl_f16_to_f32(rd16(p));
            for (int j = 0; j < SWACL_QK / 2; j++) {
                y[j] = (float)((p[2 + j] & 0x0f) - 8) * d;
                y[j + SWACL_QK / 2] = (float)((p[2 + j] >> 4) - 8) * d;
            }
        }
        return;
    default: memcpy(y, p, (size_t)K * 4); return;
    }
}

size_t swacl_wtype_first_nonfinite(swacl_wtype t, const void *src, size_t n)
{
    const uint8_t *p = src;
    /* all exponent bits set: Inf or NaN. Scanned in blocks with an OR so the
     * loop vectorizes; the block that hits is searched again one by one. */
    if (t == SWACL_WT_F32) {
        for (size_t i = 0; i < n; i += 64) {
            size_t e = n - i < 64 ? n - i : 64;
            uint32_t hit = 0;
            for (size_t j = 0; j < e; j++) {
                uint32_t u;
                memcpy(&u, p + 4 * (i + j), 4);
                hit |= (u & 0x7f800000u) == 0x7f800000u;
            }
            if (hit)
                for (size_t j = 0; j < e; j++) {
                    uint32_t u;
                    memcpy(&u, p + 4 * (i + j), 4);
                    if ((u & 0x7f800000u) == 0x7f800000u) return i + j;
                }
        }
        return n;
    }
    if (t == SWACL_WT_F16 || t == SWACL_WT_BF16) {
        const uint16_t m = t == SWACL_WT_F16 ? 0x7c00u : 0x7f80u;
        for (size_t i = 0; i < n; i += 64) {
            size_t e = n - i < 64 ? n - i : 64;
            unsigned hit = 0;
            for (size_t j = 0; j < e; j++) {
                uint16_t u;
                memcpy(&u, p + 2 * (i + j), 2);
                hit |= (u & m) == m;
            }
            if (hit)
                for (size_t j = 0; j < e; j++) {
                    uint16_t u;
                    memcpy(&u, p + 2 * (i + j), 2);
                    if ((u & m) == m) return i + j;
                }
        }
        return n;
    }
    return n; /* other types: no float bit pattern to test */
}

void *swacl_weight_alloc(size_t bytes)
{
    void *p = NULL;
    if (posix_memalign(&p, SWACL_WEIGHT_ALIGN, bytes ? bytes : 1) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    /* transparent huge pages where the system leaves them to madvise: the
     * load fills every byte at once, and 4 KiB faults were ~10% of a warm
     * start's CPU time (2 MiB-aligned ranges inside the block only, so the
     * resident size does not grow) */
    const uintptr_t h = (uintptr_t)2 << 20, a = ((uintptr_t)p + h - 1) / h * h,
                    e = ((uintptr_t)p + bytes) / h * h;
    if (e > a) madvise((void *)a, e - a, MADV_HUGEPAGE);
#endif
    return p;
}

void swacl_tensor_set(swacl_tensor *t, swacl_wtype wt, const void *src, size_t nbytes, int own)
{
    if (t->owned) free((void *)t->bytes);
    t->type = wt;
    t->bytes = src;
    t->nbytes = nbytes;
    t->owned = own;
    t->data = wt == SWACL_WT_F32 ? (float *)src : NULL;
}

swacl_status swacl_tensor_encode(swacl_tensor *t, swacl_wtype wt)
{
    if (wt == SWACL_WT_AUTO || wt == t->type) return SWACL_OK;
    const int64_t K = t->ndim ? t->shape[t->ndim - 1] : 1;
    const int64_t rows = K ? t->numel / K : 0;
    if (!swacl_wtype_fits(wt, K)) return SWACL_INVALID_ARG;
    const size_t rb = swacl_wtype_row_bytes(wt, K);
    uint8_t *out = swacl_weight_alloc((size_t)(rows > 0 ? rows : 0) * rb);
    float *row = malloc((size_t)(K ? K : 1) * sizeof *row);
    if (!out || !row) {
        free(out);
        free(row);
        return SWACL_OUT_OF_MEMORY;
    }
    const size_t ib = swacl_wtype_row_bytes(t->type, K);
    for (int64_t r = 0; r < rows; r++) {
        swacl_row_decode(t->type, (const uint8_t *)t->bytes + (size_t)r * ib, row, K);
        swacl_row_encode(wt, row, out + (size_t)r * rb, K);
    }
    free(row);
    swacl_tensor_set(t, wt, out, (size_t)rows * rb, 1);
    return SWACL_OK;
}

swacl_wtype swacl_wtype_for(const char *name, int ndim, int64_t K, swacl_wtype want)
{
    if (ndim != 2) return SWACL_WT_F32;
    /* the token embedding and output head (tied or not) decide every logit
     * directly: as llama.cpp keeps token_embd / output above q4_0 (its
     * default output type is q6_K), q4_0 models keep them in q8_0 */
    if (want == SWACL_WT_Q4_0 && name &&
        (strstr(name, "embed_tokens") || strncmp(name, "lm_head", 7) == 0))
        want = SWACL_WT_Q8_0;
    if (!swacl_wtype_fits(want, K)) want = SWACL_WT_F16;
    return want;
}

swacl_status swacl_weights_convert(swacl_ctx *ctx, swacl_weights *w, swacl_wtype wt)
{
    if (!w || (int)wt < 0 || wt >= SWACL_WT_COUNT)
        return swacl_set_error(ctx, SWACL_INVALID_ARG, "swacl_weights_convert: bad argument");
    if (__atomic_load_n(&w->refs, __ATOMIC_ACQUIRE) > 0 && wt != SWACL_WT_AUTO)
        return swacl_set_error(ctx, SWACL_INVALID_ARG,
                               "swacl_weights_convert: a model still reads these weights in place");
    for (int i = 0; i < w->n && wt != SWACL_WT_AUTO; i++) {
        swacl_tensor *t = &w->t[i];
        swacl_wtype want = swacl_wtype_for(t->name, t->ndim, t->shape[t->ndim - 1], wt);
        if (t->pending) { /* encoded when it is made */
            t->type = want;
            continue;
        }
        swacl_status st = swacl_tensor_encode(t, want);
        if (st != SWACL_OK)
            return swacl_set_error(ctx, st, "cannot store tensor '%s' as %s", t->name,
                                   swacl_wtype_name(want));
    }
    return SWACL_OK;
}

uint64_t swacl_weights_bytes(const swacl_weights *w, swacl_wtype t)
{
    uint64_t n = 0;
    for (int i = 0; w && i < w->n; i++)
        if (t == SWACL_WT_AUTO || w->t[i].type == t) n += w->t[i].nbytes;
    return n;
}

swacl_wtype swacl_weights_type(const swacl_weights *w, int i)
{
    return w && i >= 0 && i < w->n ? w->t[i].type : SWACL_WT_AUTO;
}
