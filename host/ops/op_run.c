/*
 * op_run.c - runs one row of the op-case table (op_cases.h) on a backend:
 * seeded inputs, one launch through the backend seam, read-back, and the
 * device-vs-reference check the tests and a verifying benchmark share.
 *
 * Each op draws its inputs from its own fixed seeds, so a case sees the same
 * values on every backend and in every run (and the tolerances measured for
 * a row stay valid).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/op_cases.h"

#define NSLOT 8

struct swacl_op_bufs {
    swacl_ctx *ctx;
    swacl_buf *b[NSLOT]; /* per-op roles: see bufs_create                  */
    int out;             /* slot holding the output                         */
    int32_t *ids;        /* EMBED: token ids                                */
    int *rows;           /* GATHER_ROWS: row indices                        */
};

void swacl_op_fill_uniform(float *x, size_t n, uint64_t seed, float scale)
{
    swacl_rng r = {seed * 0x9E3779B97F4A7C15ull + 1};
    for (size_t i = 0; i < n; i++) x[i] = scale * swacl_rng_uniform(&r);
}

/* New buffer of n floats in slot i: uniform(seed) * scale + shift, or
 * zeros when seed == 0. */
static swacl_status slot(swacl_op_bufs *b, int i, size_t n, uint64_t seed, float scale,
                         float shift)
{
    swacl_backend *be = b->ctx->be;
    float *h = calloc(n ? n : 1, sizeof *h);
    if (!h) return swacl_set_error(b->ctx, SWACL_OUT_OF_MEMORY, "op case: %zu floats", n);
    if (seed) {
        swacl_op_fill_uniform(h, n, seed, scale);
        for (size_t k = 0; shift != 0.0f && k < n; k++) h[k] += shift;
    }
    swacl_status st = be->iface->buf_alloc(be, n ? n * sizeof *h : sizeof *h, &b->b[i]);
    if (st == SWACL_OK && n) st = be->iface->buf_write(be, b->b[i], 0, h, n * sizeof *h);
    free(h);
    return st;
}

/* An f16 slot (a KV cache of kv_f16): n values uniform(seed), stored as
 * f16 (2 bytes each, round to nearest even). */
static swacl_status hslot(swacl_op_bufs *b, int i, size_t n, uint64_t seed)
{
    swacl_backend *be = b->ctx->be;
    float *h = calloc(n ? n : 1, sizeof *h);
    uint16_t *p = calloc(n ? n : 1, sizeof *p);
    swacl_status st = SWACL_OUT_OF_MEMORY;
    if (h && p) {
        swacl_op_fill_uniform(h, n, seed, 1.0f);
        swacl_row_encode(SWACL_WT_F16, h, p, (int64_t)n);
        st = be->iface->buf_alloc(be, (n ? n : 1) * sizeof *p, &b->b[i]);
        if (st == SWACL_OK && n) st = be->iface->buf_write(be, b->b[i], 0, p, n * sizeof *p);
    } else {
        swacl_set_error(b->ctx, st, "op case: out of host memory");
    }
    free(h);
    free(p);
    return st;
}

/* A weight slot of rows x K values in storage type wt (F32 / AUTO: as
 * slot): the same uniform values, encoded (swacl_row_encode), so every
 * backend gets the same packed bytes. */
static swacl_status wslot(swacl_op_bufs *b, int i, size_t rows, int K, uint64_t seed,
                          swacl_wtype wt)
{
    if (wt == SWACL_WT_AUTO || wt == SWACL_WT_F32) return slot(b, i, rows * K, seed, 1.0f, 0.0f);
    swacl_backend *be = b->ctx->be;
    const size_t rb = swacl_wtype_row_bytes(wt, K);
    float *h = calloc(rows > 0 && K > 0 ? rows * K : 1, sizeof *h);
    unsigned char *p = malloc(rows > 0 && rb > 0 ? rows * rb : 1);
    swacl_status st = SWACL_OUT_OF_MEMORY;
    if (h && p) {
        swacl_op_fill_uniform(h, rows * K, seed, 1.0f);
        for (size_t r = 0; r < rows; r++) swacl_row_encode(wt, h + r * K, p + r * rb, K);
        st = be->iface->weight_create(be, wt, p, rows * rb, 0, &b->b[i], NULL);
    } else {
        swacl_set_error(b->ctx, st, "op case: out of host memory");
    }
    free(h);
    free(p);
    return st;
}

static int n_new_of(const swacl_opc_attn *a, int b) { return a->n_new[b] ? a->n_new[b] : a->T; }

size_t swacl_op_output_size(const swacl_op_case *c)
{
    switch (c->op) {
    case SWACL_OP_ATTENTION: return (size_t)c->attn.B * c->attn.T * c->attn.H * c->attn.d;
    case SWACL_OP_MATMUL:
    case SWACL_OP_MATMUL_GLU: return (size_t)c->mm.M * c->mm.N;
    case SWACL_OP_MATMUL_MULTI: return (size_t)c->mm.M * (c->mm.N + c->mm.N1 + c->mm.N2);
    case SWACL_OP_NORM: return (size_t)c->norm.rows * c->norm.n;
    case SWACL_OP_ROPE: return (size_t)c->rope.B * c->rope.T * c->rope.nh * c->rope.d;
    case SWACL_OP_ACT:
    case SWACL_OP_ADD:
    case SWACL_OP_SCALE:
    case SWACL_OP_SOFTCAP: return (size_t)c->elt.rows * c->elt.n;
    case SWACL_OP_EMBED:
    case SWACL_OP_GATHER_ROWS: return (size_t)c->embed.n * c->embed.D;
    case SWACL_OP_KV_STORE: return (size_t)c->kv.B * c->kv.cap * c->kv.width;
    case SWACL_OP_KIND_COUNT: break;
    }
    return 0;
}

int swacl_op_segments(const swacl_op_case *c, size_t off[SWACL_OPC_MAXB],
                      size_t len[SWACL_OPC_MAXB])
{
    if (c->op != SWACL_OP_ATTENTION) {
        if (off) off[0] = 0;
        if (len) len[0] = swacl_op_output_size(c);
        return 1;
    }
    /* rows t >= n_new[b] are unspecified: compare each sequence's valid rows */
    const swacl_opc_attn *a = &c->attn;
    const size_t w = (size_t)a->H * a->d;
    for (int b = 0; b < a->B && b < SWACL_OPC_MAXB; b++) {
        if (off) off[b] = (size_t)b * a->T * w;
        if (len) len[b] = (size_t)n_new_of(a, b) * w;
    }
    return a->B < SWACL_OPC_MAXB ? a->B : SWACL_OPC_MAXB;
}

void swacl_op_bufs_destroy(swacl_op_bufs *b)
{
    if (!b) return;
    swacl_backend *be = b->ctx->be;
    for (int i = 0; i < NSLOT; i++)
        if (b->b[i]) be->iface->buf_free(be, b->b[i]);
    free(b->ids);
    free(b->rows);
    free(b);
}

/* Slots and seeds per op (the seeds are the ones the tolerances were
 * measured with; keep them):
 *   attention  0 q 11, 1 k 12, 2 v 13, 3 out, 4 kc 14, 5 vc 15 (cache only)
 *   matmul     0 x 21, 1 w 22, 2 bias 23 (if bias), 3 y 24 (out)
 *   norm       0 x 31 (*2 + 0.5: non-zero mean), 1 w 32 (*1.5), 2 b 33,
 *              3 y (out; slot 0 when in place)
 *   rope       0 x 41 (in place)
 *   act/add/scale/softcap  0 gate 51 (*6), 1 up 52 (*2), 2 out (act);
 *              add, scale and softcap update slot 0, as does act in place
 *   embed/gather_rows  0 table 61, 1 out
 *   kv_store   0 src 71, 1 cache 72 (out)
 *   matmul_multi  0 x 21, 1 w0 22, 2 w1 25, 4 w2 26; out y0 3, y1 5, y2 6
 *              (compared as y0 | y1 | y2)
 *   matmul_glu 0 x 21, 1 wg 22, 2 wu 25, 3 y (out), 4 tmp                  */
swacl_status swacl_op_bufs_create(swacl_ctx *ctx, const swacl_op_case *c, swacl_op_bufs **out)
{
    *out = NULL;
    if (!ctx || !ctx->be)
        return swacl_set_error(ctx, SWACL_INVALID_ARG, "op case: context without a backend");
    if ((unsigned)c->op >= SWACL_OP_KIND_COUNT)
        return swacl_set_error(ctx, SWACL_INVALID_ARG, "op case '%s': bad op kind %d", c->label,
                               (int)c->op);
    swacl_op_bufs *b = calloc(1, sizeof *b);
    if (!b) return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "op case: out of host memory");
    b->ctx = ctx;
    swacl_status st = SWACL_OK;
    const size_t nout = swacl_op_output_size(c);
    switch (c->op) {
    case SWACL_OP_ATTENTION: {
        const swacl_opc_attn *a = &c->attn;
        const size_t nkv = (size_t)a->B * a->T * a->Hkv * a->d;
        const size_t ncache = (size_t)a->B * a->cap * a->Hkv * a->d;
        SWACL_TRY_GOTO(st, slot(b, 0, nout, 11, 1.0f, 0.0f), fail);
        SWACL_TRY_GOTO(st, slot(b, 1, nkv, 12, 1.0f, 0.0f), fail);
        SWACL_TRY_GOTO(st, slot(b, 2, nkv, 13, 1.0f, 0.0f), fail);
        SWACL_TRY_GOTO(st, slot(b, 3, nout, 0, 0.0f, 0.0f), fail);
        if (a->cap && a->kv_f16) {
            SWACL_TRY_GOTO(st, hslot(b, 4, ncache, 14), fail);
            SWACL_TRY_GOTO(st, hslot(b, 5, ncache, 15), fail);
        } else if (a->cap) {
            SWACL_TRY_GOTO(st, slot(b, 4, ncache, 14, 1.0f, 0.0f), fail);
            SWACL_TRY_GOTO(st, slot(b, 5, ncache, 15, 1.0f, 0.0f), fail);
        }
        b->out = 3;
        break;
    }
    case SWACL_OP_MATMUL: {
        const swacl_opc_matmul *m = &c->mm;
        SWACL_TRY_GOTO(st, slot(b, 0, (size_t)m->M * m->K, 21, 1.0f, 0.0f), fail);
        SWACL_TRY_GOTO(st, wslot(b, 1, (size_t)m->N, m->K, 22, m->wt), fail);
        if (m->bias) SWACL_TRY_GOTO(st, slot(b, 2, (size_t)m->N, 23, 1.0f, 0.0f), fail);
        SWACL_TRY_GOTO(st, slot(b, 3, nout, 24, 1.0f, 0.0f), fail);
        b->out = 3;
        break;
    }
    case SWACL_OP_MATMUL_MULTI:
    case SWACL_OP_MATMUL_GLU: {
        const swacl_opc_matmul *m = &c->mm;
        const int multi = c->op == SWACL_OP_MATMUL_MULTI;
        SWACL_TRY_GOTO(st, slot(b, 0, (size_t)m->M * m->K, 21, 1.0f, 0.0f), fail);
        SWACL_TRY_GOTO(st, wslot(b, 1, (size_t)m->N, m->K, 22, m->wt), fail);
        SWACL_TRY_GOTO(st, wslot(b, 2, (size_t)(multi ? m->N1 : m->N), m->K, 25, m->wt), fail);
        SWACL_TRY_GOTO(st, slot(b, 3, (size_t)m->M * m->N, 24, 1.0f, 0.0f), fail);
        if (multi) {
            SWACL_TRY_GOTO(st, slot(b, 5, (size_t)m->M * m->N1, 27, 1.0f, 0.0f), fail);
            if (m->N2) {
                SWACL_TRY_GOTO(st, wslot(b, 4, (size_t)m->N2, m->K, 26, m->wt), fail);
                SWACL_TRY_GOTO(st, slot(b, 6, (size_t)m->M * m->N2, 28, 1.0f, 0.0f), fail);
            }
        } else {
            SWACL_TRY_GOTO(st, slot(b, 4, (size_t)m->M * m->N, 29, 1.0f, 0.0f), fail);
        }
        b->out = 3;
        break;
    }
    case SWACL_OP_NORM: {
        const swacl_opc_norm *q = &c->norm;
        SWACL_TRY_GOTO(st, slot(b, 0, nout, 31, 2.0f, 0.5f), fail);
        if (q->weight) SWACL_TRY_GOTO(st, slot(b, 1, (size_t)q->n, 32, 1.5f, 0.0f), fail);
        if (q->bias) SWACL_TRY_GOTO(st, slot(b, 2, (size_t)q->n, 33, 1.0f, 0.0f), fail);
        if (!q->in_place) SWACL_TRY_GOTO(st, slot(b, 3, nout, 0, 0.0f, 0.0f), fail);
        b->out = q->in_place ? 0 : 3;
        break;
    }
    case SWACL_OP_ROPE:
        SWACL_TRY_GOTO(st, slot(b, 0, nout, 41, 1.0f, 0.0f), fail);
        b->out = 0;
        break;
    case SWACL_OP_ACT:
    case SWACL_OP_ADD:
    case SWACL_OP_SCALE:
    case SWACL_OP_SOFTCAP:
        SWACL_TRY_GOTO(st, slot(b, 0, nout, 51, 6.0f, 0.0f), fail);
        if (c->op == SWACL_OP_ADD || (c->op == SWACL_OP_ACT && c->elt.ffn != SWACL_FFN_GELU))
            SWACL_TRY_GOTO(st, slot(b, 1, nout, 52, 2.0f, 0.0f), fail);
        if (c->op == SWACL_OP_ACT && !c->elt.in_place)
            SWACL_TRY_GOTO(st, slot(b, 2, nout, 0, 0.0f, 0.0f), fail);
        b->out = c->op == SWACL_OP_ACT && !c->elt.in_place ? 2 : 0;
        break;
    case SWACL_OP_EMBED:
    case SWACL_OP_GATHER_ROWS: {
        const swacl_opc_embed *e = &c->embed;
        SWACL_TRY_GOTO(st, wslot(b, 0, (size_t)e->V, e->D, 61, e->wt), fail);
        SWACL_TRY_GOTO(st, slot(b, 1, nout, 0, 0.0f, 0.0f), fail);
        b->ids = malloc((size_t)(e->n > 0 ? e->n : 1) * sizeof *b->ids);
        b->rows = malloc((size_t)(e->n > 0 ? e->n : 1) * sizeof *b->rows);
        if (!b->ids || !b->rows) {
            st = swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "op case: out of host memory");
            goto fail;
        }
        /* spread over the table, with both ends in the embed ids */
        for (int i = 0; i < e->n; i++) {
            b->ids[i] = (i * 17 + 3) % e->V;
            b->rows[i] = (i * 7 + 11) % e->V;
        }
        if (e->n > 0) b->ids[0] = e->V - 1;
        if (e->n > 1) b->ids[1] = 0;
        b->out = 1;
        break;
    }
    case SWACL_OP_KV_STORE: {
        const swacl_opc_kv *k = &c->kv;
        SWACL_TRY_GOTO(st, slot(b, 0, (size_t)k->B * k->T * k->width, 71, 1.0f, 0.0f), fail);
        if (k->f16)
            SWACL_TRY_GOTO(st, hslot(b, 1, nout, 72), fail);
        else
            SWACL_TRY_GOTO(st, slot(b, 1, nout, 72, 1.0f, 0.0f), fail);
        b->out = 1;
        break;
    }
    case SWACL_OP_KIND_COUNT: break;
    }
    *out = b;
    return SWACL_OK;
fail:
    swacl_op_bufs_destroy(b);
    return st;
}

swacl_status swacl_op_launch(swacl_ctx *ctx, const swacl_op_case *c, swacl_op_bufs *b)
{
    swacl_backend *be = ctx->be;
    const struct swacl_backend_i *f = be->iface;
    swacl_buf **s = b->b;
    switch (c->op) {
    case SWACL_OP_ATTENTION: {
        const swacl_opc_attn *a = &c->attn;
        SWACL_FAIL_IF(ctx, a->B < 1 || a->B > SWACL_OPC_MAXB, SWACL_INVALID_ARG,
                      "op case '%s': B %d outside 1..%d", c->label, a->B, SWACL_OPC_MAXB);
        int pos0[SWACL_OPC_MAXB], n_new[SWACL_OPC_MAXB];
        for (int i = 0; i < a->B; i++) {
            pos0[i] = a->pos0[i];
            n_new[i] = n_new_of(a, i);
        }
        swacl_attn_args arg = {.B = a->B, .T = a->T, .H = a->H, .Hkv = a->Hkv, .d = a->d,
                               .q = s[0], .k = s[1], .v = s[2], .kc = s[4], .vc = s[5],
                               .cap = a->cap, .pos0 = pos0, .n_new = n_new, .span = a->span,
                               .span_size = a->S, .scale = 1.0f / sqrtf((float)a->d),
                               .temp = a->temp, .temp_p0 = a->p0, .temp_p1 = a->p1,
                               .softcap = a->softcap, .out = s[3], .kv_f16 = a->kv_f16};
        return f->attention(be, &arg);
    }
    case SWACL_OP_MATMUL:
        return f->matmul(be, s[3], s[0], s[1], s[2], c->mm.M, c->mm.N, c->mm.K,
                         c->mm.accumulate);
    case SWACL_OP_MATMUL_MULTI: {
        swacl_buf *y[3] = {s[3], s[5], s[6]};
        const swacl_buf *w[3] = {s[1], s[2], s[4]};
        const int N[3] = {c->mm.N, c->mm.N1, c->mm.N2};
        return f->matmul_multi(be, c->mm.N2 ? 3 : 2, y, s[0], w, N, c->mm.M, c->mm.K);
    }
    case SWACL_OP_MATMUL_GLU:
        return f->matmul_glu(be, c->mm.ffn, s[3], s[4], s[0], s[1], s[2], c->mm.M, c->mm.N,
                             c->mm.K);
    case SWACL_OP_NORM:
        return f->norm(be, c->norm.kind, s[b->out], s[0], s[1], s[2], c->norm.rows, c->norm.n,
                       c->norm.eps);
    case SWACL_OP_ROPE: {
        /* the default-rule table of theta over the rotated lanes */
        const int rot = c->rope.rot ? c->rope.rot : c->rope.d;
        double inv[SWACL_OPC_MAXD / 2];
        float ms;
        if (rot < 2 || rot > SWACL_OPC_MAXD) return SWACL_INVALID_ARG;
        swacl_rope_freqs(NULL, c->rope.theta, rot, 0, inv, &ms);
        swacl_rope_args r = {c->rope.layout, rot, inv, c->rope.mscale != 0 ? c->rope.mscale : 1.0f};
        return f->rope(be, s[0], c->rope.B, c->rope.T, c->rope.nh, c->rope.d, c->rope.pos0, &r);
    }
    case SWACL_OP_ACT:
        return f->act(be, c->elt.ffn, s[b->out], s[0], s[1], swacl_op_output_size(c));
    case SWACL_OP_ADD: return f->add(be, s[0], s[1], swacl_op_output_size(c));
    case SWACL_OP_SCALE: return f->scale(be, s[0], c->elt.s, swacl_op_output_size(c));
    case SWACL_OP_SOFTCAP: return f->softcap(be, s[0], c->elt.s, swacl_op_output_size(c));
    case SWACL_OP_EMBED: return f->embed(be, s[1], s[0], b->ids, c->embed.n, c->embed.D);
    case SWACL_OP_GATHER_ROWS:
        return f->gather_rows(be, s[1], s[0], b->rows, c->embed.n, c->embed.D);
    case SWACL_OP_KV_STORE:
        return f->kv_store(be, s[1], s[0], c->kv.B, c->kv.T, c->kv.cap, c->kv.width, c->kv.pos0,
                           c->kv.n_new, c->kv.f16);
    case SWACL_OP_KIND_COUNT: break;
    }
    return swacl_set_error(ctx, SWACL_INVALID_ARG, "op case '%s': bad op kind %d", c->label,
                           (int)c->op);
}

/* The slots holding c's output, in order, and their lengths (floats). */
static int out_slots(const swacl_op_case *c, const swacl_op_bufs *b, int sl[3], size_t len[3])
{
    if (c->op != SWACL_OP_MATMUL_MULTI) {
        sl[0] = b->out;
        len[0] = swacl_op_output_size(c);
        return 1;
    }
    const size_t M = (size_t)c->mm.M;
    sl[0] = 3, sl[1] = 5, sl[2] = 6;
    len[0] = M * c->mm.N, len[1] = M * c->mm.N1, len[2] = M * c->mm.N2;
    return c->mm.N2 ? 3 : 2;
}

swacl_status swacl_op_output_io(swacl_ctx *ctx, const swacl_op_case *c, swacl_op_bufs *b,
                                float *h, int write)
{
    swacl_backend *be = ctx->be;
    const size_t n = swacl_op_output_size(c);
    SWACL_TRY(be->iface->finish(be));
    if (!n) return SWACL_OK;
    int sl[3];
    size_t len[3];
    const int ns = out_slots(c, b, sl, len);
    for (int i = 0, off = 0; i < ns; off += (int)len[i], i++) {
        SWACL_TRY(write ? be->iface->buf_write(be, b->b[sl[i]], 0, h + off, len[i] * sizeof *h)
                        : be->iface->buf_read(be, b->b[sl[i]], 0, h + off, len[i] * sizeof *h));
    }
    return SWACL_OK;
}

swacl_status swacl_op_exec(swacl_ctx *ctx, const swacl_op_case *c, float **out)
{
    *out = NULL;
    swacl_op_bufs *b = NULL;
    SWACL_TRY(swacl_op_bufs_create(ctx, c, &b));
    swacl_backend *be = ctx->be;
    const size_t n = swacl_op_output_size(c);
    float *h = malloc((n ? n : 1) * sizeof *h);
    swacl_status st = h ? SWACL_OK
                        : swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "op case: out of host memory");
    if (st == SWACL_OK) st = swacl_op_launch(ctx, c, b);
    if (st == SWACL_OK) st = be->iface->finish(be);
    if (st == SWACL_OK && n && c->op == SWACL_OP_KV_STORE && c->kv.f16) { /* f16 cache: decoded */
        uint16_t *hb = malloc(n * sizeof *hb);
        st = hb ? be->iface->buf_read(be, b->b[b->out], 0, hb, n * sizeof *hb) : SWACL_OUT_OF_MEMORY;
        if (st == SWACL_OK) swacl_row_decode(SWACL_WT_F16, hb, h, (int64_t)n);
        free(hb);
    } else if (st == SWACL_OK && n) {
        st = swacl_op_output_io(ctx, c, b, h, 0);
    }
    swacl_op_bufs_destroy(b);
    if (st != SWACL_OK) {
        free(h);
        return st;
    }
    *out = h;
    return SWACL_OK;
}

/* Keys query (b, t) attends to, summed: the attention's pair count. */
static double attn_pairs(const swacl_opc_attn *a)
{
    double pairs = 0.0;
    for (int b = 0; b < a->B && b < SWACL_OPC_MAXB; b++)
        for (int t = 0; t < n_new_of(a, b); t++) {
            long p = (long)a->pos0[b] + t, lo = 0;
            if (a->span == SWACL_SPAN_WINDOW) lo = p - a->S + 1 > 0 ? p - a->S + 1 : 0;
            if (a->span == SWACL_SPAN_CHUNK) lo = p / a->S * a->S;
            pairs += (double)(p - lo + 1);
        }
    return pairs;
}

void swacl_op_work(const swacl_op_case *c, double *flops, double *bytes)
{
    double fl = 0.0, by = 0.0, n = (double)swacl_op_output_size(c);
    switch (c->op) {
    case SWACL_OP_ATTENTION: /* q.k and p.v: 2 multiply-adds per pair and dim */
        fl = 4.0 * c->attn.d * c->attn.H * attn_pairs(&c->attn);
        break;
    case SWACL_OP_MATMUL:
    case SWACL_OP_MATMUL_MULTI: fl = 2.0 * n * c->mm.K; break;
    case SWACL_OP_MATMUL_GLU: fl = 4.0 * n * c->mm.K; break;
    case SWACL_OP_NORM: /* read x, write y, read the weight and bias rows */
        by = 4.0 * (2.0 * n + c->norm.n * (c->norm.weight + c->norm.bias));
        break;
    case SWACL_OP_ROPE: by = 2.0 * 4.0 * n; break;
    case SWACL_OP_ACT: by = (c->elt.ffn != SWACL_FFN_GELU ? 3.0 : 2.0) * 4.0 * n; break;
    case SWACL_OP_ADD: by = 3.0 * 4.0 * n; break;
    case SWACL_OP_SCALE:
    case SWACL_OP_SOFTCAP: by = 2.0 * 4.0 * n; break;
    case SWACL_OP_EMBED:
    case SWACL_OP_GATHER_ROWS: by = 2.0 * 4.0 * n; break;
    case SWACL_OP_KV_STORE: {
        double rows = 0.0;
        for (int b = 0; b < c->kv.B && b < SWACL_OPC_MAXB; b++)
            rows += c->kv.n_new[b] < c->kv.cap ? c->kv.n_new[b] : c->kv.cap;
        by = 2.0 * 4.0 * rows * c->kv.width;
        break;
    }
    case SWACL_OP_KIND_COUNT: break;
    }
    if (flops) *flops = fl;
    if (bytes) *bytes = by;
}

static int passes(const swacl_op_case *c, const swacl_compare_result *r)
{
    return r->nonfinite == 0 && r->n_bad == 0 && r->nmse <= c->nmse;
}

swacl_status swacl_op_check(swacl_ctx *dev, swacl_ctx *ref, const swacl_op_case *c,
                            swacl_op_check_result *res, float **dev_out, float **ref_out)
{
    swacl_op_check_result r;
    memset(&r, 0, sizeof r);
    r.segment = -1;
    if (dev_out) *dev_out = NULL;
    if (ref_out) *ref_out = NULL;
    float *od = NULL, *or_ = NULL;
    swacl_status st = swacl_op_exec(dev, c, &od);
    if (st == SWACL_OK) st = swacl_op_exec(ref, c, &or_);
    if (st == SWACL_OK) {
        size_t off[SWACL_OPC_MAXB], len[SWACL_OPC_MAXB];
        int ns = swacl_op_segments(c, off, len);
        for (int i = 0; i < ns; i++) {
            swacl_compare_result s = swacl_compare(od + off[i], or_ + off[i], len[i], c->atol,
                                                   c->rtol);
            s.worst += off[i]; /* index into the whole output */
            if (!passes(c, &s)) {
                r.worst = s;
                r.segment = i;
                st = swacl_set_error(dev, SWACL_MISMATCH,
                                     "op case '%s' (%s), range %d: %zu non-finite, %zu of %zu "
                                     "over atol %.1e + rtol %.1e, nmse %.3e (max %.1e), max_abs "
                                     "%.3e at %zu",
                                     c->label, swacl_op_kind_name(c->op), i, s.nonfinite, s.n_bad,
                                     len[i], c->atol, c->rtol, s.nmse, c->nmse, s.max_abs_err,
                                     s.worst);
                break;
            }
            if (r.segment < 0 || s.nmse > r.worst.nmse) {
                r.worst = s;
                r.segment = i;
            }
        }
    }
    if (res) *res = r;
    if (dev_out) *dev_out = od;
    else free(od);
    if (ref_out) *ref_out = or_;
    else free(or_);
    return st;
}
