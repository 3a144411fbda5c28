/*
 * sched.h - the executor above the layer graph (include/swacl.h,
 * "Session" and "Pipeline"). One executor: a pipeline of stages, each a
 * model holding a contiguous layer range; a single device is a pipeline of
 * one stage (sched_pipeline_solo), so swacl_session_* and
 * swacl_pipeline_session_* are one implementation (session.c).
 *
 *   pipeline.c   create / destroy / describe, the device list, the fit
 *                check, the one-stage pipeline, error recording
 *   run.c        execution: one host thread per stage, micro-batches,
 *                links between stages (device copy or host staging)
 *   session.c    KV-cache sessions: step validation, stepping, chunked
 *                prefill (both public session APIs)
 *   kv.c         KV-cache sizing and allocation (the only place)
 *   placement.c  where layers run: SPEC parsing, calibration with its JSON
 *                cache, the balanced contiguous split, stage bytes
 *
 * Tests reach the hooks here (a fake memory budget, the step check)
 * through swacl_pipeline_create_ex and sched_step_check.
 */
#ifndef SWACL_SCHED_H
#define SWACL_SCHED_H

#include "graph/graph.h"

typedef struct sched_remote sched_remote;

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
    /* A part of a pipeline spread over processes (host/mpi/): this process
     * holds layers [layer_begin, layer_end) (both 0: all) on its devices as
     * dev_of_layer[layer] says (indices into `devices`; set: no placement
     * here), and reaches the other parts through remote (the pipeline
     * calls remote->destroy when it is destroyed). */
    int layer_begin, layer_end;
    const int *dev_of_layer;
    sched_remote *remote;
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

/* swacl_pipeline_create with the test hooks of swacl_sched_opts (NULL:
 * defaults). */
swacl_status swacl_pipeline_create_ex(swacl_ctx *ctx, const char *devices, const char *placement,
                                      const swacl_config *cfg, const swacl_weights *weights,
                                      const swacl_sched_opts *opts, swacl_pipeline **out);
/* The context p reports to (tests read its message). */
swacl_ctx *swacl_pipeline_ctx(const swacl_pipeline *p);

/* ------------------------------------------------------------------------ */
/* The pipeline (pipeline.c, run.c).                                         */

typedef struct {
    int dev;                 /* index into the device list                  */
    int l0, l1;              /* layers [l0, l1)                             */
    swacl_ctx *ctx;
    swacl_model *m;
    uint64_t weight_bytes;
    double busy_s;           /* device seconds (host seconds for ref)       */
    double xfer_s;           /* host seconds in transfers to / from other
                                processes (remote links only)               */
    int link_in;             /* SCHED_LINK_*: how x reaches this stage      */
    uint64_t kv_bytes;       /* held by the sessions open now               */
} sched_stage;

typedef struct {
    char sel[64];            /* selector ("0", "ref", ...)                  */
    char name[256];
    uint64_t mem, max_alloc; /* budget the fit check uses (0: unchecked)    */
} sched_device;

struct swacl_pipeline {
    swacl_config cfg;
    int n_dev;
    sched_device *dev;
    int n_stages;
    sched_stage *st;         /* [n_stages] in layer order                   */
    int *stage_of_layer;     /* [n_layers]                                  */
    int micro_batches;       /* 0 = auto                                    */
    int plan_rows;
    int fail_stage;          /* test hook (swacl_sched_opts)                */
    /* solo: the one-stage pipeline of a swacl_session, over the caller's
     * model; it borrows the model and its context, records errors on that
     * context and skips the busy-time marks */
    int solo;
    swacl_share *share;      /* shared OpenCL contexts (NULL: none)         */
    swacl_buf *pin;          /* host-link staging: pinned, of pin_be        */
    swacl_backend *pin_be;
    float *pin_ptr;          /* mapped pin, or malloc'd when pin is NULL    */
    size_t pin_bytes;
    swacl_ctx *owner;        /* errors go here (borrowed; NULL when solo)   */
    sched_remote *remote;    /* the other processes' parts (NULL: none)     */
    int session_seq;         /* handles of the sessions made on p           */
    uint64_t host_weight_bytes; /* owned weight bytes after the build       */
};

/* A pipeline of one stage over m (borrowed: m and its context outlive it).
 * Errors go to m's context. */
swacl_status sched_pipeline_solo(swacl_model *m, swacl_pipeline **out);

/* Error recording, in one place: a pipeline's message (the solo pipeline's
 * goes to its model's context). sched_fail_stage records stage k's context
 * message, naming the stage when the pipeline has several. */
void sched_clear_error(swacl_pipeline *p);
swacl_status sched_fail(const swacl_pipeline *p, swacl_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
swacl_status sched_fail_stage(swacl_pipeline *p, int k, swacl_status st);
/* swacl_graph_check_input on the first stage, its message as the pipeline's. */
swacl_status sched_check_input(swacl_pipeline *p, const swacl_input *in);

/* Each stage's weights + activations + its layers' KV for a session of
 * batch x max_ctx fit its device (devices of unknown memory: unchecked). */
swacl_status sched_session_fits(swacl_pipeline *p, int batch, int max_ctx);
/* Micro-batches a call over B sequences is cut into. */
int sched_micro_batches(const swacl_pipeline *p, int B);

/* One micro-batch of a run: sequences [b0, b0+nb). */
typedef struct sched_job_s {
    int b0, nb;
    const int *pos0, *n_new; /* [nb]                                        */
    const int32_t *ids;      /* [nb*T] or NULL                              */
    const float *embeds;     /* [nb*T, Din] or NULL                         */
    swacl_kv_layer *kv;      /* [n_layers] for this micro-batch, or NULL    */
    float *x;                /* host staging [nb*T, D] (host links)         */
    float *out;              /* output slice                                */
    swacl_event *ready;      /* device link: the producer's x is complete   */
} sched_job;

/* ------------------------------------------------------------------------ */
/* Remote parts: the seam between this pipeline and its parts in other      */
/* processes (host/mpi/mpi_link.c implements it over MPI; the core library   */
/* never needs MPI). The root process drives: each public call on its        */
/* pipeline is first announced (command) and the other processes replay it  */
/* on their parts, so every part runs the same micro-batches in the same     */
/* order. Activations cross between processes through host staging (x_in /   */
/* x_out), the last layer's output goes to the root (out_send). The hooks    */
/* never fail back: a transport or remote error ends the whole job with a    */
/* message naming the process (the transport's business, within seconds).   */

enum {
    SCHED_CMD_FORWARD = 1, SCHED_CMD_SESS_CREATE, SCHED_CMD_SESS_STEP, SCHED_CMD_SESS_PREFILL,
    SCHED_CMD_SESS_DESTROY, SCHED_CMD_MICRO_BATCHES, SCHED_CMD_DESCRIBE, SCHED_CMD_DESTROY
};

typedef struct {
    int op;                  /* SCHED_CMD_*                                 */
    int handle;              /* session                                     */
    int B, T, all_positions, chunk, n; /* n: micro-batches / max_ctx        */
    const int *n_new;        /* [B] or NULL                                 */
    const int32_t *ids;      /* [B*T] or NULL                               */
    const float *embeds;     /* [B*T*input_dim] or NULL                     */
} sched_cmd;

struct sched_remote {
    void *user;
    int rank;                /* this process                                */
    int root;                /* this process drives the others              */
    int first, last;         /* holds layer 0 / the last layer              */
    int fault_fail;          /* test hook: this process's runs fail         */
    void (*command)(sched_remote *r, const swacl_config *c, const sched_cmd *cmd);
    /* a run over n_mb jobs starts (x in from the previous process, output
     * to the root are posted now) / micro-batch i's x has arrived in
     * jobs[i].x / jobs[i].x ([n] floats) goes on / jobs[i].out ([n]) goes
     * to the root / the run is over (st != OK: msg ends the job; else every
     * transfer of the run has completed) */
    void (*run_begin)(sched_remote *r, int T, int all_positions, struct sched_job_s *jobs, int n_mb,
                      size_t D, size_t V);
    void (*x_in)(sched_remote *r, int i);
    void (*x_out)(sched_remote *r, int i, size_t n);
    void (*out_send)(sched_remote *r, int i, size_t n);
    void (*run_end)(sched_remote *r, swacl_status st, const char *msg);
    /* root: every process's stages in layer order (as swacl_pipeline_describe) */
    int (*describe)(sched_remote *r, const swacl_pipeline *p, swacl_pipeline_stage *stages, int max);
    void (*destroy)(sched_remote *r);
};

/* Per process (rank) of the stages st[n] (layer order): a cJSON array of
 * {rank, layers, stages, busy_s, transfer_s, weight_bytes,
 * host_weight_bytes, kv_bytes (batch x n_ctx), kv_held_bytes} (report.c;
 * the bench's pipeline section too). */
struct cJSON *sched_ranks_json(const swacl_config *c, const swacl_pipeline_stage *st, int n, int batch,
                              int n_ctx, int kv_f16);

/* This process's own stages (swacl_pipeline_describe without remote). */
int sched_describe_local(const swacl_pipeline *p, swacl_pipeline_stage *stages, int max);

/* Run T rows of every job through every stage: the calling thread runs
 * stage 0, one more thread per further stage; jobs' x from sched_staging. */
swacl_status sched_run(swacl_pipeline *p, int T, int all_positions, sched_job *jobs, int n_jobs);
/* Host staging for host links, [bytes], kept across calls. NULL (and *oom
 * = 0) when no link goes through the host. */
float *sched_staging(swacl_pipeline *p, size_t bytes, int *oom);

/* ------------------------------------------------------------------------ */
/* kv.c: KV-cache sizing and allocation.                                     */
/*                                                                           */
/* Per layer, per sequence (swacl_layer_cache_cap, internal.h):              */
/*   GLOBAL  max_ctx slots                                                   */
/*   WINDOW  a ring of min(W, max_ctx)                                       */
/*   CHUNK   a ring of min(C, max_ctx)                                       */

/* 1 when a session of max_ctx must stop at max_ctx positions: a GLOBAL
 * layer, or a ring cut below its span by max_ctx. Else the rings stream
 * forever (up to INT_MAX positions). */
int sched_kv_bounded(const swacl_config *c, int max_ctx);
/* KV bytes (K + V) of layers [l0, l1) for batch x max_ctx, f16: 2-byte
 * values; *max_buf (may be NULL) = the largest single buffer. */
uint64_t sched_kv_range_bytes(const swacl_config *c, int l0, int l1, int batch, int max_ctx,
                              int f16, uint64_t *max_buf);
/* Allocate layer l's K and V on be for batch x max_ctx (f16: 2-byte
 * values); *bytes = K + V bytes (also on failure, for the message). */
swacl_status sched_kv_alloc(swacl_backend *be, const swacl_config *c, int l, int batch,
                            int max_ctx, int f16, swacl_kv_layer *kv, uint64_t *bytes);
void sched_kv_free(swacl_backend *be, swacl_kv_layer *kv);

/* ------------------------------------------------------------------------ */
/* session.c                                                                 */

/* Can a step of T rows per sequence append n_new[b] (n_new NULL: T) tokens
 * to each of B sequences now at pos[b]? Bounded sessions stop at max_ctx,
 * every session at INT_MAX positions; B*T rows must be addressable. No sum
 * can overflow. SWACL_OK, or SWACL_INVALID_ARG with the reason in why. */
swacl_status sched_step_check(int B, int T, const int *n_new, const int *pos, int max_ctx,
                              int bounded, char *why, size_t len);

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

/* The cache file as text (calib_file.c, no backend needed, fuzzed by
 * tests/fuzz/fuzz_calib.c): sched_calib_parse gives its JSON object (last
 * duplicate key wins; NULL when not an object); sched_calib_entry fills
 * *cal from the entry under key, 0 when present and valid, else -1.      */
struct cJSON;
struct cJSON *sched_calib_parse(const char *text, size_t n);
int sched_calib_entry(const struct cJSON *j, const char *key, sched_calib *cal);

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
/* The same with nonempty != 0: every device takes at least one layer (an MPI
 * rank with no layers has nothing to run; a slow calibration under load must
 * not leave one out). -1 when n_dev > n_layers. */
int sched_split_ex(int n_dev, int n_layers, const double *cost, const double *t_in,
                   const double *t_out, sched_fit_fn fits, void *user, int nonempty,
                   int *dev_of_layer);

#endif /* SWACL_SCHED_H */
