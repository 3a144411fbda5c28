/* cl_tune_file.h - a GEMM parameter set and the tune file parser, without
 * OpenCL (cl_tune_file.c; fuzzed by tests/fuzz/fuzz_tune.c).
 * A set: CLBlast "Xgemm" values in swacl_tune_xgemm_names order,
 * "XgemmDirect" values in swacl_tune_direct_names order, and "GemmRoutine"
 * XGEMM_MIN_INDIRECT_SIZE (direct path when m*n*k < size^3; 0 = never).   */
#ifndef SWACL_CL_TUNE_FILE_H
#define SWACL_CL_TUNE_FILE_H

#include <stddef.h>
#include <stdint.h>

#define SWACL_TUNE_FORMAT "swacl-gemm-tune-1"
#define SWACL_TUNE_NX 16
#define SWACL_TUNE_ND 10
extern const char *const swacl_tune_xgemm_names[SWACL_TUNE_NX];
extern const char *const swacl_tune_direct_names[SWACL_TUNE_ND];
typedef struct {
    size_t x[SWACL_TUNE_NX];
    size_t d[SWACL_TUNE_ND];
    size_t min_indirect;
} swacl_tune_params;

/* CLBlast's constraints (1 = valid); 0 limits mean "no limit". */
int swacl_tune_xgemm_ok(const size_t *x, size_t max_wg, uint64_t local_mem);
int swacl_tune_direct_ok(const size_t *d, size_t max_wg, uint64_t local_mem);

/* What a tune file is checked against: the device and driver it must name,
 * its work-group and local-memory limits (0 = no limit). */
typedef struct {
    const char *name, *driver_version;
    size_t max_wg;
    uint64_t local_mem;
} swacl_tune_limits;
/* Parse and validate a tune file's text (NUL-terminated; lim NULL: no
 * device match/limits): 0 with *out set, -1 with the reason in why.
 * Never crashes on bad input.                                             */
int swacl_tune_parse_text(const swacl_tune_limits *lim, const char *text,
                          swacl_tune_params *out, char *why, size_t why_len);

#endif
