/*
 * tok_load.c - tokenizer.json (the Hugging Face tokenizers format) into a
 * tk_tokenizer: the BPE model (vocab, merges in both JSON shapes), the
 * normalizer, pre-tokenizer, post-processor and decoder trees, and the
 * added tokens. Anything unknown or malformed is refused with one line
 * naming the component ("pre_tokenizer.pretokenizers[1]: unsupported type
 * 'Punctuation'"), never guessed around.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text/tok.h"

#define MAX_DEPTH 8          /* nested Sequence components              */
#define MAX_ID (1 << 24)     /* token ids: vocabularies are < 300k       */

typedef struct {
    char *err;
    size_t elen;
} perr;

static int fail(perr *e, const char *where, const char *fmt, const char *arg)
{
    char what[320];
    snprintf(what, sizeof what, fmt, arg ? arg : "");
    swacl_format_msg(e->err, e->elen, "tokenizer.json: %s: %s", where, what);
    /* names quoted from the file may hold control characters: the message
     * stays one line (found by fuzz_tokenizer) */
    for (char *c = e->err; e->elen && *c; c++)
        if ((unsigned char)*c < 0x20) *c = '?';
    return -1;
}

static int oom(perr *e) { return fail(e, "loading", "out of memory", NULL); }

/* Optional boolean member (default when absent or null). -1 if mistyped. */
static int get_bool(perr *e, const cJSON *o, const char *key, int def, const char *where, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return *out = def, 0;
    if (!cJSON_IsBool(v)) return fail(e, where, "'%s' is not a boolean", key);
    *out = cJSON_IsTrue(v);
    return 0;
}

static const char *get_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *type_of(perr *e, const cJSON *o, const char *where)
{
    if (!cJSON_IsObject(o)) return fail(e, where, "not an object", NULL), NULL;
    const char *t = get_str(o, "type");
    if (!t) fail(e, where, "no 'type'", NULL);
    return t;
}

int tk_re_compile(tk_re *re, const char *pat, size_t n, int literal, char *err, size_t elen)
{
    int code;
    PCRE2_SIZE at;
    uint32_t opt = PCRE2_UTF | (literal ? PCRE2_LITERAL : PCRE2_UCP);
    re->code = pcre2_compile((PCRE2_SPTR)pat, n, opt, &code, &at, NULL);
    if (!re->code) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof msg);
        swacl_format_msg(err, elen, "regex error at %zu: %s", (size_t)at, (const char *)msg);
        return -1;
    }
    (void)pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE); /* the interpreter when JIT is absent */
    return 0;
}

void tk_re_free(tk_re *re)
{
    pcre2_code_free(re->code);
    re->code = NULL;
}

/* {"String": s} or {"Regex": r}: *lit gets the literal (malloc'd) or re. */
static int get_pattern(perr *e, const cJSON *o, const char *where, char **lit, size_t *lit_len,
                       tk_re *re)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "pattern");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(p, "String");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(p, "Regex");
    if (cJSON_IsString(s)) {
        if (!(*lit = strdup(s->valuestring))) return oom(e);
        *lit_len = strlen(s->valuestring);
        return 0;
    }
    if (!cJSON_IsString(r)) return fail(e, where, "'pattern' is neither {String} nor {Regex}", NULL);
    char msg[240];
    if (tk_re_compile(re, r->valuestring, strlen(r->valuestring), 0, msg, sizeof msg))
        return fail(e, where, "%s", msg);
    return 0;
}

static int dup_member(perr *e, const cJSON *o, const char *key, const char *where, char **out,
                      size_t *len)
{
    const char *s = get_str(o, key);
    if (!s) return fail(e, where, "no string '%s'", key);
    if (tk_utf8_valid_prefix((const unsigned char *)s, strlen(s)) != strlen(s))
        return fail(e, where, "'%s' is not valid UTF-8", key);
    if (!(*out = strdup(s))) return oom(e);
    *len = strlen(s);
    return 0;
}

/* One character member ("replacement": "▁"): its code point and UTF-8. */
static int get_char(perr *e, const cJSON *o, const char *key, const char *where, int32_t *cp,
                    char *utf8, int *ulen)
{
    const char *s = get_str(o, key);
    size_t n = s ? strlen(s) : 0;
    int k = n ? tk_utf8_len((const unsigned char *)s, n) : 0;
    if (!k || (size_t)k != n) return fail(e, where, "'%s' is not one character", key);
    *cp = tk_utf8_cp((const unsigned char *)s, k);
    if (utf8) memcpy(utf8, s, (size_t)k), *ulen = k;
    return 0;
}

static int prepend_scheme(perr *e, const cJSON *o, const char *where, int *out)
{
    const char *s = get_str(o, "prepend_scheme");
    int aps = 1;
    if (get_bool(e, o, "add_prefix_space", 1, where, &aps)) return -1;
    *out = !s || !strcmp(s, "always") ? TK_PREPEND_ALWAYS
           : !strcmp(s, "first")      ? TK_PREPEND_FIRST
           : !strcmp(s, "never")      ? TK_PREPEND_NEVER
                                      : -1;
    if (*out < 0) return fail(e, where, "unknown prepend_scheme '%s'", s);
    if (!aps) *out = TK_PREPEND_NEVER; /* legacy add_prefix_space: false */
    return 0;
}

/* ---- normalizers -------------------------------------------------------- */

static int parse_norm(perr *e, const cJSON *o, const char *where, int depth, tk_norm *n)
{
    const char *t = type_of(e, o, where);
    if (!t) return -1;
    static const struct {
        const char *name;
        tk_norm_kind kind;
    } simple[] = {{"NFC", TKN_NFC},       {"NFD", TKN_NFD},           {"NFKC", TKN_NFKC},
                  {"NFKD", TKN_NFKD},     {"Lowercase", TKN_LOWER},   {"StripAccents", TKN_STRIP_ACCENTS}};
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
        if (!strcmp(t, simple[i].name)) return n->kind = simple[i].kind, 0;
    if (!strcmp(t, "Replace")) {
        n->kind = TKN_REPLACE;
        return get_pattern(e, o, where, &n->a, &n->a_len, &n->re) ||
               dup_member(e, o, "content", where, &n->b, &n->b_len);
    }
    if (!strcmp(t, "Prepend")) {
        n->kind = TKN_PREPEND;
        return dup_member(e, o, "prepend", where, &n->a, &n->a_len);
    }
    if (!strcmp(t, "Strip")) {
        n->kind = TKN_STRIP;
        return get_bool(e, o, "strip_left", 1, where, &n->left) ||
               get_bool(e, o, "strip_right", 1, where, &n->right);
    }
    if (strcmp(t, "Sequence")) return fail(e, where, "unsupported type '%s'", t);
    n->kind = TKN_SEQ;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "normalizers");
    if (!cJSON_IsArray(a)) return fail(e, where, "no array 'normalizers'", NULL);
    if (depth >= MAX_DEPTH) return fail(e, where, "nested too deeply", NULL);
    int k = cJSON_GetArraySize(a);
    if (k && !(n->items = calloc((size_t)k, sizeof *n->items))) return oom(e);
    for (const cJSON *c = a->child; c; c = c->next) {
        char w[200];
        snprintf(w, sizeof w, "%.150s.normalizers[%d]", where, n->n_items);
        if (parse_norm(e, c, w, depth + 1, &n->items[n->n_items++])) return -1;
    }
    return 0;
}

static void free_norm(tk_norm *n)
{
    for (int i = 0; i < n->n_items; i++) free_norm(&n->items[i]);
    free(n->items), free(n->a), free(n->b);
    tk_re_free(&n->re);
}

/* ---- pre-tokenizers ---------------------------------------------------- */

static const char k_gpt2_re[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

static int builtin_re(perr *e, tk_re *re, const char *pat, const char *where)
{
    char msg[240];
    if (tk_re_compile(re, pat, strlen(pat), 0, msg, sizeof msg)) return fail(e, where, "%s", msg);
    return 0;
}

static int parse_pre(perr *e, const cJSON *o, const char *where, int depth, tk_pre *p)
{
    const char *t = type_of(e, o, where);
    if (!t) return -1;
    if (!strcmp(t, "ByteLevel")) {
        p->kind = TKP_BYTELEVEL;
        if (get_bool(e, o, "add_prefix_space", 1, where, &p->add_prefix_space) ||
            get_bool(e, o, "use_regex", 1, where, &p->use_regex))
            return -1;
        return p->use_regex ? builtin_re(e, &p->re, k_gpt2_re, where) : 0;
    }
    if (!strcmp(t, "Split")) {
        p->kind = TKP_SPLIT;
        char *lit = NULL;
        size_t lit_len = 0;
        if (get_pattern(e, o, where, &lit, &lit_len, &p->re)) return -1;
        if (lit) { /* a String pattern is an escaped regex in tokenizers */
            char msg[240];
            int bad = tk_re_compile(&p->re, lit, lit_len, 1, msg, sizeof msg);
            free(lit);
            if (bad) return fail(e, where, "%s", msg);
        }
        const char *b = get_str(o, "behavior");
        static const char *const names[] = {"Isolated", "Removed", "MergedWithPrevious",
                                            "MergedWithNext", "Contiguous"};
        p->behavior = -1;
        for (int i = 0; b && i < 5; i++)
            if (!strcmp(b, names[i])) p->behavior = i;
        if (p->behavior < 0) return fail(e, where, "unknown behavior '%s'", b ? b : "(none)");
        return get_bool(e, o, "invert", 0, where, &p->invert);
    }
    if (!strcmp(t, "Metaspace")) {
        p->kind = TKP_METASPACE;
        int32_t cp;
        return get_char(e, o, "replacement", where, &cp, p->repl, &p->repl_len) ||
               prepend_scheme(e, o, where, &p->prepend) ||
               get_bool(e, o, "split", 1, where, &p->split);
    }
    if (!strcmp(t, "Digits")) {
        p->kind = TKP_DIGITS;
        return get_bool(e, o, "individual_digits", 0, where, &p->individual);
    }
    if (!strcmp(t, "Whitespace")) {
        p->kind = TKP_WHITESPACE;
        /* \w+|[^\w\s]+ of the Rust regex crate, whose \w is Unicode "word"
         * (Alphabetic, marks, Nd, Pc, Join_Control) and \s White_Space */
        return builtin_re(e, &p->re,
                          "[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}]+|"
                          "[^\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}\\p{White_Space}]+",
                          where);
    }
    if (!strcmp(t, "WhitespaceSplit")) return p->kind = TKP_WSSPLIT, 0;
    if (strcmp(t, "Sequence")) return fail(e, where, "unsupported type '%s'", t);
    p->kind = TKP_SEQ;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "pretokenizers");
    if (!cJSON_IsArray(a)) return fail(e, where, "no array 'pretokenizers'", NULL);
    if (depth >= MAX_DEPTH) return fail(e, where, "nested too deeply", NULL);
    int k = cJSON_GetArraySize(a);
    if (k && !(p->items = calloc((size_t)k, sizeof *p->items))) return oom(e);
    for (const cJSON *c = a->child; c; c = c->next) {
        char w[200];
        snprintf(w, sizeof w, "%.150s.pretokenizers[%d]", where, p->n_items);
        if (parse_pre(e, c, w, depth + 1, &p->items[p->n_items++])) return -1;
    }
    return 0;
}

static void free_pre(tk_pre *p)
{
    for (int i = 0; i < p->n_items; i++) free_pre(&p->items[i]);
    free(p->items);
    tk_re_free(&p->re);
}

/* ---- decoders ----------------------------------------------------------- */

static int parse_dec(perr *e, const cJSON *o, const char *where, int depth, tk_dec *d)
{
    const char *t = type_of(e, o, where);
    if (!t) return -1;
    if (!strcmp(t, "ByteLevel")) return d->kind = TKD_BYTELEVEL, 0;
    if (!strcmp(t, "ByteFallback")) return d->kind = TKD_BYTEFALLBACK, 0;
    if (!strcmp(t, "Fuse")) return d->kind = TKD_FUSE, 0;
    if (!strcmp(t, "Metaspace")) {
        d->kind = TKD_METASPACE;
        return get_char(e, o, "replacement", where, &d->cp, NULL, NULL) ||
               prepend_scheme(e, o, where, &d->prepend);
    }
    if (!strcmp(t, "Strip")) {
        d->kind = TKD_STRIP;
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "start");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "stop");
        if (!cJSON_IsNumber(s) || !cJSON_IsNumber(p) || s->valuedouble < 0 || p->valuedouble < 0 ||
            s->valuedouble > 1e6 || p->valuedouble > 1e6)
            return fail(e, where, "'start' / 'stop' are not counts", NULL);
        d->start = (int)s->valuedouble, d->stop = (int)p->valuedouble;
        return get_char(e, o, "content", where, &d->cp, NULL, NULL);
    }
    if (!strcmp(t, "Replace")) {
        d->kind = TKD_REPLACE;
        return get_pattern(e, o, where, &d->a, &d->a_len, &d->re) ||
               dup_member(e, o, "content", where, &d->b, &d->b_len);
    }
    if (strcmp(t, "Sequence")) return fail(e, where, "unsupported type '%s'", t);
    d->kind = TKD_SEQ;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "decoders");
    if (!cJSON_IsArray(a)) return fail(e, where, "no array 'decoders'", NULL);
    if (depth >= MAX_DEPTH) return fail(e, where, "nested too deeply", NULL);
    int k = cJSON_GetArraySize(a);
    if (k && !(d->items = calloc((size_t)k, sizeof *d->items))) return oom(e);
    for (const cJSON *c = a->child; c; c = c->next) {
        char w[200];
        snprintf(w, sizeof w, "%.150s.decoders[%d]", where, d->n_items);
        if (parse_dec(e, c, w, depth + 1, &d->items[d->n_items++])) return -1;
    }
    return 0;
}

static void free_dec(tk_dec *d)
{
    for (int i = 0; i < d->n_items; i++) free_dec(&d->items[i]);
    free(d->items), free(d->a), free(d->b);
    tk_re_free(&d->re);
}

/* ---- post-processors ---------------------------------------------------- */

static int id_list_add(perr *e, int32_t **v, int *n, int32_t id)
{
    if (*n >= 4096) return fail(e, "post_processor", "too many special tokens", NULL);
    int32_t *p = realloc(*v, (size_t)(*n + 1) * sizeof *p);
    if (!p) return oom(e);
    (*v = p)[(*n)++] = id;
    return 0;
}

/* ["</s>", 2] of RobertaProcessing / BertProcessing */
static int pair_id(perr *e, const cJSON *o, const char *key, const char *where, int32_t *id)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    const cJSON *v = cJSON_GetArrayItem(a, 1);
    if (!cJSON_IsArray(a) || !cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble >= MAX_ID)
        return fail(e, where, "'%s' is not [token, id]", key);
    *id = (int32_t)v->valuedouble;
    return 0;
}

static int parse_post(perr *e, const cJSON *o, const char *where, int depth, tk_post *p)
{
    const char *t = type_of(e, o, where);
    if (!t) return -1;
    if (!strcmp(t, "ByteLevel")) return p->kind = TKPP_BYTELEVEL, 0;
    if (!strcmp(t, "RobertaProcessing") || !strcmp(t, "BertProcessing")) {
        p->kind = TKPP_TEMPLATE;
        int32_t cls, sep;
        return pair_id(e, o, "cls", where, &cls) || pair_id(e, o, "sep", where, &sep) ||
               id_list_add(e, &p->pre, &p->n_pre, cls) || id_list_add(e, &p->post, &p->n_post, sep);
    }
    if (!strcmp(t, "TemplateProcessing")) {
        p->kind = TKPP_TEMPLATE;
        const cJSON *single = cJSON_GetObjectItemCaseSensitive(o, "single");
        const cJSON *specials = cJSON_GetObjectItemCaseSensitive(o, "special_tokens");
        if (!cJSON_IsArray(single)) return fail(e, where, "no array 'single'", NULL);
        int seen_a = 0;
        for (const cJSON *it = single->child; it; it = it->next) {
            const cJSON *sp = cJSON_GetObjectItemCaseSensitive(it, "SpecialToken");
            const cJSON *sq = cJSON_GetObjectItemCaseSensitive(it, "Sequence");
            if (sq) {
                if (seen_a++) return fail(e, where, "'single' has $A twice", NULL);
                continue;
            }
            const char *name = get_str(sp, "id");
            const cJSON *ent = name ? cJSON_GetObjectItemCaseSensitive(specials, name) : NULL;
            const cJSON *ids = cJSON_GetObjectItemCaseSensitive(ent, "ids");
            if (!cJSON_IsArray(ids))
                return fail(e, where, "special token '%s' is not in special_tokens", name ? name : "?");
            for (const cJSON *i = ids->child; i; i = i->next) {
                if (!cJSON_IsNumber(i) || i->valuedouble < 0 || i->valuedouble >= MAX_ID)
                    return fail(e, where, "special token '%s' has a bad id", name);
                if (id_list_add(e, seen_a ? &p->post : &p->pre, seen_a ? &p->n_post : &p->n_pre,
                                (int32_t)i->valuedouble))
                    return -1;
            }
        }
        return 0;
    }
    if (strcmp(t, "Sequence")) return fail(e, where, "unsupported type '%s'", t);
    p->kind = TKPP_SEQ;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "processors");
    if (!cJSON_IsArray(a)) return fail(e, where, "no array 'processors'", NULL);
    if (depth >= MAX_DEPTH) return fail(e, where, "nested too deeply", NULL);
    int k = cJSON_GetArraySize(a);
    if (k && !(p->items = calloc((size_t)k, sizeof *p->items))) return oom(e);
    for (const cJSON *c = a->child; c; c = c->next) {
        char w[200];
        snprintf(w, sizeof w, "%.150s.processors[%d]", where, p->n_items);
        if (parse_post(e, c, w, depth + 1, &p->items[p->n_items++])) return -1;
    }
    return 0;
}

static void free_post(tk_post *p)
{
    for (int i = 0; i < p->n_items; i++) free_post(&p->items[i]);
    free(p->items), free(p->pre), free(p->post);
}

/* ---- the BPE model ------------------------------------------------------ */

static int pool_add(tk_tokenizer *t, const char *s, size_t n, uint32_t *off)
{
    if (t->pool.n + n + 1 > UINT32_MAX) return -1;
    *off = (uint32_t)t->pool.n;
    return tk_buf_put(&t->pool, s, n) || tk_buf_putc(&t->pool, 0);
}

static int merge_pair(perr *e, tk_tokenizer *t, const char *a, size_t an, const char *b, size_t bn,
                      uint32_t rank, tk_buf *tmp)
{
    int32_t ia = tk_strmap_get(&t->vocab, a, an), ib = tk_strmap_get(&t->vocab, b, bn);
    char w[64];
    snprintf(w, sizeof w, "model.merges[%u]", rank);
    if (ia < 0 || ib < 0) return fail(e, w, "token '%.60s' is not in the vocab", ia < 0 ? a : b);
    if (bn < t->prefix_len) return fail(e, w, "'%.60s' is shorter than the subword prefix", b);
    tmp->n = 0;
    if (tk_buf_put(tmp, a, an) || tk_buf_put(tmp, b + t->prefix_len, bn - t->prefix_len))
        return oom(e);
    int32_t id = tk_strmap_get(&t->vocab, tmp->p, tmp->n);
    if (id < 0) return fail(e, w, "the merged token '%.60s' is not in the vocab", tmp->p);
    tk_pairmap_put(&t->merges, ia, ib, rank, id);
    return 0;
}

static int parse_model(perr *e, const cJSON *m, tk_tokenizer *t)
{
    const char *type = get_str(m, "type");
    if (!cJSON_IsObject(m)) return fail(e, "model", "missing or not an object", NULL);
    if (type && strcmp(type, "BPE")) return fail(e, "model", "unsupported type '%s' (BPE only)", type);
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(m, "vocab");
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(m, "merges");
    if (!cJSON_IsObject(vocab)) return fail(e, "model", "no object 'vocab'", NULL);
    if (!cJSON_IsArray(merges)) return fail(e, "model", "no array 'merges'", NULL);
    const cJSON *drop = cJSON_GetObjectItemCaseSensitive(m, "dropout");
    if (drop && !cJSON_IsNull(drop) && !(cJSON_IsNumber(drop) && drop->valuedouble == 0))
        return fail(e, "model", "unsupported dropout (encoding must be deterministic)", NULL);
    int count = 0, max_id = -1;
    for (const cJSON *v = vocab->child; v; v = v->next, count++) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble >= MAX_ID ||
            v->valuedouble != (double)(int)v->valuedouble)
            return fail(e, "model.vocab", "'%.60s' has no valid id", v->string);
        if ((int)v->valuedouble > max_id) max_id = (int)v->valuedouble;
    }
    if (max_id > 2 * count + 1024) return fail(e, "model.vocab", "ids are too sparse", NULL);
    t->n_ids = max_id + 1;
    t->off = malloc((size_t)(t->n_ids + 1) * sizeof *t->off);
    t->len = malloc((size_t)(t->n_ids + 1) * sizeof *t->len);
    if (!t->off || !t->len) return oom(e);
    memset(t->len, 0xff, (size_t)(t->n_ids + 1) * sizeof *t->len);
    for (const cJSON *v = vocab->child; v; v = v->next) {
        int id = (int)v->valuedouble;
        if (t->len[id] != UINT32_MAX) return fail(e, "model.vocab", "'%.60s' reuses an id", v->string);
        size_t n = strlen(v->string);
        if (pool_add(t, v->string, n, &t->off[id])) return oom(e);
        t->len[id] = (uint32_t)n;
    }
    const char *unk = get_str(m, "unk_token");
    const char *pre = get_str(m, "continuing_subword_prefix");
    const char *suf = get_str(m, "end_of_word_suffix");
    if ((pre && !(t->prefix = strdup(pre))) || (suf && !(t->suffix = strdup(suf)))) return oom(e);
    t->prefix_len = pre ? strlen(pre) : 0, t->suffix_len = suf ? strlen(suf) : 0;
    if (get_bool(e, m, "fuse_unk", 0, "model", &t->fuse_unk) ||
        get_bool(e, m, "byte_fallback", 0, "model", &t->byte_fallback) ||
        get_bool(e, m, "ignore_merges", 0, "model", &t->ignore_merges))
        return -1;
    if (tk_strmap_build(&t->vocab, &t->pool.p, t->off, t->len, t->n_ids)) return oom(e);
    t->has_unk = unk != NULL;
    t->unk_id = unk ? tk_strmap_get(&t->vocab, unk, strlen(unk)) : -1;
    for (int b = 0; b < 256; b++) {
        char code[8];
        snprintf(code, sizeof code, "<0x%02X>", b);
        t->byte_id[b] = tk_strmap_get(&t->vocab, code, 6);
    }
    if (tk_pairmap_init(&t->merges, (size_t)cJSON_GetArraySize(merges))) return oom(e);
    tk_buf tmp = {0};
    uint32_t rank = 0;
    int rc = 0;
    for (const cJSON *x = merges->child; x && !rc; x = x->next, rank++) {
        if (cJSON_IsString(x)) { /* legacy "a b" */
            const char *sp = strchr(x->valuestring, ' ');
            if (!sp || strchr(sp + 1, ' ')) {
                char w[64];
                snprintf(w, sizeof w, "model.merges[%u]", rank);
                rc = fail(e, w, "'%.60s' is not two tokens", x->valuestring);
                break;
            }
            rc = merge_pair(e, t, x->valuestring, (size_t)(sp - x->valuestring), sp + 1,
                            strlen(sp + 1), rank, &tmp);
        } else {
            const cJSON *a = cJSON_GetArrayItem(x, 0), *b = cJSON_GetArrayItem(x, 1);
            if (!cJSON_IsArray(x) || cJSON_GetArraySize(x) != 2 || !cJSON_IsString(a) ||
                !cJSON_IsString(b)) {
                char w[64];
                snprintf(w, sizeof w, "model.merges[%u]", rank);
                rc = fail(e, w, "not a [a, b] pair of strings", NULL);
                break;
            }
            rc = merge_pair(e, t, a->valuestring, strlen(a->valuestring), b->valuestring,
                            strlen(b->valuestring), rank, &tmp);
        }
    }
    tk_buf_free(&tmp);
    return rc;
}

/* ---- added tokens ------------------------------------------------------- */

/* The raw-text set first, then the normalized one; each by first byte,
 * longest first: the leftmost-longest scan tries a byte's run in order. */
static int added_cmp(const void *pa, const void *pb)
{
    const tk_added *a = pa, *b = pb;
    if (a->normalized != b->normalized) return a->normalized - b->normalized;
    if (a->first != b->first) return a->first - b->first;
    if (a->nlen != b->nlen) return a->nlen > b->nlen ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

static int parse_added(perr *e, const cJSON *arr, tk_tokenizer *t)
{
    if (!arr || cJSON_IsNull(arr)) return 0;
    if (!cJSON_IsArray(arr)) return fail(e, "added_tokens", "not an array", NULL);
    int k = cJSON_GetArraySize(arr);
    if (k && !(t->added = calloc((size_t)k, sizeof *t->added))) return oom(e);
    for (const cJSON *a = arr->child; a; a = a->next) {
        char w[48];
        snprintf(w, sizeof w, "added_tokens[%d]", t->n_added);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "id");
        const char *content = get_str(a, "content");
        if (!cJSON_IsNumber(id) || id->valuedouble < 0 || id->valuedouble >= MAX_ID || !content)
            return fail(e, w, "needs an 'id' and a 'content'", NULL);
        if (tk_utf8_valid_prefix((const unsigned char *)content, strlen(content)) != strlen(content))
            return fail(e, w, "'content' is not valid UTF-8", NULL);
        tk_added *x = &t->added[t->n_added];
        int sp, nz, ls, rs, sw;
        if (get_bool(e, a, "special", 0, w, &sp) || get_bool(e, a, "normalized", !sp, w, &nz) ||
            get_bool(e, a, "lstrip", 0, w, &ls) || get_bool(e, a, "rstrip", 0, w, &rs) ||
            get_bool(e, a, "single_word", 0, w, &sw))
            return -1;
        x->id = (int32_t)id->valuedouble;
        x->special = (uint8_t)sp, x->normalized = (uint8_t)nz, x->lstrip = (uint8_t)ls;
        x->rstrip = (uint8_t)rs, x->single_word = (uint8_t)sw;
        x->len = (uint32_t)strlen(content);
        if (pool_add(t, content, x->len, &x->off)) return oom(e);
        t->n_added++;
    }
    return 0;
}

void tk_free(tk_tokenizer *t)
{
    if (!t) return;
    if (t->norm) free_norm(t->norm), free(t->norm);
    if (t->pre) free_pre(t->pre), free(t->pre);
    if (t->post) free_post(t->post), free(t->post);
    if (t->dec) free_dec(t->dec), free(t->dec);
    tk_strmap_free(&t->vocab);
    tk_pairmap_free(&t->merges);
    tk_buf_free(&t->pool);
    free(t->off), free(t->len), free(t->prefix), free(t->suffix), free(t->added), free(t->added_of_id), free(t->eos);
    free(t);
}

/* Every id a post-processor inserts must name a token (an id past the
 * vocabulary would reach the model's embedding; found by fuzz_tokenizer). */
static int post_ids_ok(const tk_post *p, int32_t n_total)
{
    if (!p) return 1;
    for (int i = 0; i < p->n_pre; i++)
        if (p->pre[i] < 0 || p->pre[i] >= n_total) return 0;
    for (int i = 0; i < p->n_post; i++)
        if (p->post[i] < 0 || p->post[i] >= n_total) return 0;
    for (int i = 0; i < p->n_items; i++)
        if (!post_ids_ok(&p->items[i], n_total)) return 0;
    return 1;
}

/* The normalized form of each normalized added token (what tokenizers
 * matches them against) and the id -> added-token index. */
static int finish(perr *e, tk_tokenizer *t)
{
    int max_id = t->n_ids - 1;
    for (int i = 0; i < t->n_added; i++)
        if (t->added[i].id > max_id) max_id = t->added[i].id;
    if (max_id > 2 * (t->n_ids + t->n_added) + 1024)
        return fail(e, "added_tokens", "ids are too sparse", NULL);
    t->n_total = max_id + 1;
    if (!post_ids_ok(t->post, t->n_total))
        return fail(e, "post_processor", "a special token id is not in the vocabulary", NULL);
    tk_enc en;
    tk_enc_init(&en, e->err, e->elen);
    tk_buf out = {0};
    int rc = 0;
    for (int i = 0; i < t->n_added && !rc; i++) {
        tk_added *x = &t->added[i];
        x->noff = x->off, x->nlen = x->len;
        if (!x->normalized || !t->norm) continue;
        out.n = 0;
        char *copy = malloc(x->len + 1);
        if (!copy) return tk_enc_free(&en), oom(e);
        if (x->len) memcpy(copy, t->pool.p + x->off, x->len);
        rc = tk_normalize(&en, t->norm, copy, x->len, &out) || pool_add(t, out.p ? out.p : "", out.n, &x->noff);
        free(copy);
        x->nlen = (uint32_t)out.n;
        if (rc) fail(e, "added_tokens", "cannot normalize a token", NULL);
    }
    tk_buf_free(&out);
    tk_enc_free(&en);
    if (rc) return rc;
    for (int i = 0; i < t->n_added; i++)
        t->added[i].first = t->added[i].nlen ? (uint8_t)t->pool.p[t->added[i].noff] : 0;
    if (t->n_added) qsort(t->added, (size_t)t->n_added, sizeof *t->added, added_cmp);
    for (int s = 0, i = 0; s < 2; s++)
        for (int b = 0; b <= 256; b++) {
            while (i < t->n_added && t->added[i].normalized == s && t->added[i].first < b) i++;
            t->range[s][b] = i;
        }
    if (!(t->added_of_id = malloc((size_t)t->n_total * sizeof *t->added_of_id))) return oom(e);
    memset(t->added_of_id, 0xff, (size_t)t->n_total * sizeof *t->added_of_id);
    for (int i = 0; i < t->n_added; i++) t->added_of_id[t->added[i].id] = i;
    return 0;
}

int tk_parse(const char *json, size_t len, tk_tokenizer **out, char *err, size_t elen)
{
    perr e = {err, elen};
    *out = NULL;
    err[0] = 0;
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) return fail(&e, "parse", "not valid JSON", NULL);
    tk_tokenizer *t = calloc(1, sizeof *t);
    int rc = -1;
    if (!t) {
        oom(&e);
        goto done;
    }
    t->bos_id = -1;
    if (!cJSON_IsObject(root)) {
        fail(&e, "parse", "not a JSON object", NULL);
        goto done;
    }
    static const char *const keys[] = {"normalizer", "pre_tokenizer", "post_processor", "decoder"};
    for (int i = 0; i < 4; i++) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(root, keys[i]);
        if (!c || cJSON_IsNull(c)) continue;
        int bad;
        switch (i) {
        case 0: bad = !(t->norm = calloc(1, sizeof *t->norm)) || parse_norm(&e, c, keys[i], 0, t->norm); break;
        case 1: bad = !(t->pre = calloc(1, sizeof *t->pre)) || parse_pre(&e, c, keys[i], 0, t->pre); break;
        case 2: bad = !(t->post = calloc(1, sizeof *t->post)) || parse_post(&e, c, keys[i], 0, t->post); break;
        default: bad = !(t->dec = calloc(1, sizeof *t->dec)) || parse_dec(&e, c, keys[i], 0, t->dec); break;
        }
        if (bad) {
            if (!err[0]) oom(&e);
            goto done;
        }
    }
    if (parse_model(&e, cJSON_GetObjectItemCaseSensitive(root, "model"), t) ||
        parse_added(&e, cJSON_GetObjectItemCaseSensitive(root, "added_tokens"), t) || finish(&e, t))
        goto done;
    *out = t;
    t = NULL;
    rc = 0;
done:
    tk_free(t);
    cJSON_Delete(root);
    return rc;
}
