/* cl_program.c - compose, build and cache OpenCL programs.
 *
 * Source = generated device header + common.cl + <file>.cl, from the
 * embedded table (cl_embedded.h) or from dev->kernel_dir. Programs are kept
 * per (file, options) for the life of the device, and their binaries on
 * disk under dev->cache_dir, keyed by a hash of everything that can change
 * the binary (format version, full source, full options, device name,
 * device/driver/platform versions), in the spirit of ggml's cache
 * (docs/PERF.md 1.2): write to a temp file, then rename. The disk cache is an
 * optimisation only: any failure there falls back to compiling from
 * source and is never reported as an error.
 *
 * Cache entry layout: cl_pcache.h. The file name is only where to
 * look: the full key stored in the header is compared on load, sizes and
 * checksums are checked and the driver's binary format is walked before
 * the driver sees a byte; any mismatch deletes the entry, which the build
 * from source then rewrites (self-repairing). Stale temp files of killed
 * writers are swept when a device opens its cache (swacl_cl_cache_sweep). */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "cl/cl_embedded.h"
#include "cl/cl_internal.h"
#include "common/file.h"
#include "cl/cl_pcache.h"
#include "common/env.h"

#define CACHE_FORMAT "swacl-program-cache-v1"
#define BASE_OPTIONS "-cl-std=CL1.2 -cl-mad-enable"

/* ------------------------------------------------------------------------ */
/* Hashing: two independent FNV-1a 64 lanes give a 128-bit key.             */

typedef struct {
    uint64_t a, b;
} hash128;

static void fnv_bytes(hash128 *h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h->a = (h->a ^ p[i]) * 0x100000001b3ull;
        h->b = (h->b ^ (unsigned char)(p[i] + 0x5b)) * 0x100000001b3ull;
    }
}

/* Length-prefixed field, so ("ab","c") and ("a","bc") differ. */
static void fnv_field(hash128 *h, const char *s, size_t n)
{
    uint64_t len = n;
    fnv_bytes(h, &len, sizeof len);
    fnv_bytes(h, s, n);
}

/* ------------------------------------------------------------------------ */
/* Sources.                                                                  */

static int valid_name(const char *s)
{
    if (!s || !*s) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-') return 0;
    return 1;
}

/* Read a whole kernel source into a malloc'd, NUL-terminated buffer:
 * regular files only (a FIFO would block open, /dev/zero never ends) and at
 * most MAX_SOURCE bytes. errno says why on failure. */
#define MAX_SOURCE (16u << 20)
static char *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat sb;
    int e = fstat(fd, &sb) != 0                               ? errno
            : !S_ISREG(sb.st_mode)                             ? EINVAL
            : sb.st_size < 0 || (uint64_t)sb.st_size > MAX_SOURCE ? EFBIG
                                                               : 0;
    if (e) {
        close(fd);
        errno = e;
        return NULL;
    }
    size_t n = (size_t)sb.st_size, got = 0;
    char *buf = malloc(n + 1);
    while (buf && got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    e = errno;
    close(fd);
    if (!buf) {
        errno = ENOMEM;
        return NULL;
    }
    buf[got] = '\0'; /* a file that shrank while read: what was there */
    *len = got;
    errno = e;
    return buf;
}

/* Fetch one source part (stem without .cl) into *out (malloc'd). */
static swacl_status load_part(swacl_ctx *ctx, const swacl_cl_dev *dev, const char *stem,
                              char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (dev->kernel_dir[0]) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s.cl", dev->kernel_dir, stem);
        errno = 0;
        *out = read_file(path, len);
        if (!*out)
            return swacl_set_error(ctx, SWACL_IO, "cannot read kernel source %s: %s", path,
                                   errno ? strerror(errno) : "read error");
        return SWACL_OK;
    }
    for (const swacl_embedded_kernel *k = swacl_embedded_kernels; k->name; k++) {
        if (strcmp(k->name, stem) == 0) {
            *out = malloc(k->len + 1);
            if (!*out)
                return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "out of memory for %s.cl",
                                       stem);
            memcpy(*out, k->src, k->len);
            (*out)[k->len] = '\0';
            *len = k->len;
            return SWACL_OK;
        }
    }
    return swacl_set_error(ctx, SWACL_INVALID_ARG,
                           "no embedded kernel source '%s.cl' (set kernel_dir or "
                           "SWACL_KERNEL_DIR to load from disk)",
                           stem);
}

static swacl_status compose_source(swacl_ctx *ctx, const swacl_cl_dev *dev, const char *file,
                                   char **out, size_t *out_len)
{
    char header[512];
    const char *kind = dev->is_cpu ? "CPU"
                       : strcmp(dev->info.type, "gpu") == 0         ? "GPU"
                       : strcmp(dev->info.type, "accelerator") == 0 ? "ACCELERATOR"
                                                                    : "OTHER";
    int hl = snprintf(header, sizeof header,
                      "/* generated by swacl */\n"
                      "#define SWACL_DEVICE_%s 1\n"
                      "#define SWACL_MAX_WG_SIZE %zu\n"
                      "#define SWACL_LOCAL_MEM_BYTES %llu\n",
                      kind, dev->info.max_work_group_size,
                      (unsigned long long)dev->info.local_mem_bytes);
    char *common = NULL, *body = NULL;
    size_t common_len = 0, body_len = 0;
    swacl_status st = load_part(ctx, dev, "common", &common, &common_len);
    if (st != SWACL_OK) return st;
    st = load_part(ctx, dev, file, &body, &body_len);
    if (st != SWACL_OK) {
        free(common);
        return st;
    }
    char line_common[64], line_body[128];
    int lc = snprintf(line_common, sizeof line_common, "#line 1 \"common.cl\"\n");
    int lb = snprintf(line_body, sizeof line_body, "\n#line 1 \"%s.cl\"\n", file);
    size_t total = (size_t)hl + (size_t)lc + common_len + (size_t)lb + body_len + 2;
    char *src = malloc(total);
    if (!src) {
        free(common);
        free(body);
        return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "out of memory composing %s.cl", file);
    }
    size_t n = 0;
    memcpy(src + n, header, (size_t)hl), n += (size_t)hl;
    memcpy(src + n, line_common, (size_t)lc), n += (size_t)lc;
    memcpy(src + n, common, common_len), n += common_len;
    memcpy(src + n, line_body, (size_t)lb), n += (size_t)lb;
    memcpy(src + n, body, body_len), n += body_len;
    src[n++] = '\n';
    src[n] = '\0';
    free(common);
    free(body);
    *out = src;
    *out_len = n;
    return SWACL_OK;
}

/* ------------------------------------------------------------------------ */
/* Disk cache.                                                               */

/* The entry's full key (stored in its header and compared on load). */
typedef struct {
    char plat_ver[256];
    char src_hash[40];
    swacl_pcache_key k;
} cache_key;

static void make_key(const swacl_cl_dev *dev, const char *file, const char *src, size_t src_len,
                     const char *opts, cache_key *ck)
{
    ck->plat_ver[0] = '\0';
    if (clGetPlatformInfo(dev->platform, CL_PLATFORM_VERSION, sizeof ck->plat_ver - 1,
                          ck->plat_ver, NULL) != CL_SUCCESS)
        ck->plat_ver[0] = '\0';
    ck->plat_ver[sizeof ck->plat_ver - 1] = '\0';
    hash128 h = {0xcbf29ce484222325ull, 0x84222325cbf29ce4ull};
    fnv_field(&h, src, src_len);
    snprintf(ck->src_hash, sizeof ck->src_hash, "%016llx%016llx", (unsigned long long)h.a,
             (unsigned long long)h.b);
    const char *f[SWACL_PCACHE_NFIELDS] = {file,
                                           opts,
                                           dev->info.name,
                                           dev->info.driver_version,
                                           dev->info.device_version,
                                           ck->plat_ver,
                                           ck->src_hash};
    memcpy(ck->k.field, f, sizeof f);
}

/* Cache path for this build, or -1 when caching is off / impossible. The
 * name is only where to look: the header holds the key that is checked. */
static int cache_path(const swacl_cl_dev *dev, const cache_key *ck, char *path, size_t len)
{
    if (!dev->cache_dir[0]) return -1;
    hash128 h = {0xcbf29ce484222325ull, 0x84222325cbf29ce4ull};
    fnv_field(&h, CACHE_FORMAT, strlen(CACHE_FORMAT));
    for (int i = 0; i < SWACL_PCACHE_NFIELDS; i++)
        fnv_field(&h, ck->k.field[i], strlen(ck->k.field[i]));
    int w = snprintf(path, len, "%s/%s-%016llx%016llx.bin", dev->cache_dir, ck->k.field[0],
                     (unsigned long long)h.a, (unsigned long long)h.b);
    return (w > 0 && (size_t)w < len) ? 0 : -1;
}

/* Load and validate a cache entry's payload (malloc'd, *len bytes).
 * NULL when absent (*why = "") or rejected (*why = the reason): the key
 * differs, the header/payload sizes or checksums do not match, the file
 * is not a regular file or over the size bound, or the driver's binary
 * format does not parse. No byte of a rejected file reaches the driver. */
static unsigned char *cache_load(const swacl_cl_dev *dev, const char *path, const cache_key *ck,
                                 size_t *len, char *why, size_t why_len)
{
    why[0] = '\0';
    if (access(path, F_OK) != 0 && errno == ENOENT) return NULL; /* absent: not a rejection */
    /* the one bounded reader: regular files only, size capped before reading */
    uint8_t *raw = NULL;
    size_t n = 0;
    if (swacl_file_read_msg(path, SWACL_PCACHE_MAX_FILE, &raw, &n, why, why_len) != SWACL_OK)
        return NULL;
    size_t off = 0, plen = 0;
    if (swacl_pcache_parse(raw, n, &ck->k, &off, &plen, why, why_len) != 0 ||
        (strstr(dev->info.platform_name, "Portable Computing Language") &&
         swacl_pocl_binary_check(raw + off, plen, why, why_len) != 0)) {
        free(raw);
        return NULL;
    }
    memmove(raw, raw + off, plen);
    *len = plen;
    return raw;
}

/* Save the program's binary: write "<path>.tmp.<pid>.<dev>" (exclusive
 * create, so two contexts of one process never share a temp file), then
 * rename over <path>. Returns 0, or -1 with nothing left behind. */
static int cache_save(const swacl_cl_dev *dev, cl_program prog, const char *path,
                      const cache_key *ck)
{
    size_t bin_len = 0;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof bin_len, &bin_len, NULL) !=
            CL_SUCCESS ||
        bin_len == 0 || bin_len > SWACL_PCACHE_MAX_PAYLOAD)
        return -1;
    unsigned char *bin = malloc(bin_len);
    if (!bin) return -1;
    unsigned char *bins[1] = {bin};
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL) != CL_SUCCESS ||
        swacl_mkdir_p(dev->cache_dir) != 0) {
        free(bin);
        return -1;
    }
    unsigned char hdr[SWACL_PCACHE_MAX_HEADER];
    size_t hl = swacl_pcache_write_header(&ck->k, bin, bin_len, hdr, sizeof hdr);
    char tmp[1300];
    int w = snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%lx", path, (long)getpid(),
                     (unsigned long)(uintptr_t)dev);
    FILE *f = (hl && w > 0 && (size_t)w < sizeof tmp) ? fopen(tmp, "wbx") : NULL;
    if (!f) {
        free(bin);
        return -1;
    }
    int ok = fwrite(hdr, 1, hl, f) == hl && fwrite(bin, 1, bin_len, f) == bin_len;
    ok = (fclose(f) == 0) && ok;
    free(bin);
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return -1;
    }
    return 0;
}

/* A cache temp file: "<name>.bin.tmp.<pid>[.<hex>]" or
 * "<name>.json.tmp.<pid>[.<hex>]" (program binaries, tune and calibration
 * files). Returns the writer's pid, or 0 when name is not one. */
static long tmp_writer(const char *name)
{
    const char *t = strstr(name, ".tmp.");
    if (!t) return 0;
    size_t stem = (size_t)(t - name);
    if (!((stem > 4 && !strncmp(t - 4, ".bin", 4)) || (stem > 5 && !strncmp(t - 5, ".json", 5))))
        return 0;
    const char *s = t + 5;
    char *e = NULL;
    errno = 0;
    long pid = strtol(s, &e, 10);
    if (errno || e == s || pid <= 0 || !isdigit((unsigned char)*s)) return 0;
    if (*e == '.') {
        const char *h = e + 1;
        if (!*h) return 0;
        for (; *h; h++)
            if (!isxdigit((unsigned char)*h)) return 0;
    } else if (*e) {
        return 0;
    }
    return pid;
}

int swacl_cl_cache_sweep(const char *dir, double max_age_s, int verbose)
{
    if (!dir || !*dir) return 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    int removed = 0;
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long pid = tmp_writer(e->d_name);
        if (!pid) continue;
        char path[1400];
        int w = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (w <= 0 || (size_t)w >= sizeof path || lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        /* a writer that is gone never renames its file; a live one (or a
         * recycled pid) gets max_age_s to finish */
        int dead = (pid_t)pid == pid && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
        int old = difftime(now, sb.st_mtime) > max_age_s;
        if ((dead || old) && unlink(path) == 0) {
            removed++;
            if (verbose)
                fprintf(stderr, "swacl: removed stale cache temp file %s (%s)\n", path,
                        dead ? "writer gone" : "too old");
        }
    }
    closedir(d);
    return removed;
}

/* ------------------------------------------------------------------------ */
/* Build.                                                                    */

static char *build_log(const swacl_cl_dev *dev, cl_program prog)
{
    size_t n = 0;
    if (clGetProgramBuildInfo(prog, dev->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &n) !=
            CL_SUCCESS ||
        n == 0)
        return NULL;
    char *log = malloc(n + 1);
    if (!log) return NULL;
    if (clGetProgramBuildInfo(prog, dev->device, CL_PROGRAM_BUILD_LOG, n, log, NULL) !=
        CL_SUCCESS) {
        free(log);
        return NULL;
    }
    log[n] = '\0';
    size_t l = strlen(log);
    while (l > 0 && isspace((unsigned char)log[l - 1])) log[--l] = '\0';
    return log;
}

/* Compile from source; on failure records SWACL_BUILD with the log. */
static swacl_status build_from_source(swacl_ctx *ctx, swacl_cl_dev *dev, const char *file,
                                      const char *src, size_t src_len, const char *opts,
                                      cl_program *out)
{
    cl_int rc = CL_SUCCESS;
    const char *srcs[1] = {src};
    size_t lens[1] = {src_len};
    cl_program prog = clCreateProgramWithSource(dev->context, 1, srcs, lens, &rc);
    if (rc != CL_SUCCESS || !prog)
        return swacl_cl_fail(ctx, rc != CL_SUCCESS ? rc : CL_INVALID_PROGRAM,
                             "clCreateProgramWithSource", __FILE__, __LINE__);
    rc = clBuildProgram(prog, 1, &dev->device, opts, NULL, NULL);
    if (rc != CL_SUCCESS) {
        if (rc != CL_BUILD_PROGRAM_FAILURE && rc != CL_INVALID_BUILD_OPTIONS &&
            rc != CL_COMPILER_NOT_AVAILABLE) {
            clReleaseProgram(prog);
            return swacl_cl_fail(ctx, rc, "clBuildProgram", __FILE__, __LINE__);
        }
        char *log = build_log(dev, prog);
        clReleaseProgram(prog);
        /* Keep the head of the message intact and cut the log to fit. */
        char head[1536];
        int hl = snprintf(head, sizeof head,
                          "building %s.cl failed: %s (%d) on %s\noptions: %s\nbuild log:\n",
                          file, swacl_cl_error_name(rc), (int)rc, dev->info.name, opts);
        if (hl < 0) hl = 0;
        if ((size_t)hl >= sizeof head) hl = (int)sizeof head - 1;
        size_t room = SWACL_ERRMSG_LEN - 1 - (size_t)hl;
        const char *l = log ? log : "(no build log)";
        size_t ll = strlen(l);
        const char *trunc = "\n[build log truncated]";
        int cut = ll > room;
        size_t keep = cut ? (room > strlen(trunc) ? room - strlen(trunc) : 0) : ll;
        swacl_status st = swacl_set_error(ctx, SWACL_BUILD, "%s%.*s%s", head, (int)keep, l,
                                          cut ? trunc : "");
        free(log);
        return st;
    }
    *out = prog;
    return SWACL_OK;
}

/* Try a cached binary; NULL when absent, rejected or refused by the
 * driver. A rejected or refused entry is deleted (and rebuilt from source
 * by the caller, which rewrites it), with a verbose line saying why. */
static cl_program build_from_binary(swacl_cl_dev *dev, const char *path, const cache_key *ck,
                                    const char *opts)
{
    size_t len = 0;
    char why[256];
    unsigned char *bin = cache_load(dev, path, ck, &len, why, sizeof why);
    cl_program prog = NULL;
    if (bin) {
        cl_int rc = CL_SUCCESS, bst = CL_SUCCESS;
        const unsigned char *bins[1] = {bin};
        prog = clCreateProgramWithBinary(dev->context, 1, &dev->device, &len, bins, &bst, &rc);
        free(bin);
        if (rc != CL_SUCCESS || bst != CL_SUCCESS || !prog) {
            snprintf(why, sizeof why, "driver refused the binary: %s",
                     swacl_cl_error_name(rc != CL_SUCCESS ? rc : bst));
            if (prog) clReleaseProgram(prog);
            prog = NULL;
        } else if ((rc = clBuildProgram(prog, 1, &dev->device, opts, NULL, NULL)) != CL_SUCCESS) {
            snprintf(why, sizeof why, "driver could not build the binary: %s",
                     swacl_cl_error_name(rc));
            clReleaseProgram(prog);
            prog = NULL;
        }
    }
    if (!prog && why[0]) {
        /* lstat: never follow a planted link when deleting */
        struct stat sb;
        if (lstat(path, &sb) == 0 && !S_ISDIR(sb.st_mode)) unlink(path);
        if (dev->verbose)
            fprintf(stderr, "swacl: discarded program cache entry %s: %s; rebuilding\n", path,
                    why);
    }
    return prog;
}

swacl_status swacl_cl_program(swacl_ctx *ctx, swacl_cl_dev *dev, const char *file,
                              const char *options, cl_program *out)
{
    if (out) *out = NULL;
    if (!dev || !dev->context || !out)
        return swacl_set_error(ctx, SWACL_INVALID_ARG, "swacl_cl_program: no device");
    if (!valid_name(file))
        return swacl_set_error(ctx, SWACL_INVALID_ARG,
                               "swacl_cl_program: bad kernel file name '%s'", file ? file : "");
    if (!options) options = "";

    char key[sizeof dev->progs[0].key];
    int kw = snprintf(key, sizeof key, "%s|%s", file, options);
    if (kw < 0 || (size_t)kw >= sizeof key)
        return swacl_set_error(ctx, SWACL_INVALID_ARG,
                               "swacl_cl_program: %s options too long (%zu bytes)", file,
                               strlen(options));
    for (int i = 0; i < dev->n_progs; i++) {
        if (strcmp(dev->progs[i].key, key) == 0) {
            *out = dev->progs[i].program;
            return SWACL_OK;
        }
    }
    if (dev->n_progs >= SWACL_CL_MAX_PROGRAMS)
        return swacl_set_error(ctx, SWACL_INTERNAL,
                               "swacl_cl_program: more than %d program variants (building %s)",
                               SWACL_CL_MAX_PROGRAMS, key);

    double t0 = swacl_now();
    char *src = NULL;
    size_t src_len = 0;
    SWACL_TRY(compose_source(ctx, dev, file, &src, &src_len));

    const char *extra = swacl_env(SWACL_ENV_CL_BUILD_OPTIONS);
    size_t olen = strlen(BASE_OPTIONS) + strlen(options) + (extra ? strlen(extra) : 0) + 4;
    char *opts = malloc(olen);
    if (!opts) {
        free(src);
        return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "out of memory building %s", file);
    }
    snprintf(opts, olen, "%s%s%s%s%s", BASE_OPTIONS, *options ? " " : "", options,
             (extra && *extra) ? " " : "", (extra && *extra) ? extra : "");

    char path[1200];
    cache_key ck;
    make_key(dev, file, src, src_len, opts, &ck);
    int cacheable = cache_path(dev, &ck, path, sizeof path) == 0;
    cl_program prog = cacheable ? build_from_binary(dev, path, &ck, opts) : NULL;
    int hit = prog != NULL;
    swacl_status st = SWACL_OK;
    if (!prog) {
        st = build_from_source(ctx, dev, file, src, src_len, opts, &prog);
        if (st == SWACL_OK && cacheable && cache_save(dev, prog, path, &ck) != 0 && dev->verbose)
            fprintf(stderr, "swacl: cannot write program cache %s (continuing without)\n",
                    path);
    }
    free(src);
    free(opts);
    double dt = swacl_now() - t0;
    dev->compile_seconds += dt;
    if (st != SWACL_OK) return st;

    if (hit)
        dev->cache_hits++;
    else
        dev->cache_misses++;
    if (dev->verbose) {
        if (hit)
            fprintf(stderr, "swacl: loaded %s from cache (%.2f s)\n", file, dt);
        else
            fprintf(stderr, "swacl: compiled %s (%.2f s)\n", file, dt);
    }
    swacl_cl_prog_entry *e = &dev->progs[dev->n_progs++];
    memcpy(e->key, key, (size_t)kw + 1);
    e->program = prog;
    *out = prog;
    return SWACL_OK;
}
