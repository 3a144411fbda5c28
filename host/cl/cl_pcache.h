/* cl_pcache.h - the on-disk program-binary cache entry format, with no
 * OpenCL dependency (so the fuzz harness can link it alone).
 *
 * An entry carries its full key inside the file and is checked field by
 * field on load, never trusted by its file name:
 *
 *   "SWACLBN2"                 magic (8 bytes)
 *   u32 header_len             offset of the payload
 *   u32 n_fields               SWACL_PCACHE_NFIELDS
 *   n_fields x (u32 len, bytes)  program, options, device, driver version,
 *                              device version, platform version, source hash
 *   u64 payload_len, u64 FNV-1a(payload), u64 FNV-1a(header so far)
 *   payload                    CL_PROGRAM_BINARIES of the device
 *
 * Integers are little-endian. The payload itself is checked before any
 * driver sees it (swacl_pocl_binary_check for PoCL's format).            */
#ifndef SWACL_CL_PCACHE_H
#define SWACL_CL_PCACHE_H

#include <stddef.h>
#include <stdint.h>

#define SWACL_PCACHE_MAGIC "SWACLBN2"
enum { SWACL_PCACHE_NFIELDS = 7 };
#define SWACL_PCACHE_MAX_FIELD 4096u                 /* bytes per key field       */
#define SWACL_PCACHE_MAX_PAYLOAD (256u << 20)         /* PoCL's own binary limit   */
#define SWACL_PCACHE_MAX_HEADER (16u + SWACL_PCACHE_NFIELDS * (4u + SWACL_PCACHE_MAX_FIELD) + 24u)
#define SWACL_PCACHE_MAX_FILE ((size_t)SWACL_PCACHE_MAX_HEADER + SWACL_PCACHE_MAX_PAYLOAD)

/* Field names, for the log line that says which one differed. */
extern const char *const swacl_pcache_field_names[SWACL_PCACHE_NFIELDS];

typedef struct {
    const char *field[SWACL_PCACHE_NFIELDS]; /* NUL-terminated; NULL reads as "" */
} swacl_pcache_key;

uint64_t swacl_pcache_fnv64(const void *data, size_t n);

/* Header bytes for key k (0 when a field is over SWACL_PCACHE_MAX_FIELD). */
size_t swacl_pcache_header_size(const swacl_pcache_key *k);

/* Write the header for (k, payload) into out[cap]; returns its length, or
 * 0 when it does not fit / a field is too long / the payload is empty or
 * over SWACL_PCACHE_MAX_PAYLOAD. */
size_t swacl_pcache_write_header(const swacl_pcache_key *k, const unsigned char *payload,
                                 size_t payload_len, unsigned char *out, size_t cap);

/* Validate a whole entry buf[n] against want (NULL: structure and
 * checksums only). 0: valid, *payload_off / *payload_len locate the
 * payload; -1: rejected, the reason in why. Reads nothing outside buf. */
int swacl_pcache_parse(const unsigned char *buf, size_t n, const swacl_pcache_key *want,
                       size_t *payload_off, size_t *payload_len, char *why, size_t why_len);

/* Structural check of a PoCL program binary (format versions 9-11: header,
 * root entries, kernel records and the file records inside them tile the
 * buffer exactly; relative paths stay inside PoCL's program directory).
 * 0: consistent; -1 with the reason (truncated, trailing bytes, unknown
 * version...): PoCL asserts or reads past the buffer on such input. */
int swacl_pocl_binary_check(const unsigned char *p, size_t n, char *why, size_t why_len);

#endif
