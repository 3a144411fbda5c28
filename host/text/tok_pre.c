/*
 * tok_pre.c - normalizers (NFC/NFKC through utf8proc, Lowercase, Replace,
 * Prepend, Strip, StripAccents, Sequence) and pre-tokenizers (ByteLevel,
 * Split through PCRE2, Metaspace, Digits, Whitespace, WhitespaceSplit,
 * Sequence), with the split behaviours of NormalizedString::split in
 * huggingface/tokenizers. Input is valid UTF-8 (checked once per encode),
 * so PCRE2 runs without its own check.
 */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "text/tok.h"

static int enc_oom(tk_enc *e)
{
    e->failed = 1;
    swacl_format_msg(e->err, e->elen, "tokenizer: out of memory");
    return -1;
}

/* ---- regex ranges --------------------------------------------------------- */

static int push_range(tk_buf *r, size_t s, size_t end, int match)
{
    uint32_t v[3] = {(uint32_t)s, (uint32_t)end, (uint32_t)match};
    return tk_buf_put(r, v, sizeof v);
}

int tk_re_ranges(tk_enc *e, const tk_re *re, const char *s, size_t n, tk_buf *ranges)
{
    ranges->n = 0;
    if (!n) return push_range(ranges, 0, 0, 0) ? enc_oom(e) : 0;
    if (!e->md) {
        e->md = pcre2_match_data_create(4, NULL);
        e->mc = pcre2_match_context_create(NULL);
        e->js = pcre2_jit_stack_create(32 << 10, 8 << 20, NULL);
        if (!e->md || !e->mc || !e->js) return enc_oom(e);
        pcre2_jit_stack_assign(e->mc, NULL, e->js);
    }
    size_t prev = 0, at = 0;
    while (at <= n) {
        int rc = pcre2_match(re->code, (PCRE2_SPTR)s, n, at, PCRE2_NO_UTF_CHECK, e->md, e->mc);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            PCRE2_UCHAR msg[120];
            pcre2_get_error_message(rc, msg, sizeof msg);
            e->failed = 1;
            swacl_format_msg(e->err, e->elen, "tokenizer: regex match failed: %s", (const char *)msg);
            return -1;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(e->md);
        size_t ms = ov[0], me = ov[1];
        if ((prev != ms && push_range(ranges, prev, ms, 0)) || push_range(ranges, ms, me, 1))
            return enc_oom(e);
        prev = me;
        if (me == ms) { /* an empty match: the next search starts one character on */
            if (me >= n) break;
            int k = tk_utf8_len((const unsigned char *)s + me, n - me);
            at = me + (size_t)(k ? k : 1);
        } else {
            at = me;
        }
    }
    if (prev != n && push_range(ranges, prev, n, 0)) return enc_oom(e);
    return 0;
}

/* Ranges of single characters where pred holds (tokenizers' char patterns). */
static int char_ranges(tk_enc *e, int (*pred)(int32_t, const void *), const void *arg, const char *s,
                       size_t n, tk_buf *ranges)
{
    ranges->n = 0;
    if (!n) return push_range(ranges, 0, 0, 0) ? enc_oom(e) : 0;
    size_t last = 0;
    for (size_t i = 0; i < n;) {
        int k = tk_utf8_len((const unsigned char *)s + i, n - i);
        if (!k) k = 1;
        if (pred(tk_utf8_cp((const unsigned char *)s + i, k), arg)) {
            if ((last < i && push_range(ranges, last, i, 0)) || push_range(ranges, i, i + k, 1))
                return enc_oom(e);
            last = i + (size_t)k;
        }
        i += (size_t)k;
    }
    if (n > last && push_range(ranges, last, n, 0)) return enc_oom(e);
    return 0;
}

/* NormalizedString::split: fold the ranges per behaviour, drop removed and
 * empty pieces; the piece at offset 0 keeps the ORIGIN0 flag. */
static int emit_split(tk_enc *e, tk_list *out, const char *s, unsigned flag, tk_buf *ranges,
                      int behavior, int invert)
{
    uint32_t *r = (uint32_t *)ranges->p;
    size_t nr = ranges->n / (3 * sizeof *r);
    if (invert)
        for (size_t i = 0; i < nr; i++) r[3 * i + 2] ^= 1;
    /* each range becomes (start, end, remove) in place; w counts the kept ones */
    size_t w = 0;
    int prev_match = 0;
    if (behavior == TK_MERGED_NEXT) { /* folded from the right */
        for (size_t k = nr; k-- > 0;) {
            uint32_t a = r[3 * k], b = r[3 * k + 1], m = r[3 * k + 2];
            if (m && !prev_match && w) {
                r[3 * (nr - w)] = a; /* extends the piece to its right */
            } else {
                w++;
                r[3 * (nr - w)] = a, r[3 * (nr - w) + 1] = b, r[3 * (nr - w) + 2] = 0;
            }
            prev_match = (int)m;
        }
        memmove(r, r + 3 * (nr - w), w * 3 * sizeof *r);
    } else {
        for (size_t k = 0; k < nr; k++) {
            uint32_t a = r[3 * k], b = r[3 * k + 1], m = r[3 * k + 2];
            int join = behavior == TK_CONTIGUOUS      ? (int)m == prev_match
                       : behavior == TK_MERGED_PREV   ? m && !prev_match
                                                      : 0;
            if (join && w) {
                r[3 * (w - 1) + 1] = b;
            } else {
                r[3 * w] = a, r[3 * w + 1] = b;
                r[3 * w + 2] = behavior == TK_REMOVED ? m : 0;
                w++;
            }
            prev_match = (int)m;
        }
    }
    for (size_t k = 0; k < w; k++) {
        uint32_t a = r[3 * k], b = r[3 * k + 1];
        if (r[3 * k + 2] || a == b) continue;
        if (tk_list_add(out, s + a, b - a, a == 0 ? flag : 0)) return enc_oom(e);
    }
    return 0;
}

/* ---- normalizers ---------------------------------------------------------- */

static int replace_all(tk_enc *e, const char *pat, size_t pn, const tk_re *re, const char *with,
                       size_t wn, const char *s, size_t n, tk_buf *out)
{
    if (re->code) {
        if (tk_re_ranges(e, re, s, n, &e->tmp2)) return -1;
        const uint32_t *r = (const uint32_t *)e->tmp2.p;
        for (size_t k = 0; k < e->tmp2.n / (3 * sizeof *r); k++)
            if (r[3 * k + 2] ? tk_buf_put(out, with, wn) : tk_buf_put(out, s + r[3 * k], r[3 * k + 1] - r[3 * k]))
                return enc_oom(e);
        return 0;
    }
    size_t i = 0;
    while (pn && i + pn <= n) {
        const char *hit = memchr(s + i, pat[0], n - i - pn + 1);
        if (!hit) break;
        size_t at = (size_t)(hit - s);
        if (!memcmp(hit, pat, pn)) {
            if (tk_buf_put(out, s + i, at - i) || tk_buf_put(out, with, wn)) return enc_oom(e);
            i = at + pn;
        } else {
            if (tk_buf_put(out, s + i, at + 1 - i)) return enc_oom(e);
            i = at + 1;
        }
    }
    return tk_buf_put(out, s + i, n - i) ? enc_oom(e) : 0;
}

static int map_chars(tk_enc *e, int lower, const char *s, size_t n, tk_buf *out)
{
    for (size_t i = 0; i < n;) {
        int k = tk_utf8_len((const unsigned char *)s + i, n - i);
        if (!k) k = 1;
        int32_t cp = tk_utf8_cp((const unsigned char *)s + i, k);
        int bad;
        if (lower) /* char::to_lowercase: U+0130 is the one two-character mapping */
            bad = cp == 0x130 ? tk_buf_put(out, "i\xCC\x87", 3) : tk_utf8_put(out, utf8proc_tolower(cp));
        else /* StripAccents: drop combining marks */
            bad = tk_is_mark(cp) ? 0 : tk_buf_put(out, s + i, (size_t)k);
        if (bad) return enc_oom(e);
        i += (size_t)k;
    }
    return 0;
}

int tk_normalize(tk_enc *e, const tk_norm *nm, const char *s, size_t n, tk_buf *out)
{
    out->n = 0;
    if (tk_buf_reserve(out, n)) return enc_oom(e);
    out->p[0] = 0;
    switch (nm->kind) {
    case TKN_NFC:
    case TKN_NFD:
    case TKN_NFKC:
    case TKN_NFKD: {
        /* ASCII is invariant under all four forms, and a boundary before an
         * ASCII character followed by ASCII (or the end) is safe: no ASCII
         * character composes with what precedes it. So only the stretches
         * around non-ASCII text go through utf8proc. */
        int opt = UTF8PROC_STABLE | (nm->kind == TKN_NFC || nm->kind == TKN_NFKC ? UTF8PROC_COMPOSE
                                                                              : UTF8PROC_DECOMPOSE) |
                  (nm->kind == TKN_NFKC || nm->kind == TKN_NFKD ? UTF8PROC_COMPAT : 0);
        const unsigned char *u = (const unsigned char *)s;
        for (size_t i = 0; i < n;) {
            size_t j = i;
            while (j < n && u[j] < 0x80 && (j + 1 == n || u[j + 1] < 0x80)) j++;
            if (tk_buf_put(out, s + i, j - i)) return enc_oom(e);
            if (j == n) break;
            size_t k = j + 1; /* [j, k): up to the next safe boundary */
            while (k < n && !(u[k] < 0x80 && (k + 1 == n || u[k + 1] < 0x80))) k++;
            utf8proc_uint8_t *dst = NULL;
            utf8proc_ssize_t m = utf8proc_map(u + j, (utf8proc_ssize_t)(k - j), &dst, (utf8proc_option_t)opt);
            int bad = m < 0 ? (m == UTF8PROC_ERROR_NOMEM ? -1 : tk_buf_put(out, s + j, k - j))
                            : tk_buf_put(out, dst, (size_t)m);
            free(dst);
            if (bad) return enc_oom(e);
            i = k;
        }
        return 0;
    }
    case TKN_LOWER: return map_chars(e, 1, s, n, out);
    case TKN_STRIP_ACCENTS: return map_chars(e, 0, s, n, out);
    case TKN_REPLACE: return replace_all(e, nm->a, nm->a_len, &nm->re, nm->b, nm->b_len, s, n, out);
    case TKN_PREPEND:
        if (n && tk_buf_put(out, nm->a, nm->a_len)) return enc_oom(e);
        return tk_buf_put(out, s, n) ? enc_oom(e) : 0;
    case TKN_STRIP: {
        size_t a = 0, b = n;
        while (nm->left && a < b) {
            int k = tk_utf8_len((const unsigned char *)s + a, b - a);
            if (!k || !tk_is_whitespace(tk_utf8_cp((const unsigned char *)s + a, k))) break;
            a += (size_t)k;
        }
        while (nm->right && b > a) {
            size_t c = b - 1;
            while (c > a && ((unsigned char)s[c] & 0xC0) == 0x80) c--;
            int k = tk_utf8_len((const unsigned char *)s + c, b - c);
            if (!k || !tk_is_whitespace(tk_utf8_cp((const unsigned char *)s + c, k))) break;
            b = c;
        }
        return tk_buf_put(out, s + a, b - a) ? enc_oom(e) : 0;
    }
    case TKN_SEQ: {
        tk_buf x = {0}, y = {0};
        if (tk_buf_put(&x, s, n)) return enc_oom(e);
        int rc = 0;
        for (int i = 0; i < nm->n_items && !rc; i++) {
            rc = tk_normalize(e, &nm->items[i], x.p, x.n, &y);
            tk_buf t = x;
            x = y, y = t;
        }
        if (!rc && tk_buf_put(out, x.p, x.n)) rc = enc_oom(e);
        tk_buf_free(&x), tk_buf_free(&y);
        return rc;
    }
    }
    return 0;
}

/* ---- pre-tokenizers -------------------------------------------------------- */

static int is_ws(int32_t cp, const void *arg) { return (void)arg, tk_is_whitespace(cp); }
static int is_num(int32_t cp, const void *arg) { return (void)arg, tk_is_numeric(cp); }

static int bytelevel_piece(tk_enc *e, const tk_pre *p, const char *s, size_t n, unsigned flag,
                           tk_list *out)
{
    tk_buf *w = &e->tmp;
    w->n = 0;
    if ((p->add_prefix_space && (!n || s[0] != ' ') && tk_buf_putc(w, ' ')) || tk_buf_put(w, s, n))
        return enc_oom(e);
    s = w->p, n = w->n;
    tk_buf *r = &e->tmp2;
    if (p->use_regex) {
        if (tk_re_ranges(e, &p->re, s, n, r)) return -1;
    } else {
        r->n = 0;
        if (push_range(r, 0, n, 0)) return enc_oom(e);
    }
    const uint32_t *rr = (const uint32_t *)r->p;
    for (size_t k = 0; k < r->n / (3 * sizeof *rr); k++) {
        uint32_t a = rr[3 * k], b = rr[3 * k + 1];
        if (a == b) continue;
        /* the piece's bytes as the GPT-2 characters, written in place */
        if (tk_list_add(out, "", 0, a == 0 ? flag : 0) || tk_buf_reserve(&out->bytes, 2 * (b - a)))
            return enc_oom(e);
        char *d = out->bytes.p + out->bytes.n;
        for (uint32_t i = a; i < b; i++) {
            int cp = tk_byte_cp((unsigned char)s[i]);
            if (cp < 0x80) {
                *d++ = (char)cp;
            } else {
                *d++ = (char)(0xC0 | (cp >> 6));
                *d++ = (char)(0x80 | (cp & 0x3F));
            }
        }
        size_t len = (size_t)(d - (out->bytes.p + out->bytes.n));
        out->bytes.n += len;
        out->bytes.p[out->bytes.n] = 0;
        out->len[out->n - 1] = (uint32_t)len;
    }
    return 0;
}

static int metaspace_piece(tk_enc *e, const tk_pre *p, const char *s, size_t n, unsigned flag,
                           tk_list *out)
{
    tk_buf *w = &e->tmp;
    w->n = 0;
    if (tk_buf_reserve(w, n)) return enc_oom(e);
    /* after ' ' -> replacement, does the piece start with the replacement? */
    int starts = n && (s[0] == ' ' || (n >= (size_t)p->repl_len && !memcmp(s, p->repl, (size_t)p->repl_len)));
    int prepend = p->prepend == TK_PREPEND_ALWAYS || (p->prepend == TK_PREPEND_FIRST && (flag & TK_ORIGIN0));
    if (prepend && !starts && tk_buf_put(w, p->repl, (size_t)p->repl_len)) return enc_oom(e);
    for (size_t i = 0; i < n; i++)
        if (s[i] == ' ' ? tk_buf_put(w, p->repl, (size_t)p->repl_len) : tk_buf_putc(w, s[i]))
            return enc_oom(e);
    if (!p->split) return tk_list_add(out, w->p, w->n, flag) ? enc_oom(e) : 0;
    /* split on each replacement character, merged with the next piece */
    tk_buf *r = &e->tmp2;
    r->n = 0;
    size_t last = 0, rl = (size_t)p->repl_len;
    for (size_t i = 0; i + rl <= w->n;) {
        if (!memcmp(w->p + i, p->repl, rl)) {
            if ((last < i && push_range(r, last, i, 0)) || push_range(r, i, i + rl, 1)) return enc_oom(e);
            last = i += rl;
        } else {
            i++;
        }
    }
    if ((w->n > last || !w->n) && push_range(r, last, w->n, 0)) return enc_oom(e);
    return emit_split(e, out, w->p, flag, r, TK_MERGED_NEXT, 0);
}

static int pre_piece(tk_enc *e, const tk_pre *p, const char *s, size_t n, unsigned flag, tk_list *out)
{
    tk_buf *r = &e->tmp2;
    switch (p->kind) {
    case TKP_BYTELEVEL: return bytelevel_piece(e, p, s, n, flag, out);
    case TKP_METASPACE: return metaspace_piece(e, p, s, n, flag, out);
    case TKP_SPLIT:
        return tk_re_ranges(e, &p->re, s, n, r) || emit_split(e, out, s, flag, r, p->behavior, p->invert);
    case TKP_WHITESPACE: /* keep the matches of \w+|[^\w\s]+ */
        return tk_re_ranges(e, &p->re, s, n, r) || emit_split(e, out, s, flag, r, TK_REMOVED, 1);
    case TKP_DIGITS:
        return char_ranges(e, is_num, NULL, s, n, r) ||
               emit_split(e, out, s, flag, r, p->individual ? TK_ISOLATED : TK_CONTIGUOUS, 0);
    case TKP_WSSPLIT:
        return char_ranges(e, is_ws, NULL, s, n, r) || emit_split(e, out, s, flag, r, TK_REMOVED, 0);
    case TKP_SEQ: break;
    }
    return 0;
}

int tk_pretokenize(tk_enc *e, const tk_pre *p, tk_list *in, tk_list *out)
{
    tk_list_clear(out);
    if (p->kind == TKP_SEQ) {
        tk_list *src = in, *dst = out;
        for (int i = 0; i < p->n_items; i++) {
            if (tk_pretokenize(e, &p->items[i], src, dst)) return -1;
            tk_list *t = src;
            src = dst, dst = t;
        }
        if (src != out) { /* the result is in `in`: hand it over */
            tk_list t = *out;
            *out = *in, *in = t;
        }
        return 0;
    }
    for (int i = 0; i < in->n; i++) {
        /* the piece may move when out grows: in and out are different lists */
        if (pre_piece(e, p, TK_STR(in, i), in->len[i], in->flag[i], out)) return -1;
    }
    return 0;
}
