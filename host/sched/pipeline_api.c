/*
 * pipeline_api.c - the public pipeline API (include/swacl.h, "Pipeline") as
 * a thin layer over the executor in pipeline.c: a handle remembers the
 * context it was created on, the stages inherit that context's creation
 * parameters, and every failing call leaves its message on that context
 * (the one error channel). The executor keeps its own message buffer
 * (stage threads write it); it is copied to the context after the call.
 */
#include <stdlib.h>

#include "sched/pipeline_api.h"

struct swacl_pipeline {
    swacl_ctx *ctx;          /* borrowed: must outlive the pipeline          */
    sched_pipeline *impl;
};

struct swacl_pipeline_session {
    swacl_pipeline *p;       /* borrowed: must outlive the session           */
    sched_pipeline_session *impl;
};

/* The executor's message for a failed call, onto the pipeline's context. */
static swacl_status pipe_error(const swacl_pipeline *p, swacl_status st)
{
    return st == SWACL_OK ? SWACL_OK : swacl_copy_error(p->ctx, st, sched_pipeline_errmsg(p->impl));
}

swacl_status swacl_pipeline_create_ex(swacl_ctx *ctx, const char *devices, const char *placement,
                                      const swacl_config *cfg, const swacl_weights *weights,
                                      const swacl_sched_opts *opts, swacl_pipeline **out)
{
    if (!out) return swacl_set_error(ctx, SWACL_INVALID_ARG, "swacl_pipeline_create: out is NULL");
    *out = NULL;
    if (!ctx) return SWACL_INVALID_ARG; /* nowhere to report, nothing to inherit */
    if (!cfg || !weights)
        return swacl_set_error(ctx, SWACL_INVALID_ARG, "swacl_pipeline_create: NULL config or weights");
    swacl_config c; /* the caller's struct read by its struct_size */
    SWACL_TRY(swacl_config_read(ctx, cfg, &c));
    swacl_pipeline *p = calloc(1, sizeof *p);
    if (!p) return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "swacl_pipeline_create: out of memory");
    p->ctx = ctx;
    char err[SWACL_ERRMSG_LEN];
    err[0] = 0;
    swacl_status st = sched_pipeline_create_ex(devices, placement, &c, weights,
                                               swacl_ctx_params_of(ctx), opts, &p->impl, err,
                                               sizeof err);
    if (st != SWACL_OK) {
        sched_pipeline_destroy(p->impl);
        free(p);
        return swacl_copy_error(ctx, st, err);
    }
    *out = p;
    return SWACL_OK;
}

swacl_status swacl_pipeline_create(swacl_ctx *ctx, const char *devices, const char *placement,
                                   const swacl_config *cfg, const swacl_weights *weights,
                                   swacl_pipeline **out)
{
    return swacl_pipeline_create_ex(ctx, devices, placement, cfg, weights, NULL, out);
}

swacl_ctx *swacl_pipeline_ctx(const swacl_pipeline *p) { return p ? p->ctx : NULL; }

void swacl_pipeline_destroy(swacl_pipeline *p)
{
    if (!p) return;
    sched_pipeline_destroy(p->impl);
    free(p);
}

void swacl_pipeline_set_micro_batches(swacl_pipeline *p, int n)
{
    if (p) sched_pipeline_set_micro_batches(p->impl, n);
}

swacl_status swacl_pipeline_describe(const swacl_pipeline *p, swacl_pipeline_stage *stages, int max,
                                     int *n)
{
    if (!p) return SWACL_INVALID_ARG;
    swacl_status st = sched_pipeline_describe(p->impl, stages, max, n);
    if (st != SWACL_OK)
        return swacl_set_error(p->ctx, st, "swacl_pipeline_describe: NULL stages or count");
    return SWACL_OK;
}

swacl_status swacl_pipeline_forward(swacl_pipeline *p, const swacl_input *in, int all_positions,
                                    float *out)
{
    if (!p) return SWACL_INVALID_ARG;
    return pipe_error(p, sched_pipeline_forward(p->impl, in, all_positions, out));
}

swacl_status swacl_pipeline_session_create(swacl_pipeline *p, int batch, int max_ctx,
                                           swacl_pipeline_session **out)
{
    if (!p) return SWACL_INVALID_ARG;
    if (!out) return swacl_set_error(p->ctx, SWACL_INVALID_ARG, "swacl_pipeline_session_create: out is NULL");
    *out = NULL;
    swacl_pipeline_session *s = calloc(1, sizeof *s);
    if (!s) return swacl_set_error(p->ctx, SWACL_OUT_OF_MEMORY, "swacl_pipeline_session_create: out of memory");
    s->p = p;
    swacl_status st = sched_pipeline_session_create(p->impl, batch, max_ctx, &s->impl);
    if (st != SWACL_OK) {
        sched_pipeline_session_destroy(s->impl);
        free(s);
        return pipe_error(p, st);
    }
    *out = s;
    return SWACL_OK;
}

void swacl_pipeline_session_destroy(swacl_pipeline_session *s)
{
    if (!s) return;
    sched_pipeline_session_destroy(s->impl);
    free(s);
}

int swacl_pipeline_session_pos(const swacl_pipeline_session *s, int b)
{
    return s ? sched_pipeline_session_pos(s->impl, b) : 0;
}

swacl_status swacl_pipeline_session_step(swacl_pipeline_session *s, int T, const int *n_new,
                                         const int32_t *ids, const float *embeds, float *out)
{
    if (!s) return SWACL_INVALID_ARG;
    return pipe_error(s->p, sched_pipeline_session_step(s->impl, T, n_new, ids, embeds, out));
}

swacl_status swacl_pipeline_session_prefill(swacl_pipeline_session *s, const swacl_input *in,
                                            int chunk, float *out)
{
    if (!s) return SWACL_INVALID_ARG;
    return pipe_error(s->p, sched_pipeline_session_prefill(s->impl, in, chunk, out));
}
