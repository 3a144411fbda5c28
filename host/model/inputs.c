/*
 * inputs.c - host-side helpers for programs that feed models (the swacl
 * CLI among them): seeded random inputs, token-id text, float32 .npy files,
 * a forward pass's input from those or at random, sampling the next token
 * from logits, a config's layer pattern (swacl.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "common/file.h"
#include "model/hf.h"

void swacl_free(void *p) { free(p); }

void swacl_random_ids(uint64_t *state, int vocab, int32_t *ids, size_t n)
{
    swacl_rng r = {*state};
    for (size_t i = 0; i < n; i++)
        ids[i] = vocab > 0 ? (int32_t)(swacl_rng_next(&r) % (uint64_t)vocab) : 0;
    *state = r.s;
}

void swacl_random_uniform(uint64_t *state, float *x, size_t n)
{
    swacl_rng r = {*state};
    for (size_t i = 0; i < n; i++) x[i] = swacl_rng_uniform(&r);
    *state = r.s;
}

/* ------------------------------------------------------------------------ */
/* Token ids as text                                                         */

static int is_sep(char c) { return c == ' ' || c == '\t' || c == '\r' || c == ','; }

swacl_status swacl_ids_parse(swacl_ctx *ctx, const char *text, const char *name, int vocab,
                             int32_t **ids, int *batch, int *seq)
{
    if (!text || !ids || !batch || !seq)
        return swacl_set_error(ctx, SWACL_INVALID_ARG, "swacl_ids_parse: NULL argument");
    *ids = NULL;
    if (!name) name = "ids";
    if (vocab < 1)
        return swacl_set_error(ctx, SWACL_INVALID_ARG,
                               "%s: this model takes continuous inputs, not token ids", name);
    /* every id takes at least two characters (digit + separator) but the last */
    int32_t *v = malloc((strlen(text) / 2 + 1) * sizeof *v);
    if (!v) return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "%s: out of host memory", name);
    int rows = 0, cols = -1, n = 0, line = 0;
    for (const char *p = text; *p;) {
        const char *eol = strchr(p, '\n');
        if (!eol) eol = p + strlen(p);
        line++;
        int c = 0;
        for (const char *q = p;;) {
            while (q < eol && is_sep(*q)) q++;
            if (q >= eol) break;
            const char *t = q;
            while (q < eol && !is_sep(*q)) q++;
            char *end = NULL;
            errno = 0;
            long x = strtol(t, &end, 10);
            if (end != q || errno || x < 0 || x >= vocab) {
                free(v);
                return swacl_set_error(ctx, SWACL_FORMAT,
                                       "%s:%d: token %d '%.*s' is not an id in [0, %d)", name,
                                       line, c + 1, (int)(q - t > 40 ? 40 : q - t), t, vocab);
            }
            v[n++] = (int32_t)x;
            c++;
        }
        if (c > 0) {
            if (cols >= 0 && c != cols) {
                free(v);
                return swacl_set_error(ctx, SWACL_FORMAT,
                                       "%s:%d: %d ids, but earlier lines have %d (all sequences "
                                       "of a batch must have the same length)",
                                       name, line, c, cols);
            }
            cols = c;
            rows++;
        }
        p = *eol ? eol + 1 : eol;
    }
    if (rows == 0) {
        free(v);
        return swacl_set_error(ctx, SWACL_FORMAT, "%s: no token ids", name);
    }
    *ids = v;
    *batch = rows;
    *seq = cols;
    return SWACL_OK;
}

swacl_status swacl_ids_read(swacl_ctx *ctx, const char *path, int vocab, int32_t **ids,
                            int *batch, int *seq)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (ids) *ids = NULL;
    if (!path) return swacl_set_error(ctx, SWACL_INVALID_ARG, "swacl_ids_read: NULL path");
    SWACL_TRY(swacl_file_read(ctx, path, SWACL_FILE_MAX_IDS, &buf, &len));
    /* the parser reads a C string: a NUL would silently end the file early */
    const uint8_t *nul = memchr(buf, 0, len);
    if (nul) {
        size_t at = (size_t)(nul - buf);
        free(buf);
        return swacl_set_error(ctx, SWACL_FORMAT,
                               "%s: NUL byte at offset %zu (token ids must be text)", path, at);
    }
    swacl_status st = swacl_ids_parse(ctx, (const char *)buf, path, vocab, ids, batch, seq);
    free(buf);
    return st;
}

/* ------------------------------------------------------------------------ */
/* .npy                                                                      */

swacl_status swacl_npy_load(swacl_ctx *ctx, const char *path, float **data, int *ndim,
                            int64_t shape[4])
{
    char err[1024];
    swacl_status st = swacl_npy_read_f32(path, data, ndim, shape, err, sizeof err);
    return st == SWACL_OK ? st : swacl_set_error(ctx, st, "%s", err);
}

swacl_status swacl_npy_save(swacl_ctx *ctx, const char *path, const float *data, int ndim,
                            const int64_t *shape)
{
    char err[1024];
    swacl_status st = swacl_npy_write_f32(path, data, ndim, shape, err, sizeof err);
    return st == SWACL_OK ? st : swacl_set_error(ctx, st, "%s", err);
}

/* ------------------------------------------------------------------------ */
/* A forward pass's input, from a file or seeded random                      */

swacl_status swacl_input_check(swacl_ctx *ctx, const swacl_config *cfg, int64_t batch,
                               int64_t seq, int all_positions)
{
    SWACL_FAIL_IF(ctx, !cfg, SWACL_INVALID_ARG, "swacl_input_check: cfg is required");
    SWACL_FAIL_IF(ctx, batch < 1 || seq < 1, SWACL_INVALID_ARG,
                  "batch %lld x seq %lld: both must be >= 1", (long long)batch, (long long)seq);
    /* each factor first, so the products below cannot overflow int64 */
    if (batch > SWACL_MAX_TOKENS || seq > SWACL_MAX_TOKENS || batch * seq > SWACL_MAX_TOKENS)
        /* the product is computed only when both factors are in range; the
         * message's is a double, exact up to 2^53 and never overflowing */
        return swacl_set_error(ctx, SWACL_INVALID_ARG,
                               "batch %lld x seq %lld = %.0f tokens: the limit is %d tokens",
                               (long long)batch, (long long)seq, (double)batch * (double)seq,
                               SWACL_MAX_TOKENS);
    const uint64_t tokens = (uint64_t)(batch * seq);
    const uint64_t in_w = cfg->vocab_size > 0 ? 1 : (uint64_t)(cfg->input_dim > 0 ? cfg->input_dim : 0);
    const uint64_t rows = all_positions ? tokens : (uint64_t)batch;
    const uint64_t out_w = (uint64_t)(swacl_output_size(cfg) > 0 ? swacl_output_size(cfg) : 0);
    if (tokens * in_w > SWACL_MAX_ELEMS)
        return swacl_set_error(ctx, SWACL_INVALID_ARG,
                               "inputs of %llu tokens x %llu = %llu elements: the limit is %llu",
                               (unsigned long long)tokens, (unsigned long long)in_w,
                               (unsigned long long)(tokens * in_w), SWACL_MAX_ELEMS);
    if (rows * out_w > SWACL_MAX_ELEMS)
        return swacl_set_error(ctx, SWACL_INVALID_ARG,
                               "output of %llu rows x %llu = %llu elements: the limit is %llu",
                               (unsigned long long)rows, (unsigned long long)out_w,
                               (unsigned long long)(rows * out_w), SWACL_MAX_ELEMS);
    return SWACL_OK;
}

swacl_status swacl_input_load(swacl_ctx *ctx, const swacl_config *cfg, const char *ids_path,
                              const char *npy_path, int batch, int seq, uint64_t state,
                              swacl_input *in)
{
    SWACL_FAIL_IF(ctx, !in || !cfg, SWACL_INVALID_ARG, "swacl_input_load: cfg and in are required");
    memset(in, 0, sizeof *in);
    SWACL_FAIL_IF(ctx, ids_path && npy_path, SWACL_INVALID_ARG,
                  "give token ids or a .npy file of inputs, not both");
    const int tokens = cfg->vocab_size > 0;
    SWACL_FAIL_IF(ctx, ids_path && !tokens, SWACL_INVALID_ARG,
                  "this model takes continuous inputs (a .npy file), not token ids");
    SWACL_FAIL_IF(ctx, npy_path && tokens, SWACL_INVALID_ARG,
                  "this model takes token ids, not a .npy file of inputs");
    int32_t *ids = NULL;
    float *x = NULL;
    if (ids_path) {
        SWACL_TRY(swacl_ids_read(ctx, ids_path, cfg->vocab_size, &ids, &in->batch, &in->seq));
        in->ids = ids;
        swacl_status st = swacl_input_check(ctx, cfg, in->batch, in->seq, 0);
        if (st != SWACL_OK) swacl_input_free(in), in->batch = in->seq = 0;
        return st;
    }
    if (npy_path) {
        int nd = 0;
        int64_t sh[4];
        SWACL_TRY(swacl_npy_load(ctx, npy_path, &x, &nd, sh));
        if (nd != 3 || sh[0] < 1 || sh[1] < 1 || sh[2] != cfg->input_dim ||
            sh[0] * sh[1] > INT_MAX) {
            free(x);
            return swacl_set_error(ctx, SWACL_FORMAT, "%s: shape must be [B, T, %d] with B, T >= 1",
                                   npy_path, cfg->input_dim);
        }
        in->batch = (int)sh[0];
        in->seq = (int)sh[1];
        in->embeds = x;
        swacl_status st = swacl_input_check(ctx, cfg, in->batch, in->seq, 0);
        if (st != SWACL_OK) swacl_input_free(in), in->batch = in->seq = 0;
        return st;
    }
    /* bounded before anything is allocated */
    SWACL_TRY(swacl_input_check(ctx, cfg, batch, seq, 0));
    size_t n = (size_t)batch * (size_t)seq;
    if (tokens ? !(ids = malloc(n * sizeof *ids))
               : !(x = malloc(n * (size_t)cfg->input_dim * sizeof *x)))
        return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "inputs of %d x %d: out of memory", batch,
                               seq);
    if (tokens)
        swacl_random_ids(&state, cfg->vocab_size, ids, n);
    else
        swacl_random_uniform(&state, x, n * (size_t)cfg->input_dim);
    *in = (swacl_input){batch, seq, ids, x};
    return SWACL_OK;
}

void swacl_input_free(swacl_input *in)
{
    if (!in) return;
    free((void *)in->ids);
    free((void *)in->embeds);
    in->ids = NULL;
    in->embeds = NULL;
}

/* ------------------------------------------------------------------------ */
/* Sampling: temperature, then top-k, then top-p (nucleus), seeded.          */

typedef struct {
    float p;
    int id;
} cand;

struct swacl_sampler {
    swacl_sample_params p;
    int vocab;
    swacl_rng rng;
    cand *buf; /* [vocab] scratch */
    cand *tmp; /* [vocab] radix sort's other half */
};

swacl_status swacl_sampler_create(swacl_ctx *ctx, const swacl_sample_params *p, int vocab,
                                  uint64_t state, swacl_sampler **out)
{
    if (!out) return swacl_set_error(ctx, SWACL_INVALID_ARG, "swacl_sampler_create: out is NULL");
    *out = NULL;
    SWACL_FAIL_IF(ctx, !p || vocab < 1, SWACL_INVALID_ARG,
                  "swacl_sampler_create: need parameters and vocab >= 1 (got %d)", vocab);
    SWACL_FAIL_IF(ctx, !(p->temperature >= 0) || p->top_k < 0 || !(p->top_p > 0 && p->top_p <= 1),
                  SWACL_INVALID_ARG,
                  "sampling: temperature must be >= 0, top_k >= 0, top_p in (0, 1]");
    swacl_sampler *s = calloc(1, sizeof *s);
    if (s) {
        s->buf = malloc((size_t)vocab * sizeof *s->buf);
        s->tmp = malloc((size_t)vocab * sizeof *s->tmp);
    }
    if (!s || !s->buf || !s->tmp) {
        if (s) free(s->buf);
        free(s);
        return swacl_set_error(ctx, SWACL_OUT_OF_MEMORY, "sampler: out of host memory");
    }
    s->p = *p;
    s->vocab = vocab;
    s->rng.s = state;
    *out = s;
    return SWACL_OK;
}

void swacl_sampler_destroy(swacl_sampler *s)
{
    if (!s) return;
    free(s->buf);
    free(s->tmp);
    free(s);
}

/* The candidate order is p descending, ties by id ascending. p >= 0 (an
 * expf), so its bits order like the value: key ~bits ascends as p
 * descends. */
static uint32_t cand_key(const cand *c)
{
    uint32_t u;
    memcpy(&u, &c->p, sizeof u);
    return ~u;
}

/* a before b in the candidate order */
static int cand_before(const cand *a, const cand *b)
{
    return a->p > b->p || (a->p == b->p && a->id < b->id);
}

/* The whole vocabulary in candidate order: LSD radix sort on the key, 11
 * bits a pass; stable, and buf comes in id order, so ties stay by id.
 * O(V), where qsort was ~13% of a decode step at V = 32000. A pass whose
 * digit is the same for every candidate (p <= 1: the top bits) is skipped. */
static void cand_sort_all(cand *buf, cand *tmp, int V)
{
    cand *src = buf, *dst = tmp;
    for (int shift = 0; shift < 32; shift += 11) {
        size_t cnt[2048] = {0};
        for (int i = 0; i < V; i++) cnt[(cand_key(&src[i]) >> shift) & 2047]++;
        if (cnt[(cand_key(&src[0]) >> shift) & 2047] == (size_t)V) continue;
        size_t pos = 0;
        for (int d = 0; d < 2048; d++) {
            const size_t c = cnt[d];
            cnt[d] = pos;
            pos += c;
        }
        for (int i = 0; i < V; i++) dst[cnt[(cand_key(&src[i]) >> shift) & 2047]++] = src[i];
        cand *t = src;
        src = dst;
        dst = t;
    }
    if (src != buf) memcpy(buf, src, (size_t)V * sizeof *buf);
}

/* heap with its last candidate in the order on top (a min-heap of the kept) */
static void heap_down(cand *h, int n, int i)
{
    for (;;) {
        int c = 2 * i + 1;
        if (c >= n) return;
        if (c + 1 < n && cand_before(&h[c], &h[c + 1])) c++;
        if (!cand_before(&h[i], &h[c])) return;
        const cand t = h[i];
        h[i] = h[c];
        h[c] = t;
        i = c;
    }
}

/* the first k < V candidates of the order into buf[0..k), in order: a
 * k-heap over the vocabulary, then heap sort; O(V log k) */
static void cand_top_k(cand *buf, int V, int k)
{
    for (int i = k / 2 - 1; i >= 0; i--) heap_down(buf, k, i);
    for (int i = k; i < V; i++)
        if (cand_before(&buf[i], &buf[0])) {
            buf[0] = buf[i];
            heap_down(buf, k, 0);
        }
    for (int n = k - 1; n > 0; n--) {
        const cand t = buf[0];
        buf[0] = buf[n];
        buf[n] = t;
        heap_down(buf, n, 0);
    }
}

int32_t swacl_sampler_next(swacl_sampler *s, const float *logits)
{
    const int V = s->vocab;
    if (s->p.temperature <= 0) { /* greedy */
        int best = 0;
        for (int i = 1; i < V; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
    }
    cand *buf = s->buf;
    float mx = logits[0];
    for (int i = 1; i < V; i++) mx = logits[i] > mx ? logits[i] : mx;
    double sum = 0;
    for (int i = 0; i < V; i++) {
        buf[i].id = i;
        buf[i].p = expf((float)((logits[i] - mx) / s->p.temperature));
        sum += buf[i].p;
    }
    /* only the first n of the order are ever read: select those */
    int n = s->p.top_k > 0 && s->p.top_k < V ? s->p.top_k : V;
    if (n <= V / 16) cand_top_k(buf, V, n);
    else cand_sort_all(buf, s->tmp, V); /* its first n are the same */
    double keep = 0;
    int m = 0;
    for (; m < n; m++) { /* smallest prefix with mass >= top_p */
        keep += buf[m].p / sum;
        if (keep >= s->p.top_p) {
            m++;
            break;
        }
    }
    if (m > n) m = n;
    double tot = 0;
    for (int i = 0; i < m; i++) tot += buf[i].p;
    double r = (0.5 + 0.5 * (double)swacl_rng_uniform(&s->rng)) * tot, acc = 0;
    for (int i = 0; i < m; i++) {
        acc += buf[i].p;
        if (r < acc) return buf[i].id;
    }
    return buf[m - 1].id;
}

/* The layer pattern, e.g. "W512+rope W512+rope W512+rope G+temp" (span
 * letter Global/Window/Chunk and size per layer). Truncated with "...". */
void swacl_config_pattern(const swacl_config *c, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = 0;
    for (int i = 0; i < c->n_layers; i++) {
        const swacl_layer_spec *l = &c->layers[i];
        char one[32];
        int n = snprintf(one, sizeof one, "%s%c", i ? " " : "",
                         l->span == SWACL_SPAN_WINDOW  ? 'W'
                         : l->span == SWACL_SPAN_CHUNK ? 'C'
                                                       : 'G');
        if (l->span != SWACL_SPAN_GLOBAL)
            n += snprintf(one + n, sizeof one - (size_t)n, "%d", l->span_size);
        if (l->pos != SWACL_POS_NONE) n += snprintf(one + n, sizeof one - (size_t)n, "+rope");
        if (l->temp != SWACL_TEMP_NONE) snprintf(one + n, sizeof one - (size_t)n, "+temp");
        if (off + strlen(one) + 4 >= len) {
            snprintf(buf + off, len - off, " ...");
            return;
        }
        off += (size_t)snprintf(buf + off, len - off, "%s", one);
    }
}

