/* cl_pcache.c - encode / validate program-cache entries (format in
 * cl_pcache.h). Pure byte handling: every read is bounds-checked
 * against the buffer, so a hostile file can only be rejected.            */
#include "cl/cl_pcache.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *const swacl_pcache_field_names[SWACL_PCACHE_NFIELDS] = {
    "program",        "build options",    "device name", "driver version",
    "device version", "platform version", "source hash"};

uint64_t swacl_pcache_fnv64(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static int fail(char *why, size_t why_len, const char *fmt, ...)
{
    if (why && why_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, why_len, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const char *field_of(const swacl_pcache_key *k, int i)
{
    return k->field[i] ? k->field[i] : "";
}

size_t swacl_pcache_header_size(const swacl_pcache_key *k)
{
    size_t n = 16 + 24;
    for (int i = 0; i < SWACL_PCACHE_NFIELDS; i++) {
        size_t l = strlen(field_of(k, i));
        if (l > SWACL_PCACHE_MAX_FIELD) return 0;
        n += 4 + l;
    }
    return n;
}

size_t swacl_pcache_write_header(const swacl_pcache_key *k, const unsigned char *payload,
                                 size_t payload_len, unsigned char *out, size_t cap)
{
    size_t hl = swacl_pcache_header_size(k);
    if (!hl || hl > cap || !payload || payload_len == 0 ||
        payload_len > SWACL_PCACHE_MAX_PAYLOAD)
        return 0;
    memcpy(out, SWACL_PCACHE_MAGIC, 8);
    put32(out + 8, (uint32_t)hl);
    put32(out + 12, SWACL_PCACHE_NFIELDS);
    size_t o = 16;
    for (int i = 0; i < SWACL_PCACHE_NFIELDS; i++) {
        const char *f = field_of(k, i);
        size_t l = strlen(f);
        put32(out + o, (uint32_t)l);
        memcpy(out + o + 4, f, l);
        o += 4 + l;
    }
    put64(out + o, payload_len);
    put64(out + o + 8, swacl_pcache_fnv64(payload, payload_len));
    put64(out + o + 16, swacl_pcache_fnv64(out, o + 16));
    return o + 24;
}

int swacl_pcache_parse(const unsigned char *buf, size_t n, const swacl_pcache_key *want,
                       size_t *payload_off, size_t *payload_len, char *why, size_t why_len)
{
    if (!buf || n == 0) return fail(why, why_len, "empty file");
    if (n < 16 + 24 || memcmp(buf, SWACL_PCACHE_MAGIC, 8) != 0)
        return fail(why, why_len, "not a swacl program-cache entry (bad magic)");
    uint32_t hl = get32(buf + 8), nf = get32(buf + 12);
    if (nf != SWACL_PCACHE_NFIELDS)
        return fail(why, why_len, "%u key fields, expected %d", (unsigned)nf,
                    SWACL_PCACHE_NFIELDS);
    if (hl < 16 + 24 || hl > SWACL_PCACHE_MAX_HEADER || hl > n)
        return fail(why, why_len, "header length %u out of range", (unsigned)hl);
    /* walk the fields inside [16, hl - 24) */
    size_t o = 16, fo[SWACL_PCACHE_NFIELDS], fl[SWACL_PCACHE_NFIELDS];
    for (int i = 0; i < SWACL_PCACHE_NFIELDS; i++) {
        if (o + 4 > hl - 24) return fail(why, why_len, "header cut inside the key");
        uint32_t l = get32(buf + o);
        if (l > SWACL_PCACHE_MAX_FIELD || l > hl - 24 - (o + 4))
            return fail(why, why_len, "key field %s has a bad length", swacl_pcache_field_names[i]);
        fo[i] = o + 4;
        fl[i] = l;
        o += 4 + (size_t)l;
    }
    if (o != (size_t)hl - 24) return fail(why, why_len, "header length does not match its fields");
    uint64_t plen = get64(buf + o), psum = get64(buf + o + 8), hsum = get64(buf + o + 16);
    if (swacl_pcache_fnv64(buf, o + 16) != hsum) return fail(why, why_len, "header checksum mismatch");
    if (plen == 0 || plen > SWACL_PCACHE_MAX_PAYLOAD)
        return fail(why, why_len, "payload length %llu out of range", (unsigned long long)plen);
    if (plen != n - hl)
        return fail(why, why_len, "payload is %zu bytes, header says %llu", n - hl,
                    (unsigned long long)plen);
    if (want) {
        for (int i = 0; i < SWACL_PCACHE_NFIELDS; i++) {
            const char *w = field_of(want, i);
            if (strlen(w) != fl[i] || memcmp(w, buf + fo[i], fl[i]) != 0)
                return fail(why, why_len, "%s differs (entry: \"%.*s\")",
                            swacl_pcache_field_names[i], (int)(fl[i] > 60 ? 60 : fl[i]),
                            (const char *)buf + fo[i]);
        }
    }
    if (swacl_pcache_fnv64(buf + hl, (size_t)plen) != psum)
        return fail(why, why_len, "payload checksum mismatch");
    if (payload_off) *payload_off = hl;
    if (payload_len) *payload_len = (size_t)plen;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* PoCL binary walk (pocl_binary.c layout, format versions 9 to 11).         */

/* One file record at p[*o]: u32 len + relative path, u32 len + content.
 * The path must start with '/' and have no ".." component: PoCL writes
 * the content to <its program dir><path>. */
static int pocl_file(const unsigned char *p, size_t end, size_t *o, char *why, size_t wl)
{
    if (end - *o < 4) return fail(why, wl, "file record cut short");
    uint32_t l = get32(p + *o);
    *o += 4;
    if (l == 0 || l > 4096 || l > end - *o) return fail(why, wl, "file name length out of range");
    const unsigned char *s = p + *o;
    if (s[0] != '/' || memchr(s, 0, l)) return fail(why, wl, "bad file name in binary");
    for (uint32_t i = 0; i + 1 < l; i++)
        if (s[i] == '/' && s[i + 1] == '.' && (i + 2 == l || s[i + 2] == '/' ||
                                              (s[i + 2] == '.' && (i + 3 == l || s[i + 3] == '/'))))
            return fail(why, wl, "file name with '.' or '..' component in binary");
    *o += l;
    if (end - *o < 4) return fail(why, wl, "file record cut short");
    uint32_t c = get32(p + *o);
    *o += 4;
    if (c > end - *o) return fail(why, wl, "file content runs past the binary");
    *o += c;
    return 0;
}

/* Files tiling exactly [o, o + bytes). */
static int pocl_files(const unsigned char *p, size_t o, uint64_t bytes, size_t end, char *why,
                      size_t wl)
{
    if (bytes > end - o) return fail(why, wl, "file block runs past the binary");
    size_t stop = o + (size_t)bytes;
    while (o < stop)
        if (pocl_file(p, stop, &o, why, wl) != 0) return -1;
    return 0;
}

int swacl_pocl_binary_check(const unsigned char *p, size_t n, char *why, size_t wl)
{
    const size_t hdr = 8 + 8 + 4 + 4 + 8 + 4 + 41; /* ..., root_entries, build hash */
    if (!p || n < hdr) return fail(why, wl, "PoCL binary shorter than its header");
    if (memcmp(p, "poclbin", 8) != 0) return fail(why, wl, "not a PoCL binary");
    uint32_t ver = get32(p + 16), nk = get32(p + 20), roots = get32(p + 32);
    uint64_t flags = get64(p + 24);
    if (ver < 9 || ver > 11) return fail(why, wl, "PoCL binary format %u not checked here", ver);
    size_t o = hdr + ((flags & 2u) ? 8 : 0); /* program-scope variable bytes */
    if (o > n) return fail(why, wl, "PoCL binary shorter than its header");
    if (nk == 0 || nk > 4096 || roots > 16) return fail(why, wl, "PoCL binary counts out of range");
    for (uint32_t i = 0; i < roots; i++) {
        if (n - o < 8) return fail(why, wl, "root entry cut short");
        uint64_t b = get64(p + o);
        o += 8;
        if (b == 0 || pocl_files(p, o, b, n, why, wl) != 0) return -1;
        o += (size_t)b;
    }
    for (uint32_t k = 0; k < nk; k++) {
        /* struct_size, binaries_size, arginfo_size, then the name string */
        if (n - o < 24) return fail(why, wl, "kernel record %u cut short", k);
        uint64_t ss = get64(p + o), bs = get64(p + o + 8);
        uint32_t ai = get32(p + o + 16), nl = get32(p + o + 20);
        if (ss < 24 || ss > n - o || bs > ss - 24 || ai > ss - 24 - bs ||
            nl > ss - 24 - bs)
            return fail(why, wl, "kernel record %u sizes out of range", k);
        if (pocl_files(p, o + (size_t)(ss - bs), bs, o + (size_t)ss, why, wl) != 0) return -1;
        o += (size_t)ss;
    }
    if (o != n) return fail(why, wl, "%zu trailing bytes after the PoCL binary", n - o);
    return 0;
}
