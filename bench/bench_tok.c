/*
 * bench_tok.c - tokenizer encoding speed on English text, one thread
 * (issue 13: >= 5 MB/s). The text is generated here (seeded sentences of
 * common English words with punctuation, digits and newlines, ~4 MB), so
 * every run measures the same bytes: ~200 common words drawn uniformly (real
 * text repeats its commonest words more; the encoder has no word cache, so
 * that would not flatter it). Each tokenizer of tests/fixtures/tok
 * (or the directories given) encodes it in 4 KiB paragraphs, the way a
 * prompt file arrives; the best of --reps passes counts.
 *
 *   build/bench/bench_tok [--mb N] [--reps R] [--json] [DIR...]
 *   build/bench/bench_tok --check TOKENIZER HEXLINES   (tools/tok_crosscheck.py)
 *
 * Reports MB/s per tokenizer by wall time and by this thread's CPU time
 * (what one core does when the machine is shared: the wall figure drops
 * with the load, the CPU one does not), and the CPU figure's ratio to the
 * 5 MB/s target. A vocabulary of ~700 tokens merges more per word than
 * a real 128k one, so real checkpoints encode at least as fast.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "swacl.h"

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char *const k_words[] = {
    "the", "of", "and", "to", "in", "is", "was", "that", "for", "it", "with", "as", "his", "on",
    "be", "at", "by", "had", "are", "but", "from", "or", "have", "an", "they", "which", "one",
    "you", "were", "all", "we", "her", "she", "there", "would", "their", "will", "when", "who",
    "him", "been", "has", "more", "if", "no", "out", "do", "so", "can", "what", "up", "said",
    "about", "other", "into", "than", "its", "time", "only", "could", "new", "them", "man",
    "some", "these", "then", "two", "first", "may", "any", "like", "now", "my", "such", "make",
    "over", "our", "even", "most", "me", "state", "after", "also", "made", "many", "did",
    "must", "before", "back", "see", "through", "way", "where", "get", "much", "go", "well",
    "your", "know", "should", "down", "work", "year", "because", "come", "people", "just",
    "say", "each", "those", "take", "day", "good", "how", "long", "very", "little", "world",
    "own", "great", "under", "last", "government", "development", "information",
    "understanding", "between", "important", "however", "something", "different", "children",
    "American", "London", "December", "running", "tokenization", "model", "it's", "don't",
    "they've", "country", "system", "program", "question", "during", "without", "around",
    "following", "experience", "community", "national", "business", "problem", "morning",
    "evening", "beautiful", "discovered", "remember", "probably", "certainly", "yesterday",
    "tomorrow", "university", "language", "history", "science", "mountain", "river", "village",
    "window", "kitchen", "garden", "library", "hospital",
};

static char *make_text(size_t bytes, size_t *len)
{
    char *t = malloc(bytes + 64);
    if (!t) return NULL;
    uint64_t s = 88172645463325252ull;
    size_t n = 0;
    int in_sentence = 0;
    while (n < bytes) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        const char *w = k_words[s % (sizeof k_words / sizeof k_words[0])];
        if (!in_sentence) {
            t[n++] = (char)(w[0] >= 'a' && w[0] <= 'z' ? w[0] - 32 : w[0]);
            w++;
        } else {
            t[n++] = ' ';
        }
        size_t k = strlen(w);
        memcpy(t + n, w, k), n += k;
        in_sentence++;
        if ((s >> 20) % 23 == 0) n += (size_t)sprintf(t + n, " %u", (unsigned)(s >> 40) % 2000);
        if ((s >> 8) % 11 == 0) t[n++] = ',';
        if (in_sentence > 6 && (s >> 12) % 5 == 0) {
            t[n++] = (s >> 16) % 9 ? '.' : '?';
            t[n++] = (s >> 24) % 6 ? ' ' : '\n';
            in_sentence = 0;
        }
    }
    *len = n;
    return t;
}

/* --check FILE HEXLINES (tools/tok_crosscheck.py): each line hex-encoded
 * text -> "ids<TAB>hex of the decode" (with special tokens), for comparing
 * with the tokenizers package on many strings. */
static int check_mode(swacl_ctx *ctx, const char *path, const char *lines)
{
    swacl_tokenizer *tok = NULL;
    FILE *f = fopen(lines, "r");
    if (!f || swacl_tokenizer_load(ctx, path, &tok) != SWACL_OK) {
        fprintf(stderr, "bench_tok: %s\n", f ? swacl_ctx_errmsg(ctx) : lines);
        if (f) fclose(f);
        return 1;
    }
    static char line[1 << 20], text[1 << 19];
    while (fgets(line, sizeof line, f)) {
        size_t n = 0;
        for (const char *p = line; p[0] && p[1] && p[0] != '\n'; p += 2) {
            unsigned x;
            if (sscanf(p, "%2x", &x) != 1 || n >= sizeof text) break;
            text[n++] = (char)x;
        }
        int32_t *ids = NULL;
        int k = 0;
        char *dec = NULL;
        size_t dl = 0;
        if (swacl_tokenizer_encode(ctx, tok, text, n, 1, &ids, &k) != SWACL_OK ||
            swacl_tokenizer_decode(ctx, tok, ids, k, 0, &dec, &dl) != SWACL_OK) {
            printf("ERR %s\n", swacl_ctx_errmsg(ctx));
        } else {
            for (int i = 0; i < k; i++) printf("%s%d", i ? " " : "", (int)ids[i]);
            putchar('\t');
            for (size_t i = 0; i < dl; i++) printf("%02x", (unsigned char)dec[i]);
            putchar('\n');
        }
        swacl_free(ids), swacl_free(dec);
    }
    fclose(f);
    swacl_tokenizer_destroy(tok);
    return 0;
}

int main(int argc, char **argv)
{
    double mb = 4;
    int reps = 3, json = 0;
    const char *dirs[32];
    int n_dirs = 0;
    if (argc == 4 && !strcmp(argv[1], "--check")) {
        swacl_ctx_params p = swacl_ctx_params_default();
        p.device = "ref";
        swacl_ctx *ctx = NULL;
        if (swacl_ctx_create(&p, &ctx) != SWACL_OK) return 1;
        int rc = check_mode(ctx, argv[2], argv[3]);
        swacl_ctx_destroy(ctx);
        return rc;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--mb") && i + 1 < argc) mb = atof(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json")) json = 1;
        else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: bench_tok [--mb N] [--reps R] [--json] [DIR...]\n");
            return 2;
        } else if (n_dirs < 32) dirs[n_dirs++] = argv[i];
    }
    static const char *const k_default[] = {"llama3", "qwen2", "cohere", "gpt2", "mistral", "gemma", "llama2"};
    static char paths[7][512];
    if (!n_dirs)
        for (int i = 0; i < 7; i++) {
            snprintf(paths[i], sizeof paths[i], "%s/tests/fixtures/tok/%s", SWACL_SOURCE_DIR, k_default[i]);
            dirs[n_dirs++] = paths[i];
        }
    if (mb <= 0 || mb > 512 || reps < 1) return 2;
    size_t len;
    char *text = make_text((size_t)(mb * 1e6), &len);
    swacl_ctx_params p = swacl_ctx_params_default();
    p.device = "ref";
    swacl_ctx *ctx = NULL;
    if (!text || swacl_ctx_create(&p, &ctx) != SWACL_OK) return 1;
    if (json) printf("{\"text_bytes\":%zu,\"target_mb_s\":5,\"tokenizers\":[", len);
    else printf("%-10s %10s %10s %10s %12s %10s\n", "tokenizer", "MB/s", "cpu MB/s", "x target", "tokens",
                "bytes/tok");
    int rc = 0;
    for (int d = 0; d < n_dirs; d++) {
        swacl_tokenizer *tok = NULL;
        if (swacl_tokenizer_load(ctx, dirs[d], &tok) != SWACL_OK) {
            fprintf(stderr, "bench_tok: %s\n", swacl_ctx_errmsg(ctx));
            rc = 1;
            continue;
        }
        double best = 1e30, best_cpu = 1e30;
        long tokens = 0;
        for (int r = 0; r < reps; r++) {
            tokens = 0;
            double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
            for (size_t at = 0; at < len;) {
                size_t n = len - at < 4096 ? len - at : 4096;
                while (at + n < len && n > 1 && text[at + n] != ' ') n--; /* whole words */
                int32_t *ids = NULL;
                int k = 0;
                if (swacl_tokenizer_encode(ctx, tok, text + at, n, 0, &ids, &k) != SWACL_OK) {
                    fprintf(stderr, "bench_tok: %s\n", swacl_ctx_errmsg(ctx));
                    return 1;
                }
                tokens += k;
                swacl_free(ids);
                at += n;
            }
            double dt = clock_s(CLOCK_MONOTONIC) - t0, dc = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
            if (dt < best) best = dt;
            if (dc < best_cpu) best_cpu = dc;
        }
        const char *name = strrchr(dirs[d], '/') ? strrchr(dirs[d], '/') + 1 : dirs[d];
        double mbs = (double)len / best / 1e6, cpu = (double)len / best_cpu / 1e6;
        if (json)
            printf("%s{\"name\":\"%s\",\"mb_per_s\":%.3f,\"cpu_mb_per_s\":%.3f,\"ratio_to_target\":%.3f,"
                   "\"tokens\":%ld}", d ? "," : "", name, mbs, cpu, cpu / 5, tokens);
        else
            printf("%-10s %10.2f %10.2f %10.2f %12ld %10.2f\n", name, mbs, cpu, cpu / 5, tokens,
                   (double)len / (double)tokens);
        swacl_tokenizer_destroy(tok);
    }
    if (json) printf("]}\n");
    free(text);
    swacl_ctx_destroy(ctx);
    return rc;
}
