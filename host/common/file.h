/*
 * file.h - the one way libswacl reads a file it did not write itself
 * (config.json, safetensors shards and their index, .npy, token-id text,
 * the calibration cache). Files come from users, so they may be FIFOs,
 * devices, directories, /proc entries, symlink loops or huge: open never
 * blocks (O_NONBLOCK), anything but a regular file is refused before a byte
 * is read, and reads stop at a per-kind size cap.
 *
 * Messages are written to a caller buffer (the model parsers run under the
 * fuzzer without a context); swacl_file_read is the context variant.
 */
#ifndef SWACL_COMMON_FILE_H
#define SWACL_COMMON_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* Size caps per kind of file (bytes). */
#define SWACL_FILE_MAX_JSON (16u << 20)    /* config.json, index, tokenizer-ish  */
#define SWACL_FILE_MAX_IDS (64u << 20)     /* token-id text                      */
#define SWACL_FILE_MAX_CALIB (4u << 20)    /* sched-calib.json                   */
#define SWACL_FILE_MAX_NPY ((size_t)1 << 34) /* .npy: also checked against its header */

/* Read the whole regular file at path into a malloc'd buffer with one extra
 * NUL byte (not counted in *len). Refuses a non-regular file ("is not a
 * regular file"), a file over max_bytes (by size, and by what a read
 * returns: /proc files report size 0) and reports open errors by errno text
 * (ELOOP: "Too many levels of symbolic links"). SWACL_IO / OUT_OF_MEMORY. */
swacl_status swacl_file_read_msg(const char *path, size_t max_bytes, uint8_t **buf, size_t *len,
                                 char *err, size_t err_len);
swacl_status swacl_file_read(swacl_ctx *ctx, const char *path, size_t max_bytes, uint8_t **buf,
                             size_t *len);

/* Map a regular file read-only (same checks; no size cap here: a
 * safetensors file is bounded by its own header, which the parser checks
 * against the mapped length). An empty file gives map == NULL, len == 0. */
typedef struct {
    void *map;
    size_t len;
} swacl_file_map;
swacl_status swacl_file_map_open(const char *path, swacl_file_map *m, char *err, size_t err_len);
void swacl_file_map_close(swacl_file_map *m);
void swacl_file_map_drop(const void *p, size_t len);

/* 1 when something (even a dangling or looping symlink) is at path, 0 when
 * nothing is (ENOENT / ENOTDIR): "absent" must not hide an ELOOP. */
int swacl_file_present(const char *path);

/* JSON objects with a repeated key: keep the LAST value of each key (as
 * Python's json / transformers do; cJSON keeps all and looks up the first).
 * Applied recursively to every object under j. Returns 0, or -1 when out of
 * memory (j is then unchanged below the failing object). */
struct cJSON;
int swacl_json_last_wins(struct cJSON *j);

#endif /* SWACL_COMMON_FILE_H */
