/*
 * graph.h - the layer graph's internals (model layout, one step of the
 * layer graph). Shared by model.c and the executor above it (host/sched/:
 * pipelines, sessions and their KV caches).
 */
#ifndef SWACL_GRAPH_H
#define SWACL_GRAPH_H

#include <stddef.h>
#include <stdio.h>

#include "internal.h"

/* One layer's weights on the backend (NULL where the config has none). */
typedef struct {
    swacl_buf *ln1_w, *ln1_b;           /* [D]                               */
    swacl_buf *wq, *bq, *wk, *bk;       /* [H*d, D], [Hkv*d, D]              */
    swacl_buf *wv, *bv, *wo, *bo;       /* [Hkv*d, D], [D, H*d]              */
    swacl_buf *ln2_w, *ln2_b;           /* [D] pre-FFN (sequential PRE and
                                           SANDWICH blocks)                  */
    swacl_buf *lnpa_w, *lnpf_w;         /* [D] post-attention / post-FFN
                                           (SANDWICH, POST)                  */
    swacl_buf *qn_w, *kn_w;             /* [d] or [H*d], [Hkv*d] QK-norm     */
    swacl_buf *wg, *bg, *wu, *bu;       /* [F, D] (gate: gated FFNs only)    */
    swacl_buf *wd, *bd;                 /* [D, F]                            */
} swacl_layer_bufs;

/* One layer's KV cache: [B, cap, Hkv*d] each. */
typedef struct {
    swacl_buf *k, *v;
    int cap;
    int f16;  /* values stored as f16 (2 bytes), else float32 */
} swacl_kv_layer;

struct swacl_model {
    swacl_ctx *ctx;
    swacl_backend *be;
    swacl_config cfg;
    swacl_buf **owned;                  /* every weight buffer               */
    int n_owned;
    swacl_weights *wref;                /* the host weights, when a buffer
                                           borrows their bytes (retained)   */
    int borrowed;                       /* some weight buffer does          */
    int low_prec;                       /* some 2-D weight is not F32        */
    int kv_f16;                         /* sessions store K/V as f16
                                           (ctx kv_type, AUTO: low_prec)    */
    swacl_buf *embed, *in_w, *in_b;     /* [V, D]; [D, Din], [D]             */
    swacl_buf *norm_w, *norm_b;         /* [D]                               */
    swacl_buf *lm_head, *head;          /* head = lm_head or embed (tied)    */
    swacl_layer_bufs *layers;           /* [n_layers]                        */
    double *rope_inv;                   /* [head_dim/2] one layer's RoPE table */
    /* scratch, for scratch_rows rows */
    int scratch_rows, out_rows;
    swacl_buf *x, *h;                   /* [R, D] residual, normed           */
    swacl_buf *q, *a;                   /* [R, H*d]                          */
    swacl_buf *k, *v;                   /* [R, Hkv*d]                        */
    swacl_buf *g, *u;                   /* [R, F]                            */
    swacl_buf *inp;                     /* [R, Din] continuous input         */
    swacl_buf *y, *logits;              /* [out_rows, D], [out_rows, V]      */
    /* resident layers [layer_lo, layer_hi) (0, n_layers unless created by
     * swacl_model_create_range); has_input / has_output: the input layer
     * (embedding / input_proj) and the final norm + head are uploaded      */
    int layer_lo, layer_hi, has_input, has_output;
    uint64_t weight_bytes;              /* of the tensors uploaded (as stored) */
};

/* One step: T new rows for each of B sequences. */
typedef struct {
    int B, T;
    const int *pos0;         /* [B] first new position (= cached length)     */
    const int *n_new;        /* [B] valid rows (<= T)                        */
    const int32_t *ids;      /* [B*T] (vocab models)                         */
    const float *embeds;     /* [B*T, input_dim] (continuous models)         */
    swacl_kv_layer *kv;      /* [n_layers] or NULL                           */
    int layer_begin, layer_end;
    int all_positions;       /* output every row, else the last valid row    */
    int x_loaded;            /* pipeline stage: the residual x [B*T, D] was
                                written by swacl_graph_x_write; skip the
                                input layer (ids / embeds unused)            */
    int no_wait;             /* out == NULL: leave the work queued (the
                                pipeline chains it with events) instead of
                                finishing                                    */
} swacl_step;

/* Run a step; out may be NULL (no head, nothing read back). */
swacl_status swacl_graph_step(swacl_model *m, const swacl_step *s, float *out);
swacl_status swacl_graph_check_input(swacl_model *m, const swacl_input *in);

/* Pipeline stages (host/sched/): a model holding only layers [l0, l1) plus
 * the input layer when l0 == 0 and the final norm + head when l1 ==
 * n_layers (the embedding too when the head is tied to it). */
swacl_status swacl_model_create_range(swacl_ctx *ctx, const swacl_config *cfg,
                                      const swacl_weights *w, int l0, int l1, swacl_model **out);
/* Host staging of the residual x [rows, D] between stages: write grows the
 * scratch to `rows` first; read waits for the queued work (blocking read). */
swacl_status swacl_graph_x_write(swacl_model *m, int rows, const float *x);
swacl_status swacl_graph_x_read(swacl_model *m, int rows, float *x);
/* Device copy of src's residual into dst's (backends that are peers):
 * grows dst's scratch, queues the copy on dst's queue after `after`.      */
swacl_status swacl_graph_x_copy(swacl_model *dst, const swacl_model *src, int rows,
                                swacl_event *after);
/* Bytes a stage [l0, l1) of cfg uploads (the same tensors as create_range),
 * and its largest single tensor. */
uint64_t swacl_model_range_bytes(const swacl_config *cfg, int l0, int l1, uint64_t *max_tensor);

#endif
