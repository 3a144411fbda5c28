/*
 * env.c - every getenv() of libswacl (see env.h). The table below is the
 * list of documented variables; docs/ENVIRONMENT.md repeats it for users.
 */
#include "common/env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const swacl_env_doc k_env[SWACL_ENV_COUNT] = {
    [SWACL_ENV_KERNEL_DIR] = {"SWACL_KERNEL_DIR",
                              "read kernels_cl/*.cl from this directory instead of the copies "
                              "embedded in the library (kernel development without a rebuild); "
                              "swacl_ctx_params.kernel_dir wins",
                              "embedded sources"},
    [SWACL_ENV_CACHE_DIR] = {"SWACL_CACHE_DIR",
                             "program-binary cache, GEMM tune files and pipeline calibration "
                             "directory; 'off' disables the disk cache; "
                             "swacl_ctx_params.cache_dir wins",
                             "$XDG_CACHE_HOME/swacl, else $HOME/.cache/swacl"},
    [SWACL_ENV_XDG_CACHE_HOME] = {"XDG_CACHE_HOME",
                                  "base of the default cache directory (<it>/swacl) when "
                                  "SWACL_CACHE_DIR is unset",
                                  "$HOME/.cache"},
    [SWACL_ENV_HOME] = {"HOME", "last fallback for the cache directory ($HOME/.cache/swacl)",
                        "no disk cache"},
    [SWACL_ENV_CL_BUILD_OPTIONS] = {"SWACL_CL_BUILD_OPTIONS",
                                    "extra options appended to every clBuildProgram (they are "
                                    "part of the binary-cache key)",
                                    "none"},
    [SWACL_ENV_GEMM_TUNE] = {"SWACL_GEMM_TUNE",
                             "'off': CLBlast's own GEMM parameters (ignore the `swacl tune` file "
                             "and the built-in rows); 'defaults': ignore only the built-in rows",
                             "tune file, else built-in row, else CLBlast's"},
    [SWACL_ENV_STRICT_LEAKS] = {"SWACL_STRICT_LEAKS",
                                "'1': abort when a context is destroyed while device buffers "
                                "(models, sessions) are still allocated (CI; LSan cannot see "
                                "cl_mem leaks)",
                                "a warning on stderr"},
    [SWACL_ENV_PIPELINE_LINK] = {"SWACL_PIPELINE_LINK",
                                 "'host': pipeline stages exchange activations through host "
                                 "memory even where a shared OpenCL context allows device copies",
                                 "device copies within one platform"},
    [SWACL_ENV_TMPDIR] = {"TMPDIR", "directory for temporary files (benchmarks' scratch files)",
                          "/tmp"},
    [SWACL_ENV_MPI_TIMEOUT] = {"SWACL_MPI_TIMEOUT",
                               "seconds an MPI pipeline rank waits for activations or outputs "
                               "from another rank before it ends the job (host/mpi/)",
                               "120"},
    [SWACL_ENV_MPI_FAULT] = {"SWACL_MPI_FAULT",
                             "test hook of the MPI pipeline: 'kill:R' (rank R kills itself with "
                             "SIGKILL at its first run), 'hang:R' (rank R stops at its first run) or "
                             "'fail:R' (a device error on rank R)",
                             "none"},
    /* set by MPI launchers: swacl (built with MPI) calls MPI_Init only under
     * one, since a singleton MPI_Init costs about a second */
    [SWACL_ENV_OMPI_SIZE] = {"OMPI_COMM_WORLD_SIZE", "set by Open MPI's mpirun: the CLI starts MPI",
                             "no MPI unless PMI_SIZE / PMIX_RANK is set"},
    [SWACL_ENV_PMI_SIZE] = {"PMI_SIZE", "set by MPICH / Slurm PMI launchers: the CLI starts MPI",
                            "no MPI unless OMPI_COMM_WORLD_SIZE / PMIX_RANK is set"},
    [SWACL_ENV_PMIX_RANK] = {"PMIX_RANK", "set by PMIx launchers (srun --mpi=pmix): the CLI starts MPI",
                             "no MPI unless OMPI_COMM_WORLD_SIZE / PMI_SIZE is set"},
};

const swacl_env_doc *swacl_env_doc_of(swacl_env_var v)
{
    return (int)v >= 0 && v < SWACL_ENV_COUNT ? &k_env[v] : NULL;
}

const char *swacl_env(swacl_env_var v)
{
    const swacl_env_doc *d = swacl_env_doc_of(v);
    if (!d) return NULL;
    const char *s = getenv(d->name);
    return s && *s ? s : NULL;
}

int swacl_env_is(swacl_env_var v, const char *value)
{
    const char *s = swacl_env(v);
    return s && value && strcasecmp(s, value) == 0;
}

void swacl_env_cache_dir(const char *param, char *dst, size_t len)
{
    if (!dst || !len) return;
    dst[0] = '\0';
    const char *v = param && *param ? param : swacl_env(SWACL_ENV_CACHE_DIR);
    int w;
    if (v) {
        if (strcmp(v, "off") == 0) return;
        w = snprintf(dst, len, "%s", v);
    } else {
        const char *xdg = swacl_env(SWACL_ENV_XDG_CACHE_HOME), *home = swacl_env(SWACL_ENV_HOME);
        if (xdg)
            w = snprintf(dst, len, "%s/swacl", xdg);
        else if (home)
            w = snprintf(dst, len, "%s/.cache/swacl", home);
        else
            return; /* nowhere to cache: off */
    }
    if (w < 0 || (size_t)w >= len) dst[0] = '\0';
}

const char *swacl_env_tmpdir(void)
{
    const char *t = swacl_env(SWACL_ENV_TMPDIR);
    return t ? t : "/tmp";
}
