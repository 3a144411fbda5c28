/*
 * hf_save.c - swacl_save_hf: swacl_config + swacl_weights -> a Hugging Face
 * model directory (config.json + one F32 model.safetensors).
 *
 * Never in place: both files are written into a fresh directory next to the
 * destination (same parent, so same file system), fsync'd, and only then
 * put in place by one rename; over an existing directory the two are
 * swapped atomically (renameat2 RENAME_EXCHANGE; two renames where the file
 * system lacks it) and the old one removed. A kill at any moment leaves the
 * old model or the new one; a write error (full disk, file size limit)
 * leaves the destination untouched and no partial file, and reports errno.
 *
 * The work directory is "<parent>/.<name>.swacl-save-<pid>-<n>"; one left
 * by a killed save (its pid gone) is removed by the next save to that name.
 * Other files of an existing destination (a tokenizer, a README) are carried
 * into the new directory by hard link; old *.safetensors shards and their
 * index are not (the new single file replaces them).
 */
#define _GNU_SOURCE /* renameat2 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "model/hf.h"

#define SAVE_TAG ".swacl-save-"

/* Buffered writer over a file descriptor that keeps the first errno. */
typedef struct {
    int fd;
    int err; /* errno of the first failure, 0 if none */
    size_t n;
    uint8_t b[1 << 16];
} wfile;

static void w_flush(wfile *f)
{
    for (size_t off = 0; !f->err && off < f->n;) {
        ssize_t r = write(f->fd, f->b + off, f->n - off);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            f->err = r < 0 ? errno : EIO;
            break;
        }
        off += (size_t)r;
    }
    f->n = 0;
}

static void w_put(wfile *f, const void *p, size_t n)
{
    const uint8_t *s = p;
    while (n && !f->err) {
        size_t k = sizeof f->b - f->n < n ? sizeof f->b - f->n : n;
        memcpy(f->b + f->n, s, k);
        f->n += k;
        s += k;
        n -= k;
        if (f->n == sizeof f->b) w_flush(f);
    }
}

/* Remove a directory this code made: its plain entries, then itself (a
 * subdirectory, which it never makes, is left and the rmdir fails). */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[PATH_MAX];
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) < (int)sizeof p) unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* Work directories of earlier saves to this name whose process is gone.
 * An "<work>.old" (the two-rename fallback) may hold the only complete copy
 * while dst is absent: it goes only once dst exists again. */
static void sweep_stale(const char *parent, const char *base, int dst_exists)
{
    DIR *d = opendir(parent);
    if (!d) return;
    char pre[NAME_MAX + 32];
    snprintf(pre, sizeof pre, ".%s" SAVE_TAG, base);
    size_t pl = strlen(pre);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, pre, pl) != 0) continue;
        char *end = NULL;
        long pid = strtol(e->d_name + pl, &end, 10);
        if (pid <= 0 || !end || *end != '-') continue;
        if (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        size_t l = strlen(e->d_name);
        if (!dst_exists && l > 4 && !strcmp(e->d_name + l - 4, ".old")) continue;
        char p[PATH_MAX];
        if (snprintf(p, sizeof p, "%s/%s", parent, e->d_name) < (int)sizeof p) remove_dir(p);
    }
    closedir(d);
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

/* Write one file of the new model: create, fill, fsync, close. */
typedef void (*fill_fn)(wfile *f, const void *user);

static swacl_status write_file(const char *dir, const char *name, fill_fn fill, const void *user,
                               char *err, size_t err_len)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    wfile *f = malloc(sizeof *f);
    if (!f) return SWACL_OUT_OF_MEMORY;
    f->n = 0;
    f->err = 0;
    f->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (f->fd < 0) {
        swacl_format_msg(err, err_len, "cannot create %s: %s", path, strerror(errno));
        free(f);
        return SWACL_IO;
    }
    fill(f, user);
    w_flush(f);
    if (!f->err && fsync(f->fd) != 0) f->err = errno;
    if (close(f->fd) != 0 && !f->err) f->err = errno;
    int e = f->err;
    free(f);
    if (e) {
        swacl_format_msg(err, err_len, "write error on %s: %s", path, strerror(e));
        return SWACL_IO;
    }
    return SWACL_OK;
}

static void fill_text(wfile *f, const void *user)
{
    w_put(f, user, strlen(user));
    w_put(f, "\n", 1);
}

typedef struct {
    const char *hdr;
    int n;
    const swacl_tensor *const *ts;
} st_image;

/* model.safetensors: F32, tensors back to back in config order */
static void fill_safetensors(wfile *f, const void *user)
{
    const st_image *im = user;
    size_t hl = strlen(im->hdr), padded = (hl + 7) / 8 * 8;
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    w_put(f, len8, 8);
    w_put(f, im->hdr, hl);
    w_put(f, "        ", padded - hl);
    for (int i = 0; i < im->n && !f->err; i++) {
        const swacl_tensor *t = im->ts[i];
        const int64_t K = t->ndim ? t->shape[t->ndim - 1] : 1, rows = K ? t->numel / K : 0;
        const size_t rb = swacl_wtype_row_bytes(t->type, K);
        float *x = malloc((size_t)(K ? K : 1) * 4); /* typed tensors are written dequantized */
        if (!x) {
            f->err = ENOMEM;
            return;
        }
        for (int64_t r = 0; r < rows && !f->err; r++) {
            swacl_row_decode(t->type, (const uint8_t *)t->bytes + (size_t)r * rb, x, K);
            for (int64_t j = 0; j < K; j++) { /* little-endian, byte by byte */
                uint32_t u;
                memcpy(&u, &x[j], 4);
                uint8_t b[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
                w_put(f, b, 4);
            }
        }
        free(x);
    }
}

static char *st_header(const swacl_tensor *const *ts, int n)
{
    cJSON *h = cJSON_CreateObject();
    cJSON *meta = h ? cJSON_AddObjectToObject(h, "__metadata__") : NULL;
    char *out = NULL;
    if (!meta || !cJSON_AddStringToObject(meta, "format", "pt")) goto done;
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        if (!e) goto done;
        cJSON_AddItemToObject(h, ts[i]->name, e);
        cJSON_AddStringToObject(e, "dtype", "F32");
        cJSON *s = cJSON_AddArrayToObject(e, "shape");
        for (int d = 0; s && d < ts[i]->ndim; d++)
            cJSON_AddItemToArray(s, cJSON_CreateNumber((double)ts[i]->shape[d]));
        cJSON *o = cJSON_AddArrayToObject(e, "data_offsets");
        uint64_t bytes = (uint64_t)ts[i]->numel * 4;
        if (!s || !o) goto done;
        cJSON_AddItemToArray(o, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(o, cJSON_CreateNumber((double)(off + bytes)));
        off += bytes;
    }
    out = cJSON_PrintUnformatted(h);
done:
    cJSON_Delete(h);
    return out;
}

/* Files of the old directory that the new one keeps (hard links). */
static int is_model_file(const char *n)
{
    size_t l = strlen(n);
    return !strcmp(n, "config.json") || !strcmp(n, "model.safetensors.index.json") ||
           (l >= 12 && !strcmp(n + l - 12, ".safetensors"));
}

static swacl_status carry_over(const char *old, const char *tmp, char *err, size_t err_len)
{
    DIR *d = opendir(old);
    if (!d) {
        swacl_format_msg(err, err_len, "cannot read directory %s: %s", old, strerror(errno));
        return SWACL_IO;
    }
    swacl_status st = SWACL_OK;
    struct dirent *e;
    char a[PATH_MAX], b[PATH_MAX];
    while (st == SWACL_OK && (e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || is_model_file(e->d_name))
            continue;
        snprintf(a, sizeof a, "%s/%s", old, e->d_name);
        snprintf(b, sizeof b, "%s/%s", tmp, e->d_name);
        struct stat sb;
        if (lstat(a, &sb) != 0) continue; /* gone meanwhile */
        if (S_ISLNK(sb.st_mode)) {
            char target[PATH_MAX];
            ssize_t k = readlink(a, target, sizeof target - 1);
            if (k >= 0) target[k] = 0;
            if (k < 0 || symlink(target, b) != 0) st = SWACL_IO;
        } else if (S_ISREG(sb.st_mode)) {
            if (link(a, b) != 0) st = SWACL_IO;
        } else {
            /* a directory would have to be moved, and a kill in between
             * would lose it from the old model: refuse instead */
            swacl_format_msg(err, err_len,
                             "%s holds %s, which is not a file; swacl save replaces the whole "
                             "directory: move it away or save elsewhere",
                             old, e->d_name);
            st = SWACL_IO;
            break;
        }
        if (st != SWACL_OK && !(err && err_len && err[0]))
            swacl_format_msg(err, err_len, "cannot keep %s in the new model directory: %s", a,
                             strerror(errno));
    }
    closedir(d);
    return st;
}

/* Swap tmp (new) with dst (old) so that dst is always one complete model;
 * afterwards tmp names the old directory. */
static int swap_dirs(const char *tmp, const char *dst, char *aside, size_t aside_len)
{
#ifdef RENAME_EXCHANGE
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_EXCHANGE) == 0) {
        snprintf(aside, aside_len, "%s", tmp);
        return 0;
    }
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) return -1;
#endif
    /* fallback: old aside, new in (between the two, dst is briefly absent;
     * the old model stays complete under the aside name) */
    snprintf(aside, aside_len, "%s.old", tmp);
    if (rename(dst, aside) != 0) return -1;
    if (rename(tmp, dst) != 0) {
        int e = errno;
        if (rename(aside, dst) != 0) { /* leave it where the user can find it */ }
        errno = e;
        return -1;
    }
    return 0;
}

#define FAILMSG(code, ...)                                                   \
    do {                                                                     \
        swacl_format_msg(err, err_len, __VA_ARGS__);                         \
        st = (code);                                                         \
        goto done;                                                           \
    } while (0)

static swacl_status save_hf(const char *dir_in, const swacl_config *cfg, const swacl_weights *w,
                               char *err, size_t err_len)
{
    if (err && err_len) err[0] = 0;
    if (!dir_in || !cfg || !w) {
        swacl_format_msg(err, err_len, "swacl_save_hf: NULL argument");
        return SWACL_INVALID_ARG;
    }
    char msg[256];
    if (swacl_config_check(cfg, msg, sizeof msg) != SWACL_OK) {
        swacl_format_msg(err, err_len, "swacl_save_hf: invalid configuration: %s", msg);
        return SWACL_INVALID_ARG;
    }
    swacl_hf_need need = {0, 0, NULL, 0};
    swacl_config_tensors(cfg, swacl_hf_collect, &need);
    swacl_status st = SWACL_OK;
    const swacl_tensor **ts = calloc((size_t)(need.n ? need.n : 1), sizeof *ts);
    char *cfg_json = NULL, *hdr = NULL;
    char dst[PATH_MAX], parent[PATH_MAX], tmp[PATH_MAX] = "", aside[PATH_MAX + 8];
    const char *base;
    struct stat sb;
    int exists = 0;
    if (need.oom || !ts) FAILMSG(SWACL_OUT_OF_MEMORY, "swacl_save_hf: out of memory");
    for (int i = 0; i < need.n; i++) {
        ts[i] = swacl_weights_find(w, need.t[i].name);
        if (ts[i] && swacl_tensor_realize(w, ts[i]) != SWACL_OK)
            FAILMSG(SWACL_OUT_OF_MEMORY, "swacl_save_hf: out of memory");
        if (!ts[i] || ts[i]->ndim != need.t[i].ndim || ts[i]->shape[0] != need.t[i].shape[0] ||
            (ts[i]->ndim > 1 && ts[i]->shape[1] != need.t[i].shape[1]))
            FAILMSG(SWACL_INVALID_ARG, "swacl_save_hf: weights lack tensor '%s' of the config's shape",
                    need.t[i].name);
    }
    cfg_json = swacl_hf_config_write(cfg);
    hdr = st_header(ts, need.n);
    if (!cfg_json || !hdr) FAILMSG(SWACL_OUT_OF_MEMORY, "swacl_save_hf: out of memory");

    /* destination: a symlink to a directory is followed (the link stays) */
    if (snprintf(dst, sizeof dst, "%s", dir_in) >= (int)sizeof dst)
        FAILMSG(SWACL_INVALID_ARG, "path too long: %s", dir_in);
    for (size_t l = strlen(dst); l > 1 && dst[l - 1] == '/'; l--) dst[l - 1] = 0;
    if (lstat(dst, &sb) == 0 && S_ISLNK(sb.st_mode)) {
        char *rp = realpath(dst, NULL);
        if (!rp) FAILMSG(SWACL_IO, "cannot resolve %s: %s", dir_in, strerror(errno));
        snprintf(dst, sizeof dst, "%s", rp);
        free(rp);
    }
    if (stat(dst, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode)) FAILMSG(SWACL_IO, "cannot save to %s: not a directory", dir_in);
        exists = 1;
    } else if (errno != ENOENT) {
        FAILMSG(SWACL_IO, "cannot save to %s: %s", dir_in, strerror(errno));
    }
    char *slash = strrchr(dst, '/');
    if (!slash) {
        snprintf(parent, sizeof parent, ".");
        base = dst;
    } else {
        snprintf(parent, sizeof parent, "%.*s", slash == dst ? 1 : (int)(slash - dst), dst);
        base = slash + 1;
    }
    if (!base[0] || !strcmp(base, ".") || !strcmp(base, "..") || strlen(base) > NAME_MAX - 40)
        FAILMSG(SWACL_INVALID_ARG, "cannot save to %s: name the model directory itself", dir_in);
    if (swacl_mkdir_p(parent) != 0)
        FAILMSG(SWACL_IO, "cannot create directory %s: %s", parent, strerror(errno));
    sweep_stale(parent, base, exists);

    /* the work directory: mkdir (umask applies, as for a plain mkdir) */
    for (unsigned k = 0;; k++) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int w = snprintf(tmp, sizeof tmp, "%s/.%s" SAVE_TAG "%ld-%lx%u", parent, base,
                         (long)getpid(), (unsigned long)now.tv_nsec, k);
        if (w < 0 || (size_t)w >= sizeof tmp) {
            tmp[0] = 0;
            FAILMSG(SWACL_INVALID_ARG, "path too long: %s", dir_in);
        }
        if (mkdir(tmp, 0777) == 0) break;
        if (errno != EEXIST || k > 100) {
            int e = errno;
            tmp[0] = 0;
            FAILMSG(SWACL_IO, "cannot create a directory in %s: %s", parent, strerror(e));
        }
    }
    if (exists) {
        chmod(tmp, sb.st_mode & 07777); /* keep the old directory's mode */
        SWACL_TRY_GOTO(st, carry_over(dst, tmp, err, err_len), done);
    }
    st_image im = {hdr, need.n, ts};
    SWACL_TRY_GOTO(st, write_file(tmp, "config.json", fill_text, cfg_json, err, err_len), done);
    SWACL_TRY_GOTO(st, write_file(tmp, "model.safetensors", fill_safetensors, &im, err, err_len),
                   done);
    if (fsync_dir(tmp) != 0) FAILMSG(SWACL_IO, "cannot sync %s: %s", tmp, strerror(errno));

    if (!exists) {
        if (rename(tmp, dst) != 0)
            FAILMSG(SWACL_IO, "cannot rename %s to %s: %s", tmp, dst, strerror(errno));
        tmp[0] = 0;
        fsync_dir(parent);
    } else {
        if (swap_dirs(tmp, dst, aside, sizeof aside) != 0)
            FAILMSG(SWACL_IO, "cannot replace %s: %s", dst, strerror(errno));
        tmp[0] = 0;
        fsync_dir(parent);
        remove_dir(aside); /* the old model */
    }
done:
    if (tmp[0]) remove_dir(tmp);
    free(hdr);
    free(cfg_json);
    free(ts);
    free(need.t);
    return st;
}

swacl_status swacl_save_hf(swacl_ctx *ctx, const char *dir, const swacl_config *cfg,
                           const swacl_weights *w)
{
    char err[2048] = "";
    swacl_status st = save_hf(dir, cfg, w, err, sizeof err);
    return st == SWACL_OK ? SWACL_OK : swacl_copy_error(ctx, st, err);
}
