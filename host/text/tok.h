/*
 * tok.h - the tokenizer's internals (host/text/): a Hugging Face
 * tokenizer.json held as plain structs, and the pieces the encoder and the
 * decoder share. The public face is the "Tokenizer" section of swacl.h.
 *
 * The pipeline follows huggingface/tokenizers: added tokens are split off
 * the raw text (non-normalized ones) and off the normalized text (the
 * others), the normalizer runs per remaining piece, the pre-tokenizer cuts
 * pieces into words, the BPE model turns each word into ids, and the
 * post-processor adds BOS/EOS. Offsets are never tracked: only whether a
 * piece starts at offset 0 of the input (Metaspace "first" needs that).
 * Parsing reports into a caller buffer (the fuzz target has no context).
 */
#ifndef SWACL_TEXT_TOK_H
#define SWACL_TEXT_TOK_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* ---- small utilities (tok_util.c) ---------------------------------------- */

typedef struct {
    char *p;
    size_t n, cap;
} tk_buf;

int tk_buf_reserve(tk_buf *b, size_t extra); /* 0, or -1 out of memory */
int tk_buf_put(tk_buf *b, const void *s, size_t n);
int tk_buf_putc(tk_buf *b, char c);
void tk_buf_free(tk_buf *b);

/* A list of strings in one buffer (words, pieces, decoder tokens). flag:
 * TK_ORIGIN0 when the piece starts at offset 0 of the input. */
#define TK_ORIGIN0 1u
typedef struct {
    tk_buf bytes;
    uint32_t *off, *len;
    uint8_t *flag;
    int n, cap;
} tk_list;

int tk_list_add(tk_list *l, const char *s, size_t n, unsigned flag);
void tk_list_clear(tk_list *l);
void tk_list_free(tk_list *l);
#define TK_STR(l, i) ((l)->bytes.p + (l)->off[i])

/* String -> id (open addressing over ids; the strings live in a pool,
 * seen through its owner's pointer: the pool may still grow and move). */
typedef struct {
    int32_t *slot; /* -1 empty */
    uint32_t mask;
    char *const *pool;
    const uint32_t *off, *len;
} tk_strmap;

uint64_t tk_hash(const void *s, size_t n);
int tk_strmap_build(tk_strmap *m, char *const *pool, const uint32_t *off, const uint32_t *len,
                    int n); /* ids with len[id] == UINT32_MAX are absent */
int32_t tk_strmap_get(const tk_strmap *m, const char *s, size_t n);
void tk_strmap_free(tk_strmap *m);

/* Pair (a, b) -> (rank, new id). */
typedef struct {
    uint64_t *key; /* UINT64_MAX empty */
    uint32_t *rank;
    int32_t *id;
    uint32_t mask;
} tk_pairmap;

int tk_pairmap_init(tk_pairmap *m, size_t n);
void tk_pairmap_put(tk_pairmap *m, int32_t a, int32_t b, uint32_t rank, int32_t id); /* first wins */
int tk_pairmap_get(const tk_pairmap *m, int32_t a, int32_t b, uint32_t *rank, int32_t *id);
void tk_pairmap_free(tk_pairmap *m);

/* UTF-8: the length of the valid character at s (1..4), 0 when invalid. */
int tk_utf8_len(const unsigned char *s, size_t n);
int32_t tk_utf8_cp(const unsigned char *s, int len);
int tk_utf8_put(tk_buf *b, int32_t cp);
/* Append s as Rust's String::from_utf8_lossy: each maximal invalid
 * subsequence becomes one U+FFFD. */
int tk_utf8_lossy(tk_buf *out, const unsigned char *s, size_t n);
size_t tk_utf8_valid_prefix(const unsigned char *s, size_t n); /* bytes of the valid prefix */
int tk_is_whitespace(int32_t cp); /* Rust char::is_whitespace */
int tk_is_numeric(int32_t cp);    /* char::is_numeric: N* */
int tk_is_word(int32_t cp);       /* Rust regex \w (Unicode word) */
int tk_is_mark(int32_t cp);       /* combining mark (M*) */

/* GPT-2 byte <-> char map (byte_level.rs bytes_char). */
int tk_byte_cp(int b);
int tk_cp_byte(int32_t cp); /* the byte, or -1 when cp is not in the map */

/* ---- components -------------------------------------------------------- */

typedef struct {
    pcre2_code *code;
} tk_re;

enum { TK_ISOLATED, TK_REMOVED, TK_MERGED_PREV, TK_MERGED_NEXT, TK_CONTIGUOUS };

typedef enum {
    TKN_NFC, TKN_NFD, TKN_NFKC, TKN_NFKD, TKN_LOWER, TKN_REPLACE, TKN_PREPEND, TKN_STRIP,
    TKN_STRIP_ACCENTS, TKN_SEQ
} tk_norm_kind;

typedef struct tk_norm {
    tk_norm_kind kind;
    char *a, *b; /* Replace: literal pattern (a, NULL re) and content b; Prepend: a */
    size_t a_len, b_len;
    tk_re re;    /* Replace with a Regex pattern */
    int left, right;
    struct tk_norm *items;
    int n_items;
} tk_norm;

typedef enum {
    TKP_BYTELEVEL, TKP_SPLIT, TKP_METASPACE, TKP_DIGITS, TKP_WHITESPACE, TKP_WSSPLIT, TKP_SEQ
} tk_pre_kind;

enum { TK_PREPEND_ALWAYS, TK_PREPEND_FIRST, TK_PREPEND_NEVER };

typedef struct tk_pre {
    tk_pre_kind kind;
    int add_prefix_space, use_regex; /* ByteLevel */
    tk_re re;                        /* Split, ByteLevel (GPT-2), Whitespace */
    int behavior, invert;            /* Split */
    char repl[8];                    /* Metaspace: the replacement's UTF-8 */
    int repl_len, prepend, split;    /* Metaspace */
    int individual;                  /* Digits */
    struct tk_pre *items;
    int n_items;
} tk_pre;

typedef enum {
    TKD_BYTELEVEL, TKD_METASPACE, TKD_BYTEFALLBACK, TKD_FUSE, TKD_STRIP, TKD_REPLACE, TKD_SEQ
} tk_dec_kind;

typedef struct tk_dec {
    tk_dec_kind kind;
    int32_t cp;       /* Metaspace replacement / Strip content */
    int prepend;      /* Metaspace */
    int start, stop;  /* Strip */
    char *a, *b;      /* Replace: literal pattern a (or re) -> b */
    size_t a_len, b_len;
    tk_re re;
    struct tk_dec *items;
    int n_items;
} tk_dec;

typedef enum { TKPP_TEMPLATE, TKPP_BYTELEVEL, TKPP_SEQ } tk_post_kind;

typedef struct tk_post {
    tk_post_kind kind;
    int32_t *pre, *post; /* Template: ids before / after $A */
    int n_pre, n_post;
    struct tk_post *items;
    int n_items;
} tk_post;

typedef struct {
    int32_t id;
    uint32_t off, len;          /* content in the tokenizer's pool */
    uint32_t noff, nlen;        /* normalized content (normalized tokens) */
    uint8_t special, normalized, lstrip, rstrip, single_word, first;
} tk_added;

struct swacl_tokenizer {
    /* model (BPE) */
    tk_buf pool;             /* every token string, NUL-terminated each   */
    uint32_t *off, *len;     /* by model id; len UINT32_MAX: no such id    */
    int n_ids;               /* model ids are < n_ids                      */
    tk_strmap vocab;
    tk_pairmap merges;
    int32_t unk_id, byte_id[256];
    int has_unk, fuse_unk, byte_fallback, ignore_merges;
    char *prefix, *suffix; /* continuing_subword_prefix, end_of_word_suffix */
    size_t prefix_len, suffix_len;
    /* pipeline; NULL: absent */
    tk_norm *norm;
    tk_pre *pre;
    tk_post *post;
    tk_dec *dec;
    /* added tokens: by (first byte, length desc) for matching */
    tk_added *added;
    int n_added;
    int range[2][257];    /* [normalized][first byte]: start of its run */
    int32_t *added_of_id; /* id -> index in added, -1; size n_total */
    int n_total;          /* max id + 1 over model and added tokens   */
    /* from tokenizer_config.json / generation_config.json */
    int32_t bos_id, *eos;
    int n_eos;
};
typedef struct swacl_tokenizer tk_tokenizer;

/* tok_load.c */
int tk_re_compile(tk_re *re, const char *pat, size_t n, int literal, char *err, size_t elen);
void tk_re_free(tk_re *re);
int tk_parse(const char *json, size_t len, tk_tokenizer **out, char *err, size_t elen);
void tk_free(tk_tokenizer *t);

/* Scratch of one encode call (the tokenizer itself stays read-only). */
typedef struct {
    pcre2_match_data *md;
    pcre2_match_context *mc;
    pcre2_jit_stack *js;
    tk_list a, b;         /* pieces, ping-pong */
    tk_buf tmp, tmp2;     /* normalizer scratch */
    tk_buf sym, heap;     /* BPE scratch */
    int32_t *ids;
    size_t n_ids, cap_ids;
    int failed; /* out of memory or a regex error */
    char *err;
    size_t elen;
} tk_enc;

/* tok_pre.c: normalizers and pre-tokenizers */
int tk_normalize(tk_enc *e, const tk_norm *n, const char *s, size_t len, tk_buf *out);
int tk_pretokenize(tk_enc *e, const tk_pre *p, tk_list *in, tk_list *out); /* in -> out */
/* [start, end, is_match] triples of re over s, covering s. */
int tk_re_ranges(tk_enc *e, const tk_re *re, const char *s, size_t n, tk_buf *ranges);

/* tok_bpe.c */
int tk_bpe_word(tk_enc *e, const tk_tokenizer *t, const char *w, size_t n);
int tk_push_id(tk_enc *e, int32_t id);

/* tok_encode.c */
int tk_encode(tk_enc *e, const tk_tokenizer *t, const char *s, size_t n, int add_special);
void tk_enc_init(tk_enc *e, char *err, size_t elen);
void tk_enc_free(tk_enc *e);

/* tok_decode.c: ids -> text (appended to out); 0, or -1 out of memory. */
int tk_decode(const tk_tokenizer *t, const int32_t *ids, size_t n, int skip_special, tk_buf *out);
const char *tk_id_piece(const tk_tokenizer *t, int32_t id, size_t *len);

#endif /* SWACL_TEXT_TOK_H */
