/*
 * fuzz_pcache.c - libFuzzer target for the program-binary cache entry
 * parser (host/cl/cl_pcache.c): the header/key/checksum validator, the
 * PoCL binary walk that runs before any driver sees a payload, and a
 * write/re-parse round trip of what they accept. Build and run: tools/fuzz.sh.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cl/cl_pcache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[256];
    size_t off = 0, len = 0;
    static const swacl_pcache_key key = {{"attn", "-cl-std=CL1.2 -DHEAD_DIM=64", "dev",
                                          "drv", "OpenCL 1.2", "plat", "00ff"}};

    /* the input as a whole entry: structure only, then against a key */
    if (swacl_pcache_parse(data, size, NULL, &off, &len, why, sizeof why) == 0) {
        if (off > size || len != size - off) abort();
        (void)swacl_pocl_binary_check(data + off, len, why, sizeof why);
        (void)swacl_pcache_parse(data, size, &key, &off, &len, why, sizeof why);
    }

    /* the input as a payload: the PoCL walk, and a round trip through the
     * header writer (what is written must parse back to the same payload) */
    (void)swacl_pocl_binary_check(data, size, why, sizeof why);
    if (size == 0 || size > (1u << 16)) return 0;
    unsigned char *buf = malloc(SWACL_PCACHE_MAX_HEADER + size);
    if (!buf) return 0;
    size_t hl = swacl_pcache_write_header(&key, data, size, buf, SWACL_PCACHE_MAX_HEADER);
    if (!hl) abort();
    memcpy(buf + hl, data, size);
    if (swacl_pcache_parse(buf, hl + size, &key, &off, &len, why, sizeof why) != 0 || off != hl ||
        len != size || memcmp(buf + off, data, size) != 0)
        abort();
    free(buf);
    return 0;
}
