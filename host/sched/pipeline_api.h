/*
 * pipeline_api.h - the seam between the public pipeline API
 * (pipeline_api.c: handles bound to the caller's context, errors on that
 * context) and the executor (pipeline.c: stages, threads, micro-batches,
 * its own message buffer). The executor's entry points are the public ones
 * with a sched_ prefix and the pre-context signatures.
 */
#ifndef SWACL_SCHED_PIPELINE_API_H
#define SWACL_SCHED_PIPELINE_API_H

#include "sched/sched.h"

typedef struct sched_pipeline sched_pipeline;
typedef struct sched_pipeline_session sched_pipeline_session;

/* swacl_pipeline_create with the test hooks of swacl_sched_opts (NULL:
 * defaults); the stages inherit ctx's creation parameters. */
swacl_status swacl_pipeline_create_ex(swacl_ctx *ctx, const char *devices, const char *placement,
                                      const swacl_config *cfg, const swacl_weights *weights,
                                      const swacl_sched_opts *opts, swacl_pipeline **out);

/* The context p was created on (NULL for NULL): tests read its message. */
swacl_ctx *swacl_pipeline_ctx(const swacl_pipeline *p);

/* pipeline.c. Messages go to err (create) or to the pipeline's own buffer,
 * read with sched_pipeline_errmsg ("" after a successful call). */
swacl_status sched_pipeline_create_ex(const char *devices, const char *placement,
                                      const swacl_config *cfg, const swacl_weights *weights,
                                      const swacl_ctx_params *base, const swacl_sched_opts *opts,
                                      sched_pipeline **out, char *err, size_t err_len);
void sched_pipeline_destroy(sched_pipeline *p);
const char *sched_pipeline_errmsg(const sched_pipeline *p);
void sched_pipeline_set_micro_batches(sched_pipeline *p, int n);
swacl_status sched_pipeline_describe(const sched_pipeline *p, swacl_pipeline_stage *stages, int max,
                                     int *n);
swacl_status sched_pipeline_forward(sched_pipeline *p, const swacl_input *in, int all_positions,
                                    float *out);
swacl_status sched_pipeline_session_create(sched_pipeline *p, int batch, int max_ctx,
                                           sched_pipeline_session **out);
void sched_pipeline_session_destroy(sched_pipeline_session *s);
int sched_pipeline_session_pos(const sched_pipeline_session *s, int b);
swacl_status sched_pipeline_session_step(sched_pipeline_session *s, int T, const int *n_new,
                                         const int32_t *ids, const float *embeds, float *out);
swacl_status sched_pipeline_session_prefill(sched_pipeline_session *s, const swacl_input *in,
                                            int chunk, float *out);

#endif /* SWACL_SCHED_PIPELINE_API_H */
