/* tune_own.h - the own-GEMM tuner's entry with extra candidates
 * (tune_own.c): tried first, in order, with the same checks; the tests
 * pass a deliberately broken one (swacl_gemm_params.test_drop_k) and see
 * it rejected. swacl_tune_own is this with none. */
#ifndef SWACL_TUNE_OWN_H
#define SWACL_TUNE_OWN_H

#include "tune/tune_internal.h"
#include "cl/cl_params.h"

swacl_status swacl_tune_own_run(swacl_ctx *ctx, const swacl_tune_own_params *p,
                                const swacl_gemm_params *extra, int n_extra, char **json);

/* mc and mc_min_m (cl_params.h) from per-class times: tm[c * n_mc + v]
 * the seconds of the shapes of M class ms[c] (ascending) under mc =
 * mcs[v] (0: no blocks, also what classes below the threshold run).
 * Minimises the summed log(chosen / best) over the classes among mc > 0
 * from threshold 0 or one class's M, or no blocks (mc 0; ties: the first).
 * 0 ok, -1 nothing to pick (n_mc 0). */
int swacl_tune_pick_mc(int n_m, const int *ms, int n_mc, const int *mcs, const double *tm,
                       int *mc, int *mc_min_m);

#endif
