/* cl_tune_own.h - the own GEMM's tune file (cl_tune_own.c; searched by
 * host/tune/tune_own.c): <cache_dir>/gemm-own-<name>-<hash>.json holds a
 * swacl_gemm_params (cl_params.h) for one device and driver, applied over
 * the table row when a CL backend is created there. */
#ifndef SWACL_CL_TUNE_OWN_H
#define SWACL_CL_TUNE_OWN_H

#include "cl/cl_internal.h"
#include "cl/cl_params.h"

int swacl_gemm_own_path(const swacl_cl_dev *dev, char *path, size_t len);
/* Parse and range-check a file's text (dev NULL: no device match and no
 * limits): 0 with *out set, -1 with the reason in why. Never crashes on
 * bad input. */
int swacl_gemm_own_parse(const swacl_cl_dev *dev, const char *text, swacl_gemm_params *out,
                         char *why, size_t why_len);
/* Write p for dev (extra: optional, stored as "measured"). */
swacl_status swacl_gemm_own_save(swacl_ctx *ctx, const swacl_cl_dev *dev,
                                 const swacl_gemm_params *p, const struct cJSON *extra,
                                 char *path_out, size_t path_len);
/* Backend-creation hook: *gp = the file's parameters when dev has a valid
 * one (SWACL_GEMM_TUNE=off or =defaults skips it). 1 when applied; never
 * fails (a bad file is ignored with a warning). */
int swacl_cl_gemm_own_apply(const swacl_cl_dev *dev, swacl_gemm_params *gp);

#endif
