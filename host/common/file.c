/*
 * file.c - bounded, non-blocking reads of user files (file.h) and the
 * last-key-wins rule for JSON objects.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* madvise */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/file.h"

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

static const char *kind_of(mode_t m)
{
    return S_ISDIR(m)    ? "a directory"
           : S_ISFIFO(m) ? "a FIFO"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISSOCK(m) ? "a socket"
                         : "a special file";
}

/* open + fstat + regular-file check; -1 with the message written. */
static int open_regular(const char *path, struct stat *sb, char *err, size_t err_len)
{
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
     * writer forever, before any check could run. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        swacl_format_msg(err, err_len, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, sb) != 0) {
        swacl_format_msg(err, err_len, "cannot stat %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(sb->st_mode)) {
        swacl_format_msg(err, err_len, "%s is not a regular file (it is %s)", path,
                         kind_of(sb->st_mode));
        close(fd);
        return -1;
    }
    return fd;
}

swacl_status swacl_file_read_msg(const char *path, size_t max_bytes, uint8_t **buf, size_t *len,
                                 char *err, size_t err_len)
{
    *buf = NULL;
    *len = 0;
    struct stat sb;
    int fd = open_regular(path, &sb, err, err_len);
    if (fd < 0) return SWACL_IO;
    if (sb.st_size < 0 || (uint64_t)sb.st_size > (uint64_t)max_bytes) {
        swacl_format_msg(err, err_len, "%s is %lld bytes, over the limit of %zu for this kind of file",
                         path, (long long)sb.st_size, max_bytes);
        close(fd);
        return SWACL_IO;
    }
    /* st_size is a hint only (/proc files say 0, a file may grow): read in
     * steps and stop one byte past the cap. */
    size_t cap = (size_t)sb.st_size + 1, n = 0;
    if (cap < 4096) cap = 4096;
    if (cap > max_bytes + 1) cap = max_bytes + 1;
    uint8_t *b = malloc(cap + 1);
    swacl_status st = SWACL_OK;
    while (b) {
        ssize_t r = read(fd, b + n, cap - n);
        if (r < 0) {
            if (errno == EINTR) continue;
            swacl_format_msg(err, err_len, "read error on %s: %s", path, strerror(errno));
            st = SWACL_IO;
            break;
        }
        if (r == 0) break;
        n += (size_t)r;
        if (n > max_bytes) {
            swacl_format_msg(err, err_len, "%s is over the limit of %zu bytes for this kind of file",
                             path, max_bytes);
            st = SWACL_IO;
            break;
        }
        if (n == cap) {
            size_t nc = cap > (max_bytes + 1) / 2 ? max_bytes + 1 : 2 * cap;
            uint8_t *nb = realloc(b, nc + 1);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap = nc;
        }
    }
    close(fd);
    if (!b) {
        swacl_format_msg(err, err_len, "%s: out of memory", path);
        return SWACL_OUT_OF_MEMORY;
    }
    if (st != SWACL_OK) {
        free(b);
        return st;
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    return SWACL_OK;
}

swacl_status swacl_file_read(swacl_ctx *ctx, const char *path, size_t max_bytes, uint8_t **buf,
                             size_t *len)
{
    char err[1024];
    swacl_status st = swacl_file_read_msg(path, max_bytes, buf, len, err, sizeof err);
    return st == SWACL_OK ? st : swacl_copy_error(ctx, st, err);
}

swacl_status swacl_file_map_open(const char *path, swacl_file_map *m, char *err, size_t err_len)
{
    m->map = NULL;
    m->len = 0;
    struct stat sb;
    int fd = open_regular(path, &sb, err, err_len);
    if (fd < 0) return SWACL_IO;
    if (sb.st_size < 0 || (uint64_t)sb.st_size > (uint64_t)SIZE_MAX) {
        close(fd);
        swacl_format_msg(err, err_len, "%s: file too large to map", path);
        return SWACL_IO;
    }
    m->len = (size_t)sb.st_size;
    if (m->len > 0) {
        m->map = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m->map == MAP_FAILED) {
            m->map = NULL;
            m->len = 0;
            swacl_format_msg(err, err_len, "cannot mmap %s: %s", path, strerror(errno));
            close(fd);
            return SWACL_IO;
        }
    }
    close(fd);
    return SWACL_OK;
}

/* A loader that has copied a range out of a read-only mapping drops its
 * pages (those wholly inside it), so the file and the copy are never both
 * resident; a later read faults them back in from the file. */
void swacl_file_map_drop(const void *p, size_t len)
{
    uintptr_t a = ((uintptr_t)p + 4095) / 4096 * 4096, e = ((uintptr_t)p + len) / 4096 * 4096;
    if (p && e > a) madvise((void *)a, e - a, MADV_DONTNEED);
}

void swacl_file_map_close(swacl_file_map *m)
{
    if (m && m->map) munmap(m->map, m->len);
    if (m) {
        m->map = NULL;
        m->len = 0;
    }
}

int swacl_file_present(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) == 0) return 1;
    return !(errno == ENOENT || errno == ENOTDIR);
}

/* ------------------------------------------------------------------------ */

typedef struct {
    cJSON *item;
    size_t pos;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    int c = strcmp(x->item->string ? x->item->string : "", y->item->string ? y->item->string : "");
    if (c) return c;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

int swacl_json_last_wins(cJSON *j)
{
    if (!j) return 0;
    size_t n = 0;
    for (cJSON *c = j->child; c; c = c->next) {
        if (swacl_json_last_wins(c) != 0) return -1;
        n++;
    }
    if (!cJSON_IsObject(j) || n < 2) return 0;
    /* sort (key, position) so repeats sit together: O(n log n), a hostile
     * file with many keys must not cost n^2 */
    keyed *k = malloc(n * sizeof *k);
    if (!k) return -1;
    size_t i = 0;
    for (cJSON *c = j->child; c; c = c->next, i++) k[i] = (keyed){c, i};
    qsort(k, n, sizeof *k, cmp_keyed);
    for (i = 0; i + 1 < n; i++)
        if (strcmp(k[i].item->string ? k[i].item->string : "",
                   k[i + 1].item->string ? k[i + 1].item->string : "") == 0)
            cJSON_Delete(cJSON_DetachItemViaPointer(j, k[i].item));
    free(k);
    return 0;
}
