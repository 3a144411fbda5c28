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

#endif
