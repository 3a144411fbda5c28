/*
 * rss_floor.c - the resident memory an OpenCL run costs before any model
 * data (issue 11's peak-RSS bar): what generate cannot cut on this runtime.
 *
 *   rss_floor cl                  bare OpenCL: platform, context, queue, one
 *                                 8-line kernel built (PoCL's kernel cache
 *                                 serves it when warm) and run once
 *   rss_floor swacl [TYPE]        swacl_ctx_create on the CPU device (every
 *                                 swacl program from the warm binary cache),
 *                                 then a tiny cohere2-shaped model (hidden
 *                                 256, d 128, GQA 2:1, 4 layers, vocab 512,
 *                                 < 2 MB of weights) in TYPE (default f32):
 *                                 a 64-token prefill in chunks of 32 and 4
 *                                 decode steps, so every kernel generate runs
 *                                 is launched once at least
 *
 * Prints VmRSS / VmHWM / RssAnon / RssFile (KiB) after each stage. Run it
 * under tools/rss_probe.sh for the per-mapping breakdown at the peak.
 * Run each mode once first so the kernel caches are warm.
 */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "swacl.h"

static void stage(const char *name)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    printf("%-28s", name);
    while (f && fgets(line, sizeof line, f)) {
        static const char *const keys[] = {"VmRSS:", "VmHWM:", "RssAnon:", "RssFile:"};
        for (int i = 0; i < 4; i++)
            if (!strncmp(line, keys[i], strlen(keys[i]))) {
                long kb = 0;
                sscanf(line + strlen(keys[i]), "%ld", &kb);
                printf(" %s %7ld", keys[i], kb);
            }
    }
    printf("  (KiB)\n");
    if (f) fclose(f);
    fflush(stdout);
}

/* Resident KiB per mapping name (basename; [anon] for unnamed), >= 512 KiB. */
static void smaps_summary(void)
{
    enum { MAXN = 256 };
    static char names[MAXN][64];
    static long rss[MAXN];
    int n = 0, cur = -1;
    char line[512];
    FILE *f = fopen("/proc/self/smaps", "r");
    while (f && fgets(line, sizeof line, f)) {
        unsigned long a, b;
        char perms[8], path[400] = "";
        long kb;
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %399[^\n]", &a, &b, perms, path) >= 3) {
            const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path[0] ? path : "[anon]";
            cur = -1;
            for (int i = 0; i < n; i++)
                if (!strcmp(names[i], base)) cur = i;
            if (cur < 0 && n < MAXN) snprintf(names[cur = n++], sizeof names[0], "%s", base);
        } else if (cur >= 0 && sscanf(line, "Rss: %ld", &kb) == 1) {
            rss[cur] += kb;
        }
    }
    if (f) fclose(f);
    for (int i = 0; i < n; i++)
        if (rss[i] >= 512) printf("  %8.1f MiB  %s\n", rss[i] / 1024.0, names[i]);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
    /* how much of the malloc heap is free (what malloc_trim could return) */
    struct mallinfo2 mi = mallinfo2();
    printf("  malloc: %.1f MiB arena (brk) + %.1f MiB mmap'd, %.1f MiB in use, %.1f MiB free\n",
           mi.arena / 1048576.0, mi.hblkhd / 1048576.0, mi.uordblks / 1048576.0,
           mi.fordblks / 1048576.0);
#endif
}

static int bare_cl(void)
{
    static const char *src = "__kernel void inc(__global float *a) { a[get_global_id(0)] += 1.0f; }";
    cl_platform_id plat;
    cl_device_id dev;
    cl_int err = clGetPlatformIDs(1, &plat, NULL);
    if (err == CL_SUCCESS) err = clGetDeviceIDs(plat, CL_DEVICE_TYPE_CPU, 1, &dev, NULL);
    if (err != CL_SUCCESS) return fprintf(stderr, "rss_floor: no OpenCL CPU device (%d)\n", err), 1;
    stage("platform + device");
    cl_context c = clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
    cl_command_queue q = err == CL_SUCCESS ? clCreateCommandQueue(c, dev, 0, &err) : NULL;
    if (err != CL_SUCCESS) return fprintf(stderr, "rss_floor: context (%d)\n", err), 1;
    stage("context + queue");
    cl_program p = clCreateProgramWithSource(c, 1, &src, NULL, &err);
    if (err == CL_SUCCESS) err = clBuildProgram(p, 1, &dev, "", NULL, NULL);
    cl_kernel k = err == CL_SUCCESS ? clCreateKernel(p, "inc", &err) : NULL;
    if (err != CL_SUCCESS) return fprintf(stderr, "rss_floor: build (%d)\n", err), 1;
    stage("program built");
    float a[64] = {0};
    size_t n = 64;
    cl_mem m = clCreateBuffer(c, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, sizeof a, a, &err);
    if (err == CL_SUCCESS) err = clSetKernelArg(k, 0, sizeof m, &m);
    if (err == CL_SUCCESS) err = clEnqueueNDRangeKernel(q, k, 1, NULL, &n, NULL, 0, NULL, NULL);
    if (err == CL_SUCCESS) err = clEnqueueReadBuffer(q, m, CL_TRUE, 0, sizeof a, a, 0, NULL, NULL);
    if (err != CL_SUCCESS || a[63] != 1.0f) return fprintf(stderr, "rss_floor: run (%d)\n", err), 1;
    stage("kernel run");
    smaps_summary();
    clReleaseMemObject(m), clReleaseKernel(k), clReleaseProgram(p);
    clReleaseCommandQueue(q), clReleaseContext(c);
    return 0;
}

static int tiny_swacl(const char *type)
{
    swacl_preset_params pp = {.hidden_size = 256, .n_heads = 2, .n_kv_heads = 1, .n_layers = 4,
                              .ffn_dim = 512, .vocab_size = 512, .window = 16};
    swacl_config cfg;
    const int wt = swacl_wtype_parse(type);
    if (wt < 0 || swacl_preset_ex("cohere2", &pp, &cfg) != SWACL_OK)
        return fprintf(stderr, "rss_floor: bad type %s\n", type), 2;
    swacl_ctx_params cp = swacl_ctx_params_default();
    cp.device = "cpu";
    swacl_ctx *ctx = NULL;
    swacl_weights *w = NULL;
    swacl_model *mdl = NULL;
    swacl_session *s = NULL;
    enum { P = 64, STEPS = 4 };
    int32_t ids[P + STEPS];
    float *out = malloc((size_t)cfg.vocab_size * sizeof *out);
    uint64_t rs = 1;
    swacl_random_ids(&rs, cfg.vocab_size, ids, P + STEPS);
    swacl_input in = {1, P, ids, NULL};
    int rc = 1;
    if (!out) goto done;
    if (swacl_ctx_create(&cp, &ctx) != SWACL_OK) goto fail;
    stage("swacl_ctx_create");
    if (swacl_weights_create_random(&cfg, 1, &w) != SWACL_OK ||
        swacl_weights_convert(ctx, w, (swacl_wtype)wt) != SWACL_OK ||
        swacl_model_create(ctx, &cfg, w, &mdl) != SWACL_OK ||
        swacl_session_create(mdl, 1, P + STEPS, &s) != SWACL_OK)
        goto fail;
    stage("tiny model + session");
    if (swacl_session_prefill(s, &in, 32, out) != SWACL_OK) goto fail;
    stage("prefill 64 (chunks of 32)");
    for (int t = 0; t < STEPS; t++)
        if (swacl_session_step(s, 1, NULL, &ids[P + t], NULL, out) != SWACL_OK) goto fail;
    stage("4 decode steps");
    smaps_summary();
    printf("weights %s: %llu bytes, kv %llu bytes\n", type,
           (unsigned long long)swacl_weights_bytes(w, SWACL_WT_AUTO),
           (unsigned long long)swacl_session_kv_bytes(s));
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "rss_floor: %s\n", ctx ? swacl_ctx_errmsg(ctx) : "out of memory");
done:
    swacl_session_destroy(s);
    swacl_model_destroy(mdl);
    swacl_weights_destroy(w);
    swacl_ctx_destroy(ctx);
    free(out);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "cl") && strcmp(argv[1], "swacl"))) {
        fprintf(stderr, "usage: rss_floor cl | swacl [f32|f16|bf16|q8_0|q4_0]\n");
        return 2;
    }
    stage("start");
    int rc = !strcmp(argv[1], "cl") ? bare_cl() : tiny_swacl(argc > 2 ? argv[2] : "f32");
    stage("end");
    return rc;
}
