/*
 * sched.h - internals of the multi-device pipeline (include/swacl.h,
 * "Pipeline"): placement (placement.c: SPEC parsing, calibration with its
 * JSON cache, the balanced contiguous split, the memory-fit check) and the
 * executor (pipeline.c: stages, one host thread per stage, micro-batches).
 * Tests reach the hooks here (a fake memory budget) through
 * swacl_pipeline_create_ex.
 */
#ifndef SWACL_SCHED_H
#define SWACL_SCHED_H

#include "graph/graph.h"

/* Knobs the public create leaves at their defaults (0 = default). */
typedef struct {
    uint64_t mem_limit;  /* bytes per device, overriding its global memory
                            (and max alloc) when smaller: a test hook       */
    int plan_rows;       /* activation rows the fit check assumes (512)     */
    int calib_seq;       /* tokens of the calibration forward (64)          */
    int verbose;         /* placement decisions to stderr                   */
    int fail_stage;      /* test hook: stage fail_stage-1 fails on its last
                            micro-batch (exercises abort + join paths)      */
    int host_links;      /* no shared contexts: every link host-staged     */
} swacl_sched_opts;

/* How activations reach a stage from the one before. */
enum {
    SCHED_LINK_NONE = 0, /* the first stage                                  */
    SCHED_LINK_DEVICE,   /* clEnqueueCopyBuffer within one shared context    */
    SCHED_LINK_PINNED,   /* read into / write from pinned host memory        */
    SCHED_LINK_HOST      /* plain host memory (reference stages only)        */
};
static inline const char *sched_link_name(int link)
{
    return link == SCHED_LINK_DEVICE ? "device-copy"
           : link == SCHED_LINK_PINNED ? "host-pinned"
           : link == SCHED_LINK_HOST  ? "host"
                                      : "";
}

/* swacl_pipeline_create_ex (the test hooks) and the executor's entry
 * points: sched/pipeline_api.h. */

/* ------------------------------------------------------------------------ */
/* placement.c                                                               */

/* Parse "0-3:0,4-7:1" for n_layers layers over n_dev devices into
 * dev_of_layer[n_layers]. Every layer exactly once, in order; one
 * contiguous range per device. SWACL_INVALID_ARG + message on failure. */
swacl_status sched_parse_spec(const char *spec, int n_layers, int n_dev, int *dev_of_layer,
                              char *err, size_t err_len);

/* One device's calibration, for `seq` rows of activations. */
typedef struct {
    double window_s, global_s; /* one layer of each kind                    */
    double xfer_host_s;        /* x [seq, D] read to the host + written back */
    double xfer_copy_s;        /* x copied on the device (0: cannot)         */
} sched_calib;

/* Measured once on a small forward (one window and one global layer of
 * cfg's shapes) and cached in cache_dir/sched-calib.json under a key of
 * device + shapes ("" = no cache). *cached = 1 when read from the cache. */
swacl_status sched_calibrate(swacl_ctx *ctx, const swacl_config *cfg, const char *cache_dir,
                             int seq, sched_calib *out, int *cached);

/* The cache directory swacl_ctx_params / $SWACL_CACHE_DIR / $XDG_CACHE_HOME
 * / ~/.cache select ("" when off). */
void sched_cache_dir(const swacl_ctx_params *p, char *dst, size_t len);

/* Bytes a stage [l0, l1) needs: weights + activations for plan_rows rows
 * (+ KV for kv_batch x kv_ctx when kv_batch > 0); *max_buf = largest single
 * buffer. */
uint64_t sched_stage_bytes(const swacl_config *cfg, int l0, int l1, int plan_rows, int kv_batch,
                           int kv_ctx, uint64_t *max_buf);

/* Split n_layers layers into contiguous ranges, device k taking the k-th
 * range (possibly empty), minimising the largest stage time subject to
 * fits(k, l0, l1). A stage's time: sum(cost[k][l]) over its layers, plus
 * t_in[k] when it receives x from an earlier stage and t_out[k] when it
 * sends x on (t_in / t_out may be NULL: free transfers). Writes
 * dev_of_layer; -1 when nothing fits. */
typedef int (*sched_fit_fn)(int dev, int l0, int l1, void *user);
int sched_split(int n_dev, int n_layers, const double *cost /* [n_dev][n_layers] */,
                const double *t_in, const double *t_out, sched_fit_fn fits, void *user,
                int *dev_of_layer);

#endif /* SWACL_SCHED_H */
