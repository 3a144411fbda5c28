/*
 * test_memory.c - host memory that issue 11's RSS bar depends on:
 *   - swacl_file_map_drop releases a copied range's file pages (the GGUF
 *     loader's copy and the file are never both resident), and the mapping
 *     still reads the file's bytes afterwards;
 *   - prefill GEMMs do not pile up per-call operand copies (CLBlast's
 *     padded temporaries, freed by the runtime only once the GEMM ran):
 *     many GEMMs in a row raise the peak RSS by far less than one copy each.
 */
#define _DEFAULT_SOURCE /* mkstemp */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/file.h"
#include "helpers.h"
#include "internal.h"

/* Resident bytes of this process now (/proc/self/statm, field 2). */
static size_t rss_now(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &res) != 2) res = 0;
        fclose(f);
    }
    return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

Test(memory, map_drop_releases_pages)
{
    const size_t n = (size_t)32 << 20;
    char path[] = "/tmp/swacl_test_memoryXXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    uint8_t *buf = malloc(n);
    cr_assert(buf);
    for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)(i * 2654435761u >> 13);
    cr_assert(write(fd, buf, n) == (ssize_t)n);
    close(fd);
    swacl_file_map m;
    char err[256];
    cr_assert(swacl_file_map_open(path, &m, err, sizeof err) == SWACL_OK, "%s", err);
    unlink(path);
    cr_assert(memcmp(m.map, buf, n) == 0); /* every page of the mapping resident */
    const size_t before = rss_now();
    /* an unaligned range: only the pages wholly inside it go */
    swacl_file_map_drop(m.map + 100, n - 200);
    const size_t after = rss_now();
    cr_assert(before > after && before - after >= n - 3 * 4096 - (1 << 20),
              "RSS %zu -> %zu after dropping %zu bytes", before, after, n);
    cr_assert(memcmp(m.map, buf, n) == 0, "the mapping reads the file after the drop");
    swacl_file_map_drop(NULL, 0); /* no-op */
    swacl_file_map_drop(m.map, 100); /* no whole page: no-op */
    swacl_file_map_close(&m);
    free(buf);
}

Test(memory, gemm_temporaries_do_not_pile_up, .timeout = 120)
{
    swacl_ctx *ctx = test_cl_ctx();
    swacl_backend *be = ctx->be;
    const int M = 32, N = 2816, K = 1024, reps = 24; /* W: 11 MiB, one temporary copy each */
    float *w = malloc((size_t)N * K * sizeof *w), *x = malloc((size_t)M * K * sizeof *x);
    cr_assert(w && x);
    fill_uniform(w, (size_t)N * K, 1, 0.03f);
    fill_uniform(x, (size_t)M * K, 2, 1.0f);
    swacl_buf *bw = test_upload(be, w, (size_t)N * K), *bx = test_upload(be, x, (size_t)M * K);
    swacl_buf *by = test_alloc(be, (size_t)M * N);
    cr_assert(be->iface->matmul(be, by, bx, bw, NULL, M, N, K, 0) == SWACL_OK, "%s",
              swacl_ctx_errmsg(ctx));
    cr_assert(be->iface->finish(be) == SWACL_OK);
    const uint64_t peak0 = swacl_peak_rss_bytes();
    for (int r = 0; r < reps; r++)
        cr_assert(be->iface->matmul(be, by, bx, bw, NULL, M, N, K, 1) == SWACL_OK, "%s",
                  swacl_ctx_errmsg(ctx));
    cr_assert(be->iface->finish(be) == SWACL_OK);
    const uint64_t grew = swacl_peak_rss_bytes() - peak0;
    /* y = (1 + reps) x W^T: the GEMMs ran, and accumulated */
    float *y = test_download(be, by, (size_t)M * N);
    for (int i = 0; i < M; i += 7)
        for (int j = 0; j < N; j += 389) {
            double ref = 0;
            for (int k = 0; k < K; k++) ref += (double)x[(size_t)i * K + k] * w[(size_t)j * K + k];
            ref *= 1 + reps;
            cr_assert(fabs(y[(size_t)i * N + j] - ref) <= 1e-3 * (1 + fabs(ref)), "y[%d,%d] %g vs %g", i,
                      j, y[(size_t)i * N + j], ref);
        }
    cr_assert(grew < ((uint64_t)48 << 20), "%d GEMMs raised the peak RSS by %llu MiB", reps,
              (unsigned long long)(grew >> 20));
    free(y);
    be->iface->buf_free(be, bw);
    be->iface->buf_free(be, bx);
    be->iface->buf_free(be, by);
    swacl_ctx_destroy(ctx);
    free(w);
    free(x);
}
