/*
 * common.c - status strings, error recording, time, RNG, query temperature.
 */
#define _POSIX_C_SOURCE 200809L
#include <sys/resource.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <time.h>

#include "internal.h"

int swacl_version_number(void) { return SWACL_VERSION_NUMBER; }

const char *swacl_status_string(swacl_status s)
{
    switch (s) {
#define SWACL_XX(name, val, str)                                             \
    case SWACL_##name:                                                       \
        return str;
        SWACL_STATUS_MAP(SWACL_XX)
#undef SWACL_XX
    }
    return "unknown status";
}

void swacl_format_msg(char *buf, size_t len, const char *fmt, ...)
{
    if (!buf || !len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* The parameters ctx was created with (loaders read their flags here). */
const swacl_ctx_params *swacl_ctx_params_of(const swacl_ctx *ctx)
{
    return ctx ? &ctx->params : NULL;
}

/* The one error channel: the last message a call left on ctx. */
const char *swacl_ctx_errmsg(const swacl_ctx *ctx) { return ctx ? ctx->errmsg : "no context"; }

swacl_status swacl_set_error(swacl_ctx *ctx, swacl_status st, const char *fmt, ...)
{
    if (!ctx) return st;
    /* Format into a local buffer first: callers often pass the current
     * message as an argument ("loading x: %s", swacl_ctx_errmsg(ctx)), and
     * vsnprintf into the buffer it reads from is undefined (garbled text). */
    char tmp[SWACL_ERRMSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    memcpy(ctx->errmsg, tmp, strlen(tmp) + 1);
    return st;
}

swacl_status swacl_copy_error(swacl_ctx *ctx, swacl_status st, const char *msg)
{
    return swacl_set_error(ctx, st, "%s", msg && msg[0] ? msg : swacl_status_string(st));
}

double swacl_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int swacl_mkdir_p(const char *dir)
{
    char tmp[4096];
    int w = snprintf(tmp, sizeof tmp, "%s", dir ? dir : "");
    if (w <= 0 || (size_t)w >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0777) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0777) != 0 && errno != EEXIST) return -1;
    struct stat sb;
    if (stat(tmp, &sb) != 0) return -1;
    if (!S_ISDIR(sb.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* splitmix64: tiny, seedable, good enough for test data and random weights. */
uint64_t swacl_rng_next(swacl_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

float swacl_rng_uniform(swacl_rng *r)
{
    /* 24 random bits -> [0,1) exactly representable, then [-1,1) */
    return (float)(swacl_rng_next(r) >> 40) * (2.0f / 16777216.0f) - 1.0f;
}

float swacl_temp_factor(swacl_temp t, float p0, float p1, int p)
{
    switch (t) {
    case SWACL_TEMP_LLAMA4:
        /* Llama 4 attn_temperature_tuning (docs/MODEL.md 1.6): 1 + s*ln(1+floor((p+1)/f)) */
        return (float)(1.0 + (double)p1 * log(1.0 + floor(((double)p + 1.0) / (double)p0)));
    case SWACL_TEMP_LOG_RATIO: {
        /* SWAN-style log-ratio (UNVERIFIED constants): max(1, ln(p+1)/ln(L_train)) */
        double s = log((double)p + 1.0) / log((double)p0);
        return (float)(s > 1.0 ? s : 1.0);
    }
    case SWACL_TEMP_NONE:
    default:
        return 1.0f;
    }
}

uint64_t swacl_peak_rss_bytes(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (uint64_t)ru.ru_maxrss * 1024u; /* Linux reports KiB */
}
