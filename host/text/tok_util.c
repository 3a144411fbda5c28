/*
 * tok_util.c - buffers, string lists, the two hash maps of the BPE model
 * (token -> id, pair -> merge) and UTF-8 helpers with the exact semantics
 * of the Rust code in huggingface/tokenizers (from_utf8_lossy,
 * char::is_whitespace, char::is_numeric).
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "text/tok.h"

int tk_buf_reserve(tk_buf *b, size_t extra)
{
    if (b->n + extra + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + extra + 1) {
        if (cap > SIZE_MAX / 2) return -1;
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p, b->cap = cap;
    return 0;
}

int tk_buf_put(tk_buf *b, const void *s, size_t n)
{
    if (tk_buf_reserve(b, n)) return -1;
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0; /* always NUL-terminated */
    return 0;
}

int tk_buf_putc(tk_buf *b, char c) { return tk_buf_put(b, &c, 1); }

void tk_buf_free(tk_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

int tk_list_add(tk_list *l, const char *s, size_t n, unsigned flag)
{
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 32;
        uint32_t *o = realloc(l->off, (size_t)cap * sizeof *o);
        if (!o) return -1;
        l->off = o;
        uint32_t *ln = realloc(l->len, (size_t)cap * sizeof *ln);
        if (!ln) return -1;
        l->len = ln;
        uint8_t *f = realloc(l->flag, (size_t)cap);
        if (!f) return -1;
        l->flag = f;
        l->cap = cap;
    }
    if (l->bytes.n + n > UINT32_MAX - 1) return -1;
    uint32_t at = (uint32_t)l->bytes.n;
    if (tk_buf_put(&l->bytes, s, n)) return -1;
    l->off[l->n] = at, l->len[l->n] = (uint32_t)n, l->flag[l->n] = (uint8_t)flag;
    l->n++;
    return 0;
}

void tk_list_clear(tk_list *l)
{
    l->n = 0;
    l->bytes.n = 0;
}

void tk_list_free(tk_list *l)
{
    tk_buf_free(&l->bytes);
    free(l->off), free(l->len), free(l->flag);
    memset(l, 0, sizeof *l);
}

/* ---- hash maps --------------------------------------------------------- */

uint64_t tk_hash(const void *s, size_t n)
{
    const unsigned char *p = s;
    uint64_t h = 1469598103934665603ull ^ (n * 0x9E3779B97F4A7C15ull);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) { /* 8 bytes a round: the hot lookups are short words */
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001B3ull;
        h ^= h >> 29;
    }
    for (; i < n; i++) h = (h ^ p[i]) * 0x100000001B3ull;
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ull;
    return h ^ (h >> 32);
}

static uint32_t table_size(size_t n)
{
    uint32_t s = 16;
    while (s < 2 * n + 1 && s < (1u << 30)) s *= 2;
    return s;
}

int tk_strmap_build(tk_strmap *m, char *const *pool, const uint32_t *off, const uint32_t *len, int n)
{
    uint32_t size = table_size((size_t)n);
    m->slot = malloc((size_t)size * sizeof *m->slot);
    if (!m->slot) return -1;
    memset(m->slot, 0xff, (size_t)size * sizeof *m->slot);
    m->mask = size - 1, m->pool = pool, m->off = off, m->len = len;
    for (int id = 0; id < n; id++) {
        if (len[id] == UINT32_MAX) continue;
        uint32_t h = (uint32_t)tk_hash(*pool + off[id], len[id]) & m->mask;
        while (m->slot[h] >= 0) h = (h + 1) & m->mask;
        m->slot[h] = id;
    }
    return 0;
}

int32_t tk_strmap_get(const tk_strmap *m, const char *s, size_t n)
{
    if (!m->slot) return -1;
    uint32_t h = (uint32_t)tk_hash(s, n) & m->mask;
    for (int32_t id; (id = m->slot[h]) >= 0; h = (h + 1) & m->mask)
        if (m->len[id] == n && !memcmp(*m->pool + m->off[id], s, n)) return id;
    return -1;
}

void tk_strmap_free(tk_strmap *m)
{
    free(m->slot);
    memset(m, 0, sizeof *m);
}

int tk_pairmap_init(tk_pairmap *m, size_t n)
{
    uint32_t size = table_size(n);
    m->key = malloc((size_t)size * sizeof *m->key);
    m->rank = malloc((size_t)size * sizeof *m->rank);
    m->id = malloc((size_t)size * sizeof *m->id);
    if (!m->key || !m->rank || !m->id) return -1;
    memset(m->key, 0xff, (size_t)size * sizeof *m->key);
    m->mask = size - 1;
    return 0;
}

static uint32_t pair_slot(uint64_t k, uint32_t mask)
{
    k *= 0x9E3779B97F4A7C15ull;
    return (uint32_t)(k >> 32) & mask;
}

void tk_pairmap_put(tk_pairmap *m, int32_t a, int32_t b, uint32_t rank, int32_t id)
{
    uint64_t k = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
    uint32_t h = pair_slot(k, m->mask);
    while (m->key[h] != UINT64_MAX) {
        if (m->key[h] == k) { /* a later duplicate: HF's map keeps the last */
            m->rank[h] = rank, m->id[h] = id;
            return;
        }
        h = (h + 1) & m->mask;
    }
    m->key[h] = k, m->rank[h] = rank, m->id[h] = id;
}

int tk_pairmap_get(const tk_pairmap *m, int32_t a, int32_t b, uint32_t *rank, int32_t *id)
{
    if (!m->key) return 0;
    uint64_t k = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
    for (uint32_t h = pair_slot(k, m->mask); m->key[h] != UINT64_MAX; h = (h + 1) & m->mask)
        if (m->key[h] == k) {
            *rank = m->rank[h], *id = m->id[h];
            return 1;
        }
    return 0;
}

void tk_pairmap_free(tk_pairmap *m)
{
    free(m->key), free(m->rank), free(m->id);
    memset(m, 0, sizeof *m);
}

/* ---- UTF-8 --------------------------------------------------------------- */

/* How many bytes of s (at most 4) are a prefix of some valid sequence, and
 * whether they complete one: Rust's Utf8Chunks rules (second-byte ranges
 * of E0, ED, F0, F4). Returns the valid length, or 0 with *partial set to
 * the bytes a maximal invalid subpart covers (at least 1). */
static int utf8_step(const unsigned char *s, size_t n, int *partial)
{
    unsigned c = s[0];
    *partial = 1;
    if (c < 0x80) return 1;
    int need;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else
        return 0;
    for (int i = 1; i < need; i++) {
        if ((size_t)i >= n) {
            *partial = i;
            return 0;
        }
        unsigned d = s[i];
        if (i == 1 ? (d < lo || d > hi) : (d < 0x80 || d > 0xBF)) {
            *partial = i;
            return 0;
        }
    }
    return need;
}

int tk_utf8_len(const unsigned char *s, size_t n)
{
    int partial;
    return n ? utf8_step(s, n, &partial) : 0;
}

int32_t tk_utf8_cp(const unsigned char *s, int len)
{
    switch (len) {
    case 1: return s[0];
    case 2: return (s[0] & 0x1F) << 6 | (s[1] & 0x3F);
    case 3: return (s[0] & 0x0F) << 12 | (s[1] & 0x3F) << 6 | (s[2] & 0x3F);
    default: return (s[0] & 0x07) << 18 | (s[1] & 0x3F) << 12 | (s[2] & 0x3F) << 6 | (s[3] & 0x3F);
    }
}

int tk_utf8_put(tk_buf *b, int32_t cp)
{
    unsigned char u[4];
    utf8proc_ssize_t n = utf8proc_encode_char(cp, u);
    return n > 0 ? tk_buf_put(b, u, (size_t)n) : -1;
}

int tk_utf8_lossy(tk_buf *out, const unsigned char *s, size_t n)
{
    size_t i = 0, run = 0; /* run: start of the pending valid bytes */
    while (i < n) {
        int partial, k = utf8_step(s + i, n - i, &partial);
        if (k) {
            i += (size_t)k;
            continue;
        }
        if (tk_buf_put(out, s + run, i - run) || tk_buf_put(out, "\xEF\xBF\xBD", 3)) return -1;
        i += (size_t)partial;
        run = i;
    }
    return tk_buf_put(out, s + run, n - run);
}

size_t tk_utf8_valid_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        int k = tk_utf8_len(s + i, n - i);
        if (!k) break;
        i += (size_t)k;
    }
    return i;
}

int tk_is_whitespace(int32_t cp)
{
    /* Unicode White_Space, which is what char::is_whitespace tests */
    return (cp >= 9 && cp <= 13) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

int tk_is_numeric(int32_t cp)
{
    if (cp < 0x80) return cp >= '0' && cp <= '9';
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_ND || c == UTF8PROC_CATEGORY_NL || c == UTF8PROC_CATEGORY_NO;
}

/* The Rust regex crate's Unicode \w (single_word tokens): Alphabetic
 * (letters, Nl, Other_Alphabetic: marks, circled and squared letters),
 * marks, Nd, Pc, Join_Control. */
int tk_is_word(int32_t cp)
{
    if (cp < 0x80) return (cp >= '0' && cp <= '9') || (unsigned)((cp | 32) - 'a') < 26u || cp == '_';
    utf8proc_category_t c = utf8proc_category(cp);
    return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_ME) || c == UTF8PROC_CATEGORY_ND ||
           c == UTF8PROC_CATEGORY_NL || c == UTF8PROC_CATEGORY_PC || cp == 0x200C || cp == 0x200D ||
           (cp >= 0x24B6 && cp <= 0x24E9) || (cp >= 0x1F130 && cp <= 0x1F149) ||
           (cp >= 0x1F150 && cp <= 0x1F169) || (cp >= 0x1F170 && cp <= 0x1F189);
}

int tk_is_mark(int32_t cp) /* General_Category=Mark, as unicode-normalization's is_combining_mark */
{
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC || c == UTF8PROC_CATEGORY_ME;
}

/* bytes_char() of byte_level.rs: printable Latin-1 maps to itself, the
 * other 68 bytes to 256 + n in byte order (0x00-0x20, 0x7F-0xA0, 0xAD). */
int tk_byte_cp(int b)
{
    if (b <= 0x20) return 256 + b;
    if (b >= 0x7F && b <= 0xA0) return b + 162;
    return b == 0xAD ? 323 : b;
}

int tk_cp_byte(int32_t cp)
{
    if ((cp >= '!' && cp <= '~') || (cp >= 0xA1 && cp <= 0xAC) || (cp >= 0xAE && cp <= 0xFF))
        return (int)cp;
    if (cp >= 256 && cp <= 288) return (int)cp - 256;
    if (cp >= 289 && cp <= 322) return (int)cp - 162;
    return cp == 323 ? 0xAD : -1;
}
