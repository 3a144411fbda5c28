/*
 * env.h - the one place libswacl reads the process environment.
 *
 * Every variable the library looks at is a row of the table in env.c (name,
 * meaning, default), and docs/ENVIRONMENT.md lists the same rows (a test
 * checks it). Values are read at each call, never cached, so the library
 * keeps no global state and a test may setenv() between two contexts.
 * Anything that selects behaviour for one context belongs in
 * swacl_ctx_params, not here.
 */
#ifndef SWACL_ENV_H
#define SWACL_ENV_H

#include <stddef.h>

typedef enum {
    SWACL_ENV_KERNEL_DIR,       /* SWACL_KERNEL_DIR       */
    SWACL_ENV_CACHE_DIR,        /* SWACL_CACHE_DIR        */
    SWACL_ENV_XDG_CACHE_HOME,   /* XDG_CACHE_HOME         */
    SWACL_ENV_HOME,             /* HOME                   */
    SWACL_ENV_CL_BUILD_OPTIONS, /* SWACL_CL_BUILD_OPTIONS */
    SWACL_ENV_GEMM_TUNE,        /* SWACL_GEMM_TUNE        */
    SWACL_ENV_STRICT_LEAKS,     /* SWACL_STRICT_LEAKS     */
    SWACL_ENV_PIPELINE_LINK,    /* SWACL_PIPELINE_LINK    */
    SWACL_ENV_TMPDIR,           /* TMPDIR                 */
    SWACL_ENV_MPI_TIMEOUT,      /* SWACL_MPI_TIMEOUT      */
    SWACL_ENV_MPI_FAULT,        /* SWACL_MPI_FAULT        */
    SWACL_ENV_OMPI_SIZE,        /* OMPI_COMM_WORLD_SIZE   */
    SWACL_ENV_PMI_SIZE,         /* PMI_SIZE               */
    SWACL_ENV_PMIX_RANK,        /* PMIX_RANK              */
    SWACL_ENV_COUNT
} swacl_env_var;

typedef struct {
    const char *name;    /* "SWACL_CACHE_DIR"                 */
    const char *meaning; /* one line                          */
    const char *dflt;    /* behaviour when unset or empty     */
} swacl_env_doc;

/* The value of v, or NULL when it is unset or empty. */
const char *swacl_env(swacl_env_var v);
/* 1 when v is set to value (ASCII case-insensitive), else 0. */
int swacl_env_is(swacl_env_var v, const char *value);
/* The documentation row of v (NULL for an out-of-range v). */
const swacl_env_doc *swacl_env_doc_of(swacl_env_var v);

/* The cache-directory policy, the only copy: param (swacl_ctx_params
 * .cache_dir) if non-empty, else $SWACL_CACHE_DIR, else
 * $XDG_CACHE_HOME/swacl, else $HOME/.cache/swacl; "off" (from param or
 * SWACL_CACHE_DIR) or no usable location gives "". A path that does not
 * fit in len also gives "" (cache off rather than a truncated path). */
void swacl_env_cache_dir(const char *param, char *dst, size_t len);

/* Directory for temporary files: $TMPDIR, else "/tmp". */
const char *swacl_env_tmpdir(void);

#endif /* SWACL_ENV_H */
