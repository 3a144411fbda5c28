/*
 * tok_decode.c - ids to text: each id's token (added tokens first, special
 * ones dropped on request), then the decoder chain of tokenizer.json
 * (ByteLevel, Metaspace, ByteFallback, Fuse, Strip, Replace, Sequence) as
 * decode_chain in huggingface/tokenizers, joined; no decoder joins with
 * spaces. Unknown ids are skipped, as tokenizers does.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "text/tok.h"

const char *tk_id_piece(const tk_tokenizer *t, int32_t id, size_t *len)
{
    if (id < 0 || id >= t->n_total) return NULL;
    int32_t a = t->added_of_id[id];
    if (a >= 0) {
        *len = t->added[a].len;
        return t->pool.p + t->added[a].off;
    }
    if (id >= t->n_ids || t->len[id] == UINT32_MAX) return NULL;
    *len = t->len[id];
    return t->pool.p + t->off[id];
}

static int put_char(tk_buf *b, const char *s, int k) { return tk_buf_put(b, s, (size_t)k); }

static int dec_one(const tk_dec *d, tk_list *in, tk_list *out)
{
    tk_list_clear(out);
    switch (d->kind) {
    case TKD_BYTELEVEL: {
        tk_buf raw = {0}, txt = {0};
        int rc = 0;
        for (int i = 0; i < in->n && !rc; i++) {
            const char *s = TK_STR(in, i);
            size_t n = in->len[i], mark = raw.n, j = 0;
            for (; j < n;) {
                int k = tk_utf8_len((const unsigned char *)s + j, n - j);
                int b = k ? tk_cp_byte(tk_utf8_cp((const unsigned char *)s + j, k)) : -1;
                if (b < 0) break;
                if ((rc = tk_buf_putc(&raw, (char)b))) break;
                j += (size_t)k;
            }
            if (!rc && j < n) { /* a character outside the map: the token's own bytes */
                raw.n = mark;
                rc = tk_buf_put(&raw, s, n);
            }
        }
        if (!rc) rc = tk_utf8_lossy(&txt, (const unsigned char *)(raw.p ? raw.p : ""), raw.n);
        if (!rc) rc = tk_list_add(out, txt.p ? txt.p : "", txt.n, 0);
        tk_buf_free(&raw), tk_buf_free(&txt);
        return rc;
    }
    case TKD_BYTEFALLBACK: {
        tk_buf bytes = {0};
        int rc = 0;
        for (int i = 0; i <= in->n && !rc; i++) {
            const char *s = i < in->n ? TK_STR(in, i) : "";
            int byte = -1;
            if (i < in->n && in->len[i] == 6 && !memcmp(s, "<0x", 3) && s[5] == '>') {
                /* u8::from_str_radix(.., 16): hex digits, a leading '+' allowed */
                char hex[3] = {s[3], s[4], 0};
                char *end;
                long v = strtol(hex, &end, 16);
                if (*end == 0 && (isxdigit((unsigned char)hex[0]) || hex[0] == '+') &&
                    isxdigit((unsigned char)hex[1]))
                    byte = (int)v;
            }
            if (byte >= 0) {
                rc = tk_buf_putc(&bytes, (char)byte);
                continue;
            }
            if (bytes.n) { /* the pending bytes: one string if valid UTF-8, else U+FFFD each */
                if (tk_utf8_valid_prefix((const unsigned char *)bytes.p, bytes.n) == bytes.n)
                    rc = tk_list_add(out, bytes.p, bytes.n, 0);
                else
                    for (size_t k = 0; k < bytes.n && !rc; k++) rc = tk_list_add(out, "\xEF\xBF\xBD", 3, 0);
                bytes.n = 0;
            }
            if (!rc && i < in->n) rc = tk_list_add(out, s, in->len[i], 0);
        }
        tk_buf_free(&bytes);
        return rc;
    }
    case TKD_FUSE: {
        if (tk_list_add(out, "", 0, 0)) return -1;
        for (int i = 0; i < in->n; i++)
            if (tk_buf_put(&out->bytes, TK_STR(in, i), in->len[i])) return -1;
        out->len[0] = (uint32_t)out->bytes.n;
        return 0;
    }
    case TKD_REPLACE: {
        for (int i = 0; i < in->n; i++) {
            const char *s = TK_STR(in, i);
            size_t n = in->len[i], at = out->bytes.n;
            if (tk_list_add(out, "", 0, 0)) return -1;
            if (d->re.code) {
                tk_enc e;
                char err[8];
                tk_enc_init(&e, err, sizeof err);
                tk_buf r = {0};
                int rc = tk_re_ranges(&e, &d->re, s, n, &r);
                const uint32_t *rr = (const uint32_t *)r.p;
                for (size_t k = 0; !rc && k < r.n / (3 * sizeof *rr); k++)
                    rc = rr[3 * k + 2] ? tk_buf_put(&out->bytes, d->b, d->b_len)
                                       : tk_buf_put(&out->bytes, s + rr[3 * k], rr[3 * k + 1] - rr[3 * k]);
                tk_buf_free(&r);
                tk_enc_free(&e);
                if (rc) return -1;
            } else {
                size_t j = 0;
                while (d->a_len && j + d->a_len <= n) {
                    if (!memcmp(s + j, d->a, d->a_len)) {
                        if (tk_buf_put(&out->bytes, d->b, d->b_len)) return -1;
                        j += d->a_len;
                    } else if (tk_buf_putc(&out->bytes, s[j++])) {
                        return -1;
                    }
                }
                if (tk_buf_put(&out->bytes, s + j, n - j)) return -1;
            }
            out->len[out->n - 1] = (uint32_t)(out->bytes.n - at);
        }
        return 0;
    }
    case TKD_METASPACE:
    case TKD_STRIP: {
        tk_buf w = {0};
        int32_t *cps = NULL;
        int rc = 0;
        for (int i = 0; i < in->n && !rc; i++) {
            const char *s = TK_STR(in, i);
            size_t n = in->len[i];
            w.n = 0;
            if (d->kind == TKD_METASPACE) {
                for (size_t j = 0; j < n && !rc;) {
                    int k = tk_utf8_len((const unsigned char *)s + j, n - j);
                    if (!k) k = 1;
                    if (tk_utf8_cp((const unsigned char *)s + j, k) == d->cp) {
                        if (!(i == 0 && d->prepend != TK_PREPEND_NEVER)) rc = tk_buf_putc(&w, ' ');
                    } else {
                        rc = put_char(&w, s + j, k);
                    }
                    j += (size_t)k;
                }
            } else { /* Strip: up to `start` leading and `stop` trailing content chars */
                size_t nc = 0, *at = NULL;
                free(cps);
                cps = malloc((n + 1) * sizeof *cps);
                at = malloc((n + 1) * sizeof *at);
                if (!cps || !at) {
                    free(at);
                    rc = -1;
                    break;
                }
                for (size_t j = 0; j < n;) {
                    int k = tk_utf8_len((const unsigned char *)s + j, n - j);
                    if (!k) k = 1;
                    at[nc] = j, cps[nc++] = tk_utf8_cp((const unsigned char *)s + j, k);
                    j += (size_t)k;
                }
                at[nc] = n;
                size_t a = 0, b = nc;
                while (a < nc && a < (size_t)d->start && cps[a] == d->cp) a++;
                for (int k = 0; k < d->stop && b > a && cps[b - 1] == d->cp; k++) b--;
                rc = tk_buf_put(&w, s + at[a], at[b] - at[a]);
                free(at);
            }
            if (!rc) rc = tk_list_add(out, w.p ? w.p : "", w.n, 0);
        }
        free(cps);
        tk_buf_free(&w);
        return rc;
    }
    case TKD_SEQ: {
        tk_list *src = in, *dst = out;
        for (int i = 0; i < d->n_items; i++) {
            if (dec_one(&d->items[i], src, dst)) return -1;
            tk_list *t = src;
            src = dst, dst = t;
        }
        if (src != out) {
            tk_list t = *out;
            *out = *in, *in = t;
        }
        return 0;
    }
    }
    return 0;
}

int tk_decode(const tk_tokenizer *t, const int32_t *ids, size_t n, int skip_special, tk_buf *out)
{
    tk_list a = {0}, b = {0};
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        size_t len;
        const char *p = tk_id_piece(t, ids[i], &len);
        if (!p) continue;
        int32_t x = t->added_of_id[ids[i]];
        if (skip_special && x >= 0 && t->added[x].special) continue;
        rc = tk_list_add(&a, p, len, 0);
    }
    if (!rc && t->dec) {
        rc = dec_one(t->dec, &a, &b);
        for (int i = 0; i < b.n && !rc; i++) rc = tk_buf_put(out, TK_STR(&b, i), b.len[i]);
    } else {
        for (int i = 0; i < a.n && !rc; i++)
            rc = (i && tk_buf_putc(out, ' ')) || tk_buf_put(out, TK_STR(&a, i), a.len[i]);
    }
    if (!rc && !out->p) rc = tk_buf_put(out, "", 0);
    tk_list_free(&a), tk_list_free(&b);
    /* tokenizers returns a Rust String, always valid UTF-8: a decoder chain
     * that cut a character (found by fuzz_tokenizer) gets U+FFFD for the
     * broken bytes, as from_utf8_lossy would give */
    if (!rc && tk_utf8_valid_prefix((const unsigned char *)out->p, out->n) != out->n) {
        tk_buf fixed = {0};
        rc = tk_utf8_lossy(&fixed, (const unsigned char *)out->p, out->n);
        if (!rc) {
            tk_buf_free(out);
            *out = fixed;
        } else {
            tk_buf_free(&fixed);
        }
    }
    return rc;
}
