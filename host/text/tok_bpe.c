/*
 * tok_bpe.c - the BPE model on one word, and the whole encode: added
 * tokens split off (leftmost-longest, then single_word / lstrip / rstrip as
 * added_vocabulary.rs does), the normalizer and pre-tokenizer per piece,
 * BPE per word, the post-processor.
 *
 * The merge loop is word.rs merge_all: a linked list of symbols and a
 * binary min-heap of candidate merges keyed (rank, position); a popped
 * entry whose pair no longer yields its new id is stale and skipped. Each
 * merge costs O(log n), not a rescan of the word.
 */
#include <stdlib.h>
#include <string.h>

#include "text/tok.h"

typedef struct {
    int32_t c, prev, next;
    uint32_t len; /* bytes; 0: merged into its left neighbour */
} sym;

typedef struct {
    uint32_t rank;
    int32_t pos, id;
} cand;

static int enc_oom(tk_enc *e)
{
    e->failed = 1;
    swacl_format_msg(e->err, e->elen, "tokenizer: out of memory");
    return -1;
}

int tk_push_id(tk_enc *e, int32_t id)
{
    if (e->n_ids == e->cap_ids) {
        size_t cap = e->cap_ids ? e->cap_ids * 2 : 256;
        int32_t *p = realloc(e->ids, cap * sizeof *p);
        if (!p) return enc_oom(e);
        e->ids = p, e->cap_ids = cap;
    }
    e->ids[e->n_ids++] = id;
    return 0;
}

static int cand_less(const cand *a, const cand *b)
{
    return a->rank != b->rank ? a->rank < b->rank : a->pos < b->pos;
}

static void heap_push(cand *h, size_t *n, cand c)
{
    size_t i = (*n)++;
    while (i) {
        size_t p = (i - 1) / 2;
        if (!cand_less(&c, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = c;
}

static cand heap_pop(cand *h, size_t *n)
{
    cand top = h[0], last = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l >= *n) break;
        m = l + 1 < *n && cand_less(&h[l + 1], &h[l]) ? l + 1 : l;
        if (!cand_less(&h[m], &last)) break;
        h[i] = h[m];
        i = m;
    }
    if (*n) h[i] = last;
    return top;
}

static void sym_add(sym *s, int *n, int32_t c, uint32_t len)
{
    s[*n] = (sym){c, *n - 1, -1, len};
    if (*n) s[*n - 1].next = *n;
    (*n)++;
}

int tk_bpe_word(tk_enc *e, const tk_tokenizer *t, const char *w, size_t n)
{
    if (!n) return 0;
    if (t->ignore_merges) {
        int32_t id = tk_strmap_get(&t->vocab, w, n);
        if (id >= 0) return tk_push_id(e, id);
    }
    /* at most one symbol per byte (byte fallback), plus prefix/suffix bytes;
     * the heap holds at most 2 per symbol: n-1 pairs, then each merge pops
     * one entry and pushes at most two */
    size_t max_sym = n + t->prefix_len * n + t->suffix_len + 1;
    e->sym.n = 0;
    if (max_sym > INT32_MAX / 4 || tk_buf_reserve(&e->sym, max_sym * sizeof(sym)) ||
        tk_buf_reserve(&e->heap, 2 * max_sym * sizeof(cand)))
        return enc_oom(e);
    sym *s = (sym *)e->sym.p;
    cand *h = (cand *)e->heap.p;
    int ns = 0;
    int32_t unk = -1;
    uint32_t unk_len = 0;
    tk_buf *piece = &e->tmp2;
    for (size_t i = 0; i < n;) {
        int k = tk_utf8_len((const unsigned char *)w + i, n - i);
        if (!k) k = 1;
        const char *cs = w + i;
        size_t cn = (size_t)k;
        int first = i == 0, last = i + (size_t)k == n;
        if ((!first && t->prefix_len) || (last && t->suffix_len)) {
            piece->n = 0;
            if ((!first && tk_buf_put(piece, t->prefix, t->prefix_len)) || tk_buf_put(piece, cs, cn) ||
                (last && tk_buf_put(piece, t->suffix, t->suffix_len)))
                return enc_oom(e);
            cs = piece->p, cn = piece->n;
        }
        i += (size_t)k;
        int32_t id = tk_strmap_get(&t->vocab, cs, cn);
        if (id >= 0) {
            if (unk >= 0) sym_add(s, &ns, unk, unk_len), unk = -1;
            sym_add(s, &ns, id, (uint32_t)k);
            continue;
        }
        if (t->byte_fallback) {
            size_t b = 0;
            while (b < cn && t->byte_id[(unsigned char)cs[b]] >= 0) b++;
            if (b == cn) {
                for (b = 0; b < cn; b++) sym_add(s, &ns, t->byte_id[(unsigned char)cs[b]], 1);
                continue;
            }
        }
        if (!t->has_unk) continue; /* no unk token: the character is dropped */
        if (t->unk_id < 0) {
            e->failed = 1;
            swacl_format_msg(e->err, e->elen, "tokenizer: the unk token is not in the vocab");
            return -1;
        }
        if (unk >= 0 && t->fuse_unk) {
            unk_len += (uint32_t)k;
        } else {
            if (unk >= 0) sym_add(s, &ns, unk, unk_len);
            unk = t->unk_id, unk_len = (uint32_t)k;
        }
    }
    if (unk >= 0) sym_add(s, &ns, unk, unk_len);

    size_t nh = 0;
    uint32_t rank;
    int32_t nid;
    for (int i = 0; i + 1 < ns; i++)
        if (tk_pairmap_get(&t->merges, s[i].c, s[i + 1].c, &rank, &nid))
            heap_push(h, &nh, (cand){rank, i, nid});
    while (nh) {
        cand top = heap_pop(h, &nh);
        sym *a = &s[top.pos];
        if (!a->len || a->next < 0) continue;
        sym right = s[a->next];
        if (!tk_pairmap_get(&t->merges, a->c, right.c, &rank, &nid) || nid != top.id) continue;
        s[a->next].len = 0;
        a->c = top.id, a->len += right.len, a->next = right.next;
        if (right.next >= 0) s[right.next].prev = top.pos;
        if (a->prev >= 0 && tk_pairmap_get(&t->merges, s[a->prev].c, a->c, &rank, &nid))
            heap_push(h, &nh, (cand){rank, a->prev, nid});
        if (a->next >= 0 && tk_pairmap_get(&t->merges, a->c, s[a->next].c, &rank, &nid))
            heap_push(h, &nh, (cand){rank, top.pos, nid});
    }
    for (int i = 0; i < ns; i++)
        if (s[i].len && tk_push_id(e, s[i].c)) return -1;
    return 0;
}

/* ---- added tokens --------------------------------------------------------- */

static int32_t cp_before(const char *s, size_t at)
{
    size_t c = at - 1;
    while (c > 0 && ((unsigned char)s[c] & 0xC0) == 0x80) c--;
    int k = tk_utf8_len((const unsigned char *)s + c, at - c);
    return k ? tk_utf8_cp((const unsigned char *)s + c, k) : -1;
}

/* The next added token of set `set` in s[from..n): leftmost, longest
 * there, after the single_word filter; *a, *b: its extent after lstrip /
 * rstrip (not before `floor`). -1 when none. */
static int next_added(const tk_tokenizer *t, int set, const char *s, size_t n, size_t from,
                      size_t floor, size_t *a, size_t *b)
{
    for (size_t i = from; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int hit = -1;
        for (int j = t->range[set][c]; j < t->range[set][c + 1]; j++) {
            const tk_added *x = &t->added[j];
            if (x->nlen && x->nlen <= n - i && !memcmp(s + i, t->pool.p + x->noff, x->nlen)) {
                hit = j;
                break;
            }
        }
        if (hit < 0) continue;
        const tk_added *x = &t->added[hit];
        size_t st = i, en = i + x->nlen;
        if (x->single_word) {
            int k = en < n ? tk_utf8_len((const unsigned char *)s + en, n - en) : 0;
            int left_word = st > 0 && tk_is_word(cp_before(s, st));
            int right_word = k && tk_is_word(tk_utf8_cp((const unsigned char *)s + en, k));
            if (left_word || right_word) { /* not a word of its own: skipped whole */
                i = en - 1;
                continue;
            }
        }
        if (x->lstrip) {
            while (st > floor && tk_is_whitespace(cp_before(s, st))) {
                st--;
                while (st > floor && ((unsigned char)s[st] & 0xC0) == 0x80) st--;
            }
        }
        if (x->rstrip) {
            for (int k; en < n && (k = tk_utf8_len((const unsigned char *)s + en, n - en)) &&
                        tk_is_whitespace(tk_utf8_cp((const unsigned char *)s + en, k));)
                en += (size_t)k;
        }
        *a = st, *b = en;
        return hit;
    }
    return -1;
}

/* Normalizer + pre-tokenizer + BPE on one piece of text. */
static int encode_words(tk_enc *e, const tk_tokenizer *t, const char *s, size_t n, unsigned flag)
{
    if (!n) return 0;
    tk_list_clear(&e->a);
    if (tk_list_add(&e->a, s, n, flag)) return enc_oom(e);
    if (t->pre && tk_pretokenize(e, t->pre, &e->a, &e->b)) return -1;
    tk_list *words = t->pre ? &e->b : &e->a;
    for (int i = 0; i < words->n; i++)
        if (tk_bpe_word(e, t, TK_STR(words, i), words->len[i])) return -1;
    return 0;
}

/* One raw segment: normalize, split off the normalized added tokens. */
static int encode_segment(tk_enc *e, const tk_tokenizer *t, const char *s, size_t n, unsigned flag)
{
    if (!n) return 0;
    tk_buf norm = {0};
    if (t->norm) {
        if (tk_normalize(e, t->norm, s, n, &norm)) return tk_buf_free(&norm), -1;
        s = norm.p ? norm.p : "", n = norm.n;
    }
    size_t at = 0, a, b;
    int rc = 0, j;
    while (!rc && (j = next_added(t, 1, s, n, at, at, &a, &b)) >= 0) {
        rc = encode_words(e, t, s + at, a - at, at == 0 ? flag : 0) || tk_push_id(e, t->added[j].id);
        at = b;
    }
    if (!rc) rc = encode_words(e, t, s + at, n - at, at == 0 ? flag : 0);
    tk_buf_free(&norm);
    return rc;
}

static int post_process(tk_enc *e, const tk_post *p)
{
    if (p->kind == TKPP_SEQ) {
        for (int i = 0; i < p->n_items; i++)
            if (post_process(e, &p->items[i])) return -1;
        return 0;
    }
    if (p->kind != TKPP_TEMPLATE) return 0;
    size_t n = e->n_ids;
    for (int i = 0; i < p->n_pre + p->n_post; i++)
        if (tk_push_id(e, 0)) return -1;
    if (p->n_pre + p->n_post == 0) return 0; /* an empty template: ids unchanged */
    /* (NULL pre / post lists with zero counts must not reach memcpy) */
    memmove(e->ids + p->n_pre, e->ids, n * sizeof *e->ids);
    if (p->n_pre) memcpy(e->ids, p->pre, (size_t)p->n_pre * sizeof *e->ids);
    if (p->n_post) memcpy(e->ids + p->n_pre + n, p->post, (size_t)p->n_post * sizeof *e->ids);
    return 0;
}

int tk_encode(tk_enc *e, const tk_tokenizer *t, const char *s, size_t n, int add_special)
{
    e->n_ids = 0;
    size_t at = 0, a, b;
    int j;
    while ((j = next_added(t, 0, s, n, at, at, &a, &b)) >= 0) {
        if (encode_segment(e, t, s + at, a - at, at == 0 ? TK_ORIGIN0 : 0) ||
            tk_push_id(e, t->added[j].id))
            return -1;
        at = b;
    }
    if (encode_segment(e, t, s + at, n - at, at == 0 ? TK_ORIGIN0 : 0)) return -1;
    return add_special && t->post ? post_process(e, t->post) : 0;
}

void tk_enc_init(tk_enc *e, char *err, size_t elen)
{
    memset(e, 0, sizeof *e);
    e->err = err, e->elen = elen;
}

void tk_enc_free(tk_enc *e)
{
    pcre2_match_data_free(e->md);
    pcre2_match_context_free(e->mc);
    pcre2_jit_stack_free(e->js);
    tk_list_free(&e->a), tk_list_free(&e->b);
    tk_buf_free(&e->tmp), tk_buf_free(&e->tmp2), tk_buf_free(&e->sym), tk_buf_free(&e->heap);
    free(e->ids);
    memset(e, 0, sizeof *e);
}
