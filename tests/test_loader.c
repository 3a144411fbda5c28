/*
 * test_loader.c - Hugging Face checkpoint loading (swacl_load_hf /
 * swacl_save_hf, host/model/{safetensors,hf_config,hf_load,npy}.c).
 *
 *   roundtrip:  every preset through save/load: identical config (memcmp),
 *               bit-exact weights.
 *   malformed:  files written here: truncated, bad/overlapping offsets,
 *               wrong dtype size, huge header length, bad JSON, duplicate
 *               names, unknown / unconvertible dtype, missing tensor,
 *               unsupported model_type, MoE Llama 4, rope_scaling. Each must
 *               return the documented status and a message naming the cause.
 *   convert:    F16 and BF16 -> F32 exact on known values.
 *   fixtures:   tests/fixtures/<arch> built by tools/make_fixtures.py with
 *               transformers (fp32, eager). swacl's logits (reference
 *               backend and OpenCL device) must match transformers' at every
 *               position of a B=2 prefill with |a - r| <= ATOL + RTOL |r|,
 *               RTOL = 1e-4, ATOL = 1e-4 * max|r| (logits reach ~55), and
 *               at every position max|a - r| / max|r| <= 1e-4 (issue 10's
 *               measure, per position); the same for a decode (session, one
 *               token at a time) of the last K positions after a prefill of
 *               T - K, against transformers' own past_key_values decode
 *               (decode_logits.npy, [B, K, V]) where the fixture has one,
 *               else against the prefill logits (K = 4); and, where the
 *               fixture has greedy.txt, a greedy session generation from the
 *               same prompts must give transformers' generate() tokens, one
 *               by one.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "expect_err.h"
#include "helpers.h"
#include "common/file.h"
#include "model/hf.h"

#define FIX_RTOL 1e-4
#define FIX_ATOL_REL 1e-4
#define FIX_POS_REL 1e-4 /* max|a - r| / max|r| of each position's logits */

/* ------------------------------------------------------------------------ */
/* temp dirs and file writers                                                */

static void mktmp(char *dir)
{
    strcpy(dir, "/tmp/swacl_loader_XXXXXX");
    cr_assert(mkdtemp(dir) != NULL);
}

static void rmtmp(const char *dir)
{
    const char *files[] = {"config.json", "model.safetensors", "model.safetensors.index.json",
                           "a.safetensors", "b.safetensors"};
    char p[512];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

static void write_bytes(const char *dir, const char *name, const void *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert(f != NULL, "create %s", path);
    cr_assert(fwrite(p, 1, n, f) == n);
    fclose(f);
}

/* A safetensors image: header JSON text + data bytes; hlen_override != 0
 * writes that header length instead of the real one. */
static uint8_t *st_image(const char *hdr, const void *data, size_t data_len, uint64_t hlen_override,
                         size_t *len)
{
    size_t hl = strlen(hdr);
    *len = 8 + hl + data_len;
    uint8_t *b = malloc(*len);
    uint64_t h = hlen_override ? hlen_override : hl;
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(h >> (8 * i));
    memcpy(b + 8, hdr, hl);
    if (data_len) memcpy(b + 8 + hl, data, data_len);
    return b;
}

static swacl_status parse_hdr(const char *hdr, size_t data_len, uint64_t hlen_override, char *err,
                              size_t err_len)
{
    uint8_t *data = calloc(1, data_len + 1);
    size_t len;
    uint8_t *img = st_image(hdr, data, data_len, hlen_override, &len);
    swacl_st_file f;
    swacl_status st = swacl_st_parse(img, len, "x.safetensors", &f, err, err_len);
    if (st == SWACL_OK) swacl_st_free(&f);
    free(img);
    free(data);
    return st;
}

/* swacl_load_hf / swacl_save_hf report on a context; these copy its message
 * into a caller buffer so that the checks below read one string. */
static swacl_status load_hf_msg(const char *dir, swacl_config *c, swacl_weights **w, char *err,
                                size_t err_len)
{
    swacl_ctx *ctx = test_ref_ctx();
    swacl_status st = swacl_load_hf(ctx, dir, c, w);
    snprintf(err, err_len, "%s", swacl_ctx_errmsg(ctx));
    swacl_ctx_destroy(ctx);
    return st;
}

static swacl_status save_hf_msg(const char *dir, const swacl_config *c, const swacl_weights *w,
                                char *err, size_t err_len)
{
    swacl_ctx *ctx = test_ref_ctx();
    swacl_status st = swacl_save_hf(ctx, dir, c, w);
    snprintf(err, err_len, "%s", swacl_ctx_errmsg(ctx));
    swacl_ctx_destroy(ctx);
    return st;
}


/* ------------------------------------------------------------------------ */
/* round trip                                                                */

Test(loader, roundtrip_every_preset)
{
    for (const char *const *p = swacl_preset_names(); *p; p++) {
        swacl_config c, c2;
        cr_assert(swacl_preset(*p, &c) == SWACL_OK);
        swacl_weights *w = NULL, *w2 = NULL;
        cr_assert(swacl_weights_create_random(&c, 7, &w) == SWACL_OK);
        char dir[64], err[1024];
        mktmp(dir);
        swacl_status st = save_hf_msg(dir, &c, w, err, sizeof err);
        cr_assert(st == SWACL_OK, "%s: save: %s", *p, err);
        st = load_hf_msg(dir, &c2, &w2, err, sizeof err);
        cr_assert(st == SWACL_OK, "%s: load: %s", *p, err);
        cr_expect(memcmp(&c, &c2, sizeof c) == 0, "%s: config differs after round trip", *p);
        cr_assert_eq(swacl_weights_count(w), swacl_weights_count(w2), "%s", *p);
        for (int i = 0; i < w->n; i++) {
            const swacl_tensor *a = &w->t[i];
            const swacl_tensor *b = swacl_weights_find(w2, a->name);
            cr_assert(b != NULL, "%s: %s missing", *p, a->name);
            cr_expect(a->ndim == b->ndim && a->numel == b->numel, "%s: %s shape", *p, a->name);
            cr_expect(memcmp(a->data, b->data, (size_t)a->numel * 4) == 0, "%s: %s data", *p,
                      a->name);
        }
        swacl_weights_destroy(w);
        swacl_weights_destroy(w2);
        rmtmp(dir);
    }
}

Test(loader, roundtrip_with_overrides)
{
    /* continuous input with a projection, and a chunked preset resized */
    const char *names[] = {"rnope-swa", "irope-llama4"};
    for (int k = 0; k < 2; k++) {
        swacl_preset_params pp;
        memset(&pp, 0, sizeof pp);
        pp.hidden_size = 64;
        pp.n_heads = 2;
        pp.n_layers = 5;
        pp.input_dim = 24;
        pp.window = 7;
        pp.chunk = 9;
        pp.train_len = 3;
        swacl_config c, c2;
        cr_assert(swacl_preset_ex(names[k], &pp, &c) == SWACL_OK);
        swacl_weights *w = NULL, *w2 = NULL;
        cr_assert(swacl_weights_create_random(&c, 3, &w) == SWACL_OK);
        char dir[64], err[1024];
        mktmp(dir);
        cr_assert(save_hf_msg(dir, &c, w, err, sizeof err) == SWACL_OK, "%s", err);
        cr_assert(load_hf_msg(dir, &c2, &w2, err, sizeof err) == SWACL_OK, "%s", err);
        cr_expect(memcmp(&c, &c2, sizeof c) == 0, "%s: config differs", names[k]);
        for (int i = 0; i < w->n; i++)
            cr_expect(memcmp(w->t[i].data, swacl_weights_find(w2, w->t[i].name)->data,
                             (size_t)w->t[i].numel * 4) == 0);
        swacl_weights_destroy(w);
        swacl_weights_destroy(w2);
        rmtmp(dir);
    }
}

/* ------------------------------------------------------------------------ */
/* malformed safetensors                                                     */

#define T1 "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}"

Test(loader, safetensors_valid_minimal)
{
    char err[256];
    cr_expect(parse_hdr(T1, 8, 0, err, sizeof err) == SWACL_OK, "%s", err);
    /* metadata, scalar, empty tensor, trailing header spaces */
    cr_expect(parse_hdr("{\"__metadata__\":{\"format\":\"pt\"},"
                        "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
                        "\"e\":{\"dtype\":\"BF16\",\"shape\":[0,3],\"data_offsets\":[4,4]}}    ",
                        4, 0, err, sizeof err) == SWACL_OK,
              "%s", err);
}

Test(loader, safetensors_truncated)
{
    EXPECT_ERR(parse_hdr(T1, 4, 0, E), SWACL_FORMAT, "outside the data buffer");
    EXPECT_ERR(parse_hdr(T1, 8, strlen(T1) + 100, E), SWACL_FORMAT, "truncated");
    EXPECT_ERR(swacl_st_parse((const uint8_t *)"abc", 3, "t.safetensors", &(swacl_st_file){0}, E),
               SWACL_FORMAT, "t.safetensors: truncated");
}

Test(loader, safetensors_huge_header)
{
    EXPECT_ERR(parse_hdr(T1, 8, 200000000ull, E), SWACL_FORMAT, "exceeds the limit");
    EXPECT_ERR(parse_hdr(T1, 8, UINT64_MAX, E), SWACL_FORMAT, "exceeds the limit");
}

Test(loader, safetensors_bad_json)
{
    EXPECT_ERR(parse_hdr("{\"a\":{\"dtype\":\"F32\",", 8, 0, E), SWACL_FORMAT, "not valid JSON");
    EXPECT_ERR(parse_hdr("[1,2]", 8, 0, E), SWACL_FORMAT, "not a JSON object");
    EXPECT_ERR(parse_hdr("{\"a\":3}", 8, 0, E), SWACL_FORMAT, "tensor 'a'");
    EXPECT_ERR(parse_hdr("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 8,
                         0, E),
               SWACL_FORMAT, "non-negative integers");
    EXPECT_ERR(parse_hdr("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, 0, E),
               SWACL_FORMAT, "[begin, end]");
    EXPECT_ERR(parse_hdr("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 0, E), SWACL_FORMAT,
               "dtype");
    EXPECT_ERR(parse_hdr(T1 "xyz", 8, 0, E), SWACL_FORMAT, "trailing");
}

Test(loader, safetensors_bad_offsets)
{
    EXPECT_ERR(parse_hdr("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, 0,
                         E),
               SWACL_FORMAT, "begin 8 > end 0");
    EXPECT_ERR(parse_hdr("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,1e300]}}", 8,
                         0, E),
               SWACL_FORMAT, "tensor 'a'");
}

Test(loader, safetensors_overlap_and_duplicates)
{
    EXPECT_ERR(parse_hdr("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                         12, 0, E),
               SWACL_FORMAT, "overlapping");
    EXPECT_ERR(parse_hdr("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                         "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
                         16, 0, E),
               SWACL_FORMAT, "duplicate tensor name 'a'");
}

Test(loader, safetensors_dtype_size)
{
    EXPECT_ERR(parse_hdr("{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 0,
                         E),
               SWACL_FORMAT, "needs 4");
    EXPECT_ERR(parse_hdr("{\"w\":{\"dtype\":\"Q9\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 0,
                         E),
               SWACL_FORMAT, "unknown dtype 'Q9'");
    EXPECT_ERR(parse_hdr("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],"
                         "\"data_offsets\":[0,8]}}",
                         8, 0, E),
               SWACL_FORMAT, "overflows");
}

/* ------------------------------------------------------------------------ */
/* F16 / BF16                                                                */

Test(loader, f16_bf16_exact)
{
    struct {
        uint16_t h;
        float f;
    } f16[] = {{0x3C00, 1.0f},         {0xC000, -2.0f},       {0x7BFF, 65504.0f},
               {0x0001, 5.9604645e-8f}, {0x8400, -6.1035156e-5f}, {0x3555, 0.333251953125f},
               {0x0000, 0.0f},         {0x03FF, 6.0975552e-5f}};
    for (size_t i = 0; i < sizeof f16 / sizeof f16[0]; i++)
        cr_expect(swacl_f16_to_f32(f16[i].h) == f16[i].f, "f16 %04x -> %.9g, want %.9g", f16[i].h,
                  (double)swacl_f16_to_f32(f16[i].h), (double)f16[i].f);
    cr_expect(isinf(swacl_f16_to_f32(0x7C00)) && swacl_f16_to_f32(0xFC00) < 0);
    cr_expect(isnan(swacl_f16_to_f32(0x7E00)));
    cr_expect(signbit(swacl_f16_to_f32(0x8000)) && swacl_f16_to_f32(0x8000) == 0.0f);
    cr_expect(swacl_bf16_to_f32(0x3F80) == 1.0f);
    cr_expect(swacl_bf16_to_f32(0xC0A0) == -5.0f);
    cr_expect(swacl_bf16_to_f32(0x4049) == 3.140625f);
    cr_expect(swacl_bf16_to_f32(0x0001) == 9.18354962e-41f);

    /* through a parsed file, little-endian bytes */
    const uint8_t data[] = {0x00, 0x3C, 0x55, 0x35, 0x80, 0x3F, 0xA0, 0xC0};
    size_t len;
    uint8_t *img = st_image("{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                            "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[4,8]}}",
                            data, sizeof data, 0, &len);
    swacl_st_file f;
    char err[256];
    cr_assert(swacl_st_parse(img, len, "c", &f, err, sizeof err) == SWACL_OK, "%s", err);
    float out[2];
    cr_assert(swacl_st_to_f32(&f, swacl_st_find(&f, "h"), out, "c", err, sizeof err) == SWACL_OK);
    cr_expect(out[0] == 1.0f && out[1] == 0.333251953125f);
    cr_assert(swacl_st_to_f32(&f, swacl_st_find(&f, "b"), out, "c", err, sizeof err) == SWACL_OK);
    cr_expect(out[0] == 1.0f && out[1] == -5.0f);
    swacl_st_free(&f);
    free(img);
}

/* ------------------------------------------------------------------------ */
/* directory-level errors                                                    */

/* A tiny llama config.json (1 layer, hidden 8, 2 heads, vocab 4, ffn 4). */
#define LLAMA_CFG(extra)                                                                     \
    "{\"model_type\":\"llama\",\"hidden_size\":8,\"num_hidden_layers\":1,"                  \
    "\"num_attention_heads\":2,\"num_key_value_heads\":1,\"vocab_size\":4,"                 \
    "\"intermediate_size\":4,\"tie_word_embeddings\":true" extra "}"

static swacl_status load_cfg_text(const char *cfg_json, char *err, size_t err_len)
{
    char dir[64];
    mktmp(dir);
    write_bytes(dir, "config.json", cfg_json, strlen(cfg_json));
    /* a valid but empty safetensors file */
    size_t len;
    uint8_t *img = st_image("{}", NULL, 0, 0, &len);
    write_bytes(dir, "model.safetensors", img, len);
    free(img);
    swacl_config c;
    swacl_weights *w = NULL;
    swacl_status st = load_hf_msg(dir, &c, &w, err, err_len);
    swacl_weights_destroy(w);
    rmtmp(dir);
    return st;
}

Test(loader, missing_tensor)
{
    EXPECT_ERR(load_cfg_text(LLAMA_CFG(""), E), SWACL_FORMAT,
               "missing tensor 'model.embed_tokens.weight'");
}

Test(loader, unsupported_configs)
{
    EXPECT_ERR(load_cfg_text("{\"model_type\":\"gpt2\",\"n_embd\":8}", E), SWACL_UNSUPPORTED,
               "unsupported model_type 'gpt2'");
    EXPECT_ERR(load_cfg_text("{\"model_type\":\"llama4_text\",\"hidden_size\":8,"
                             "\"num_hidden_layers\":2,\"num_attention_heads\":2,"
                             "\"vocab_size\":4,\"intermediate_size_mlp\":4,\"head_dim\":4}",
                             E),
               SWACL_UNSUPPORTED, "MoE");
    EXPECT_ERR(load_cfg_text("{\"model_type\":\"llama4_text\",\"hidden_size\":8,"
                             "\"num_hidden_layers\":2,\"num_attention_heads\":2,\"vocab_size\":4,"
                             "\"intermediate_size_mlp\":4,\"moe_layers\":[1],\"head_dim\":4}",
                             E),
               SWACL_UNSUPPORTED, "moe_layers");
    EXPECT_ERR(load_cfg_text(LLAMA_CFG(",\"rope_scaling\":{\"rope_type\":\"longrope\",\"factor\":8}"), E),
               SWACL_UNSUPPORTED,
               "rope_scaling type 'longrope' is not supported (supported: default, linear, dynamic, "
               "llama3, yarn)");
    EXPECT_ERR(load_cfg_text(LLAMA_CFG(",\"hidden_act\":\"gelu\""), E), SWACL_UNSUPPORTED,
               "hidden_act 'gelu'");
    EXPECT_ERR(load_cfg_text("{\"model_type\":\"llama\",", E), SWACL_FORMAT, "not valid JSON");
    EXPECT_ERR(load_cfg_text("{\"model_type\":\"llama\",\"hidden_size\":8}", E), SWACL_FORMAT,
               "num_hidden_layers");
    EXPECT_ERR(load_cfg_text(LLAMA_CFG(",\"head_dim\":3"), E), SWACL_FORMAT,
               "invalid configuration");
}

Test(loader, missing_files_and_bad_dtype)
{
    char dir[64];
    mktmp(dir);
    swacl_config c;
    swacl_weights *w = NULL;
    EXPECT_ERR(load_hf_msg(dir, &c, &w, E), SWACL_IO, "config.json");
    write_bytes(dir, "config.json", LLAMA_CFG(""), strlen(LLAMA_CFG("")));
    EXPECT_ERR(load_hf_msg(dir, &c, &w, E), SWACL_IO, "no model.safetensors");
    /* embed_tokens stored as I64: valid file, unconvertible dtype */
    uint8_t data[256] = {0};
    size_t len;
    uint8_t *img = st_image("{\"model.embed_tokens.weight\":{\"dtype\":\"I64\",\"shape\":[4,8],"
                            "\"data_offsets\":[0,256]}}",
                            data, sizeof data, 0, &len);
    write_bytes(dir, "model.safetensors", img, len);
    free(img);
    EXPECT_ERR(load_hf_msg(dir, &c, &w, E), SWACL_UNSUPPORTED, "unsupported dtype I64");
    /* wrong shape */
    img = st_image("{\"model.embed_tokens.weight\":{\"dtype\":\"F32\",\"shape\":[8,8],"
                   "\"data_offsets\":[0,256]}}",
                   data, sizeof data, 0, &len);
    write_bytes(dir, "model.safetensors", img, len);
    free(img);
    EXPECT_ERR(load_hf_msg(dir, &c, &w, E), SWACL_FORMAT, "has shape [8, 8]");
    /* truncated on disk */
    img = st_image("{\"model.embed_tokens.weight\":{\"dtype\":\"F32\",\"shape\":[4,8],"
                   "\"data_offsets\":[0,128]}}",
                   data, 100, 0, &len);
    write_bytes(dir, "model.safetensors", img, len);
    free(img);
    EXPECT_ERR(load_hf_msg(dir, &c, &w, E), SWACL_FORMAT, "model.safetensors: tensor 'model.embed_tokens.weight'");
    cr_expect(w == NULL);
    rmtmp(dir);
}

Test(loader, sharded_index)
{
    /* a preset saved, then split into two shards with an index */
    swacl_preset_params pp;
    memset(&pp, 0, sizeof pp);
    pp.hidden_size = 32;
    pp.n_heads = 1;
    pp.n_layers = 2;
    pp.ffn_dim = 16;
    pp.vocab_size = 8;
    swacl_config c, c2;
    cr_assert(swacl_preset_ex("baseline", &pp, &c) == SWACL_OK);
    swacl_weights *w = NULL, *w2 = NULL;
    cr_assert(swacl_weights_create_random(&c, 5, &w) == SWACL_OK);
    char dir[64], err[1024];
    mktmp(dir);
    cr_assert(save_hf_msg(dir, &c, w, err, sizeof err) == SWACL_OK, "%s", err);
    /* rebuild as two shards: tensors [0, n/2) in a, the rest in b */
    char *hdr[2];
    size_t dl[2] = {0, 0};
    uint8_t *dat[2];
    cJSON *h[2] = {cJSON_CreateObject(), cJSON_CreateObject()};
    cJSON *wm = cJSON_CreateObject();
    for (int s = 0; s < 2; s++) dat[s] = malloc(1 << 20);
    for (int i = 0; i < w->n; i++) {
        int s = i >= w->n / 2;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "dtype", "F32");
        cJSON *sh = cJSON_AddArrayToObject(e, "shape");
        for (int d = 0; d < w->t[i].ndim; d++)
            cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)w->t[i].shape[d]));
        cJSON *of = cJSON_AddArrayToObject(e, "data_offsets");
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)dl[s]));
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)(dl[s] + w->t[i].numel * 4)));
        memcpy(dat[s] + dl[s], w->t[i].data, (size_t)w->t[i].numel * 4);
        dl[s] += (size_t)w->t[i].numel * 4;
        cJSON_AddItemToObject(h[s], w->t[i].name, e);
        cJSON_AddStringToObject(wm, w->t[i].name, s ? "b.safetensors" : "a.safetensors");
    }
    char p[256];
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    unlink(p);
    for (int s = 0; s < 2; s++) {
        hdr[s] = cJSON_PrintUnformatted(h[s]);
        size_t len;
        uint8_t *img = st_image(hdr[s], dat[s], dl[s], 0, &len);
        write_bytes(dir, s ? "b.safetensors" : "a.safetensors", img, len);
        free(img);
        free(hdr[s]);
        free(dat[s]);
        cJSON_Delete(h[s]);
    }
    cJSON *idx = cJSON_CreateObject();
    cJSON_AddItemToObject(idx, "weight_map", wm);
    char *is = cJSON_PrintUnformatted(idx);
    write_bytes(dir, "model.safetensors.index.json", is, strlen(is));
    free(is);
    cJSON_Delete(idx);
    cr_assert(load_hf_msg(dir, &c2, &w2, err, sizeof err) == SWACL_OK, "%s", err);
    cr_expect(memcmp(&c, &c2, sizeof c) == 0);
    for (int i = 0; i < w->n; i++)
        cr_expect(memcmp(w->t[i].data, swacl_weights_find(w2, w->t[i].name)->data,
                         (size_t)w->t[i].numel * 4) == 0,
                  "%s", w->t[i].name);
    swacl_weights_destroy(w);
    swacl_weights_destroy(w2);
    rmtmp(dir);
}

Test(loader, npy_roundtrip_and_errors)
{
    char dir[64], path[128], err[256];
    mktmp(dir);
    snprintf(path, sizeof path, "%s/config.json", dir); /* a name rmtmp removes */
    float x[6] = {1, -2, 3.5f, 0, 1e-30f, 7};
    int64_t shape[3] = {1, 2, 3};
    cr_assert(swacl_npy_write_f32(path, x, 3, shape, err, sizeof err) == SWACL_OK, "%s", err);
    float *y = NULL;
    int nd;
    int64_t sh[4];
    cr_assert(swacl_npy_read_f32(path, &y, &nd, sh, err, sizeof err) == SWACL_OK, "%s", err);
    cr_expect(nd == 3 && sh[0] == 1 && sh[1] == 2 && sh[2] == 3);
    cr_expect(memcmp(x, y, sizeof x) == 0);
    free(y);
    /* float64 data, then a shape that does not match the data size */
    const char *dicts[] = {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }\n",
                           "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n",
                           "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }\n"};
    const char *want[] = {"'<f4'", "needs 12", "fortran_order"};
    for (int k = 0; k < 3; k++) {
        uint8_t img[128] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
        size_t dl = strlen(dicts[k]);
        img[8] = (uint8_t)dl;
        memcpy(img + 10, dicts[k], dl);
        EXPECT_ERR(swacl_npy_parse_f32(img, 10 + dl + 8, "b.npy", &y, &nd, sh, E), SWACL_FORMAT,
                   want[k]);
    }
    rmtmp(dir);
}

/* ------------------------------------------------------------------------ */
/* fixtures vs transformers                                                  */

static int32_t *read_ids(const char *path, int *B, int *T)
{
    uint8_t *buf;
    size_t len;
    char err[256];
    cr_assert(swacl_file_read_msg(path, SWACL_FILE_MAX_IDS, &buf, &len, err, sizeof err) == SWACL_OK,
              "%s", err);
    int32_t *ids = malloc(len * sizeof *ids + 4);
    int n = 0, rows = 0, cols = -1, c = 0;
    char *save = NULL;
    for (char *line = strtok_r((char *)buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        c = 0;
        for (char *t = strtok(line, " \t\r"); t; t = strtok(NULL, " \t\r")) ids[n++] = atoi(t), c++;
        if (!c) continue;
        cr_assert(cols < 0 || cols == c);
        cols = c;
        rows++;
    }
    free(buf);
    *B = rows;
    *T = cols;
    return ids;
}

/* Lines of ids of any lengths: rows[] gets each line's count (at most max
 * lines), the ids back to back. */
static int32_t *read_rows(const char *path, int *n_rows, int *cols, int max)
{
    uint8_t *buf;
    size_t len;
    char err[256];
    cr_assert(swacl_file_read_msg(path, SWACL_FILE_MAX_IDS, &buf, &len, err, sizeof err) == SWACL_OK,
              "%s", err);
    int32_t *ids = malloc(len * sizeof *ids + 4);
    int n = 0, rows = 0;
    char *save = NULL, *save2 = NULL;
    for (char *line = strtok_r((char *)buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        int c = 0;
        for (char *t = strtok_r(line, " \t\r", &save2); t; t = strtok_r(NULL, " \t\r", &save2))
            ids[n++] = atoi(t), c++;
        if (!c) continue;
        cr_assert(rows < max, "%s: more than %d lines", path, max);
        cols[rows++] = c;
    }
    free(buf);
    *n_rows = rows;
    return ids;
}

/* Issue 10's measure: the worst over rows (positions) of max|a - r| / max|r|. */
static double pos_rel(const float *a, const float *r, size_t rows, int V)
{
    double worst = 0;
    for (size_t i = 0; i < rows; i++) {
        double e = 0, m = 0;
        for (int v = 0; v < V; v++) {
            e = fmax(e, fabs((double)a[i * V + v] - r[i * V + v]));
            m = fmax(m, fabs((double)r[i * V + v]));
        }
        worst = fmax(worst, m > 0 ? e / m : e);
    }
    return worst;
}

static int argmax_row(const float *x, int V)
{
    int best = 0;
    for (int v = 1; v < V; v++)
        if (x[v] > x[best]) best = v; /* first of equal maxima, as torch.argmax */
    return best;
}

/* greedy.txt: per sequence a prompt line, then transformers' generated ids.
 * A session prefills the prompts, then feeds back its own argmax; each token
 * must be transformers'. */
static void greedy_check(const char *arch, const char *dir, swacl_model *m, swacl_ctx *ctx,
                         int use_cl)
{
    char path[600];
    snprintf(path, sizeof path, "%s/greedy.txt", dir);
    if (access(path, R_OK) != 0) return;
    int rows, cols[16] = {0};
    int32_t *ids = read_rows(path, &rows, cols, 16);
    const int B = rows / 2, P = cols[0], N = cols[1], V = swacl_model_config(m)->vocab_size;
    cr_assert(rows % 2 == 0 && B >= 1 && B <= 8, "%s: greedy.txt has %d lines", arch, rows);
    for (int b = 0; b < B; b++)
        cr_assert(cols[2 * b] == P && cols[2 * b + 1] == N, "%s: greedy.txt line lengths", arch);
    int32_t *prompt = malloc((size_t)B * P * sizeof *prompt);
    for (int b = 0; b < B; b++)
        memcpy(prompt + (size_t)b * P, ids + (size_t)b * (P + N), (size_t)P * sizeof *prompt);
    swacl_session *s = NULL;
    cr_assert(swacl_session_create(m, B, P + N, &s) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    float *lg = calloc((size_t)B * V, sizeof *lg);
    swacl_input in = {B, P, prompt, NULL};
    cr_assert(swacl_session_prefill(s, &in, 0, lg) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    int agree = N, bad_b = -1, got = -1;
    for (int j = 0; j < N && bad_b < 0; j++) {
        int32_t tok[8];
        for (int b = 0; b < B; b++) {
            tok[b] = argmax_row(lg + (size_t)b * V, V);
            if (tok[b] != ids[(size_t)b * (P + N) + P + j] && bad_b < 0)
                bad_b = b, got = tok[b], agree = j;
        }
        if (bad_b < 0 && j + 1 < N)
            cr_assert(swacl_session_step(s, 1, NULL, tok, NULL, lg) == SWACL_OK, "%s",
                      swacl_ctx_errmsg(ctx));
    }
    fprintf(stderr, "[fixture] %-12s %-4s greedy : %d/%d tokens agree (prompt %d)\n", arch,
            use_cl ? "cl" : "ref", agree, N, P);
    cr_expect(bad_b < 0, "%s %s greedy: sequence %d token %d (position %d) is %d, transformers %d",
              arch, use_cl ? "cl" : "ref", bad_b, agree, P + agree, got,
              bad_b >= 0 ? ids[(size_t)bad_b * (P + N) + P + agree] : -1);
    swacl_session_destroy(s);
    free(lg);
    free(prompt);
    free(ids);
}

static void fixture_check(const char *arch, int use_cl)
{
    char dir[512], path[600], err[1024];
    snprintf(dir, sizeof dir, "%s/tests/fixtures/%s", SWACL_SOURCE_DIR, arch);
    swacl_config cfg;
    swacl_weights *w = NULL;
    swacl_status st = load_hf_msg(dir, &cfg, &w, err, sizeof err);
    cr_assert(st == SWACL_OK, "%s: %s", arch, err);
    int B, T;
    snprintf(path, sizeof path, "%s/ids.txt", dir);
    int32_t *ids = read_ids(path, &B, &T);
    float *ref = NULL;
    int nd;
    int64_t sh[4];
    snprintf(path, sizeof path, "%s/logits.npy", dir);
    cr_assert(swacl_npy_read_f32(path, &ref, &nd, sh, err, sizeof err) == SWACL_OK, "%s", err);
    const int V = cfg.vocab_size;
    cr_assert(nd == 3 && sh[0] == B && sh[1] == T && sh[2] == V, "%s: logits.npy shape", arch);

    swacl_ctx *ctx = use_cl ? test_cl_ctx() : test_ref_ctx();
    swacl_model *m = NULL;
    st = swacl_model_create(ctx, &cfg, w, &m);
    cr_assert(st == SWACL_OK, "%s: model_create: %s", arch, swacl_ctx_errmsg(ctx));
    size_t n = (size_t)B * T * V;
    float *out = calloc(n, sizeof *out);
    swacl_input in = {B, T, ids, NULL};
    st = swacl_model_forward(m, &in, 1, out);
    cr_assert(st == SWACL_OK, "%s: forward: %s", arch, swacl_ctx_errmsg(ctx));
    double mx = 0;
    for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs(ref[i]));
    double atol = FIX_ATOL_REL * mx;
    cmp_result r = cmp_arrays(out, ref, n, atol, FIX_RTOL);
    double prel = pos_rel(out, ref, (size_t)B * T, V);
    fprintf(stderr, "[fixture] %-12s %-4s prefill: max_abs_err %.3e (max|logit| %.2f, rel %.2e), "
            "nmse %.2e, worst position rel %.2e\n",
            arch, use_cl ? "cl" : "ref", r.max_abs, mx, r.max_abs / mx, r.nmse, prel);
    char what[128];
    snprintf(what, sizeof what, "%s %s prefill", arch, use_cl ? "cl" : "ref");
    expect_close(what, out, ref, n, atol, FIX_RTOL, 1e-8);
    cr_expect(prel <= FIX_POS_REL, "%s: position rel error %.3e > %.0e", what, prel, FIX_POS_REL);

    /* decode: prefill T-K, then one token at a time, against transformers'
     * own cached decode where the fixture has it */
    int K = 4;
    float *dref = NULL;
    snprintf(path, sizeof path, "%s/decode_logits.npy", dir);
    if (access(path, R_OK) == 0) {
        cr_assert(swacl_npy_read_f32(path, &dref, &nd, sh, err, sizeof err) == SWACL_OK, "%s", err);
        cr_assert(nd == 3 && sh[0] == B && sh[1] >= 1 && sh[1] < T && sh[2] == V,
                  "%s: decode_logits.npy shape", arch);
        K = (int)sh[1];
    }
    swacl_session *s = NULL;
    cr_assert(swacl_session_create(m, B, T, &s) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    int32_t *pre = malloc((size_t)B * (T - K) * sizeof *pre);
    for (int b = 0; b < B; b++) memcpy(pre + (size_t)b * (T - K), ids + (size_t)b * T, (size_t)(T - K) * 4);
    float *step = calloc((size_t)B * V, sizeof *step), *want = calloc((size_t)B * V, sizeof *want);
    swacl_input pin = {B, T - K, pre, NULL};
    cr_assert(swacl_session_prefill(s, &pin, 0, step) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    double dmax = 0, drel = 0;
    for (int t = T - K; t < T; t++) {
        int32_t tok[8];
        for (int b = 0; b < B; b++) tok[b] = ids[(size_t)b * T + t];
        cr_assert(swacl_session_step(s, 1, NULL, tok, NULL, step) == SWACL_OK, "%s",
                  swacl_ctx_errmsg(ctx));
        for (int b = 0; b < B; b++)
            memcpy(want + (size_t)b * V,
                   dref ? dref + ((size_t)b * K + (t - (T - K))) * V : ref + ((size_t)b * T + t) * V,
                   (size_t)V * 4);
        cmp_result d = cmp_arrays(step, want, (size_t)B * V, atol, FIX_RTOL);
        dmax = fmax(dmax, d.max_abs);
        double rel = pos_rel(step, want, (size_t)B, V);
        drel = fmax(drel, rel);
        snprintf(what, sizeof what, "%s %s decode t=%d", arch, use_cl ? "cl" : "ref", t);
        expect_close(what, step, want, (size_t)B * V, atol, FIX_RTOL, 1e-8);
        cr_expect(rel <= FIX_POS_REL, "%s: position rel error %.3e > %.0e", what, rel, FIX_POS_REL);
    }
    fprintf(stderr, "[fixture] %-12s %-4s decode : max_abs_err %.3e, worst position rel %.2e (%s)\n",
            arch, use_cl ? "cl" : "ref", dmax, drel, dref ? "decode_logits.npy" : "logits.npy");
    swacl_session_destroy(s);
    greedy_check(arch, dir, m, ctx, use_cl);
    free(dref);
    free(pre);
    free(step);
    free(want);
    free(out);
    free(ref);
    free(ids);
    swacl_model_destroy(m);
    swacl_ctx_destroy(ctx);
    swacl_weights_destroy(w);
}

#define FIXTURE(arch)                                                        \
    Test(fixture, arch##_ref) { fixture_check(#arch, 0); }                   \
    Test(fixture, arch##_cl) { fixture_check(#arch, 1); }

FIXTURE(cohere2)
FIXTURE(smollm3)
FIXTURE(llama4_text)
FIXTURE(mistral)
FIXTURE(llama)
FIXTURE(gemma2)
FIXTURE(gemma3_text)
FIXTURE(gemma3)
FIXTURE(qwen2)
FIXTURE(qwen3)
FIXTURE(olmo3)
FIXTURE(phi3)
FIXTURE(phi3_partial)
FIXTURE(llama_linear)
FIXTURE(llama_dynamic)
FIXTURE(llama_llama3)
FIXTURE(llama_yarn)
FIXTURE(llama_yarn_mscale)
FIXTURE(llama_trained)

Test(fixture, config_mapping)
{
    /* the per-layer mapping docs/MODEL.md section 7 prescribes, on the fixtures */
    char dir[512], err[1024];
    swacl_config c;
    swacl_weights *w = NULL;
    snprintf(dir, sizeof dir, "%s/tests/fixtures/cohere2", SWACL_SOURCE_DIR);
    cr_assert(load_hf_msg(dir, &c, &w, err, sizeof err) == SWACL_OK, "%s", err);
    cr_expect(c.block == SWACL_BLOCK_PARALLEL && c.norm == SWACL_NORM_LAYER_NOBIAS &&
              c.tied_embeddings && c.logit_scale == 0.25f);
    cr_expect(c.layers[0].span == SWACL_SPAN_WINDOW && c.layers[0].span_size == 5 &&
              c.layers[0].pos == SWACL_POS_ROPE_PAIR);
    cr_expect(c.layers[3].span == SWACL_SPAN_GLOBAL && c.layers[3].pos == SWACL_POS_NONE);
    swacl_weights_destroy(w);
    snprintf(dir, sizeof dir, "%s/tests/fixtures/llama4_text", SWACL_SOURCE_DIR);
    cr_assert(load_hf_msg(dir, &c, &w, err, sizeof err) == SWACL_OK, "%s", err);
    cr_expect(!c.tied_embeddings && c.layers[0].span == SWACL_SPAN_CHUNK &&
              c.layers[0].span_size == 8 && c.layers[0].qk_norm == SWACL_QKNORM_RMS_AFTER_ROPE &&
              c.layers[0].pos == SWACL_POS_ROPE_PAIR);
    cr_expect(c.layers[3].span == SWACL_SPAN_GLOBAL && c.layers[3].temp == SWACL_TEMP_LLAMA4 &&
              c.layers[3].temp_p0 == 4.0f && c.layers[3].temp_p1 == 0.25f);
    swacl_weights_destroy(w);
    snprintf(dir, sizeof dir, "%s/tests/fixtures/smollm3", SWACL_SOURCE_DIR);
    cr_assert(load_hf_msg(dir, &c, &w, err, sizeof err) == SWACL_OK, "%s", err);
    cr_expect(c.tied_embeddings && c.layers[2].pos == SWACL_POS_ROPE_HALF &&
              c.layers[3].pos == SWACL_POS_NONE && c.layers[0].rope_theta == 2000000.0f);
    swacl_weights_destroy(w);
}

/* ------------------------------------------------------------------------ */
/* Gemma 2 / 3 mapping (host/model/hf_gemma.c)                               */

static swacl_status parse_cfg(const char *json, swacl_config *c, char *err, size_t err_len)
{
    return swacl_hf_config_parse(json, strlen(json), c, NULL, err, err_len);
}

Test(fixture, gemma_config_mapping)
{
    char dir[512], err[1024];
    swacl_config c;
    swacl_weights *w = NULL;
    snprintf(dir, sizeof dir, "%s/tests/fixtures/gemma2", SWACL_SOURCE_DIR);
    cr_assert(load_hf_msg(dir, &c, &w, err, sizeof err) == SWACL_OK, "%s", err);
    cr_expect(c.norm_place == SWACL_NORMS_SANDWICH && c.norm_unit_offset && c.norm == SWACL_NORM_RMS &&
              c.ffn == SWACL_FFN_GEGLU_TANH && c.tied_embeddings && c.embed_scale == 8.0f);
    cr_expect(c.attn_softcap == 5.0f && c.final_softcap == 15.0f &&
              c.attn_scale == (float)pow(24.0, -0.5) && c.head_dim == 32 && c.n_kv_heads == 1);
    cr_expect(c.layers[0].span == SWACL_SPAN_WINDOW && c.layers[0].span_size == 6 &&
              c.layers[1].span == SWACL_SPAN_GLOBAL && c.layers[2].span == SWACL_SPAN_WINDOW);
    for (int i = 0; i < 3; i++)
        cr_expect(c.layers[i].pos == SWACL_POS_ROPE_HALF && c.layers[i].rope_theta == 1000.0f &&
                  c.layers[i].qk_norm == SWACL_QKNORM_NONE && c.rope[i].type == SWACL_ROPE_DEFAULT);
    swacl_weights_destroy(w);
    snprintf(dir, sizeof dir, "%s/tests/fixtures/gemma3_text", SWACL_SOURCE_DIR);
    cr_assert(load_hf_msg(dir, &c, &w, err, sizeof err) == SWACL_OK, "%s", err);
    cr_expect(!c.tied_embeddings && c.attn_softcap == 0 && c.final_softcap == 0 &&
              c.embed_scale == (float)sqrt(32.0) && c.hidden_size == 32 && c.head_dim == 32);
    for (int i = 0; i < 5; i++)
        cr_expect(c.layers[i].span == SWACL_SPAN_WINDOW && c.layers[i].span_size == 5 &&
                  c.layers[i].rope_theta == 200.0f && c.rope[i].type == SWACL_ROPE_DEFAULT &&
                  c.layers[i].qk_norm == SWACL_QKNORM_RMS_HEAD, "layer %d", i);
    cr_expect(c.layers[5].span == SWACL_SPAN_GLOBAL && c.layers[5].rope_theta == 5000.0f &&
              c.rope[5].type == SWACL_ROPE_LINEAR && c.rope[5].factor == 4.0f &&
              c.layers[5].qk_norm == SWACL_QKNORM_RMS_HEAD);
    swacl_weights_destroy(w);
    /* the wrapper: text_config's final soft-cap 3 is not applied */
    snprintf(dir, sizeof dir, "%s/tests/fixtures/gemma3", SWACL_SOURCE_DIR);
    cr_assert(load_hf_msg(dir, &c, &w, err, sizeof err) == SWACL_OK, "%s", err);
    cr_expect(c.tied_embeddings && c.final_softcap == 0 && c.n_layers == 3 &&
              c.layers[1].span == SWACL_SPAN_GLOBAL && c.layers[1].rope_theta == 20000.0f &&
              c.layers[0].span_size == 7 && c.layers[0].rope_theta == 300.0f &&
              c.attn_scale == 0.25f);
    cr_expect(swacl_weights_find(w, "lm_head.weight") == NULL);
    for (int i = 0; i < w->n; i++)
        cr_expect(strstr(w->t[i].name, "vision") == NULL && strstr(w->t[i].name, "multi_modal") == NULL,
                  "vision tensor %s read", w->t[i].name);
    swacl_weights_destroy(w);
}

/* Files written before rope_parameters / layer_types (e.g. gemma-3-27b):
 * what Gemma3TextConfig / Gemma2Config of transformers 5.23 make of them. */
Test(fixture, gemma_legacy_configs)
{
    char err[1024];
    swacl_config c;
    cr_assert(parse_cfg("{\"model_type\":\"gemma3_text\",\"hidden_size\":8,\"num_hidden_layers\":7,"
                        "\"num_attention_heads\":8,\"vocab_size\":4,\"intermediate_size\":4,"
                        "\"head_dim\":4,\"sliding_window_pattern\":3,\"rope_theta\":50000.0,"
                        "\"rope_local_base_freq\":500.0,\"sliding_window\":3,"
                        "\"rope_scaling\":{\"rope_type\":\"linear\",\"factor\":8.0}}",
                        &c, err, sizeof err) == SWACL_OK,
              "%s", err);
    /* layer_types s s f s s f s; n_kv 4, query_pre_attn_scalar 256, tied */
    for (int i = 0; i < 7; i++) {
        int global = (i + 1) % 3 == 0;
        cr_expect(c.layers[i].span == (global ? SWACL_SPAN_GLOBAL : SWACL_SPAN_WINDOW), "layer %d", i);
        cr_expect(c.layers[i].rope_theta == (global ? 50000.0f : 500.0f), "layer %d", i);
        cr_expect(c.rope[i].type == (global ? SWACL_ROPE_LINEAR : SWACL_ROPE_DEFAULT), "layer %d", i);
        if (global) cr_expect(c.rope[i].factor == 8.0f);
    }
    cr_expect(c.n_kv_heads == 4 && c.attn_scale == 0.0625f && c.tied_embeddings &&
              c.final_softcap == 0 && c.embed_scale == (float)sqrt(8.0));
    cr_assert(parse_cfg("{\"model_type\":\"gemma2\",\"hidden_size\":8,\"num_hidden_layers\":3,"
                        "\"num_attention_heads\":4,\"vocab_size\":4,\"intermediate_size\":4,"
                        "\"head_dim\":4,\"rope_theta\":500.0,\"final_logit_softcapping\":null}",
                        &c, err, sizeof err) == SWACL_OK,
              "%s", err);
    cr_expect(c.layers[0].span == SWACL_SPAN_WINDOW && c.layers[0].span_size == 4096 &&
              c.layers[1].span == SWACL_SPAN_GLOBAL && c.layers[2].span == SWACL_SPAN_WINDOW &&
              c.layers[1].rope_theta == 500.0f);
    cr_expect(c.attn_softcap == 50.0f && c.final_softcap == 0 && c.n_kv_heads == 4);
    /* the wrapper's tie_word_embeddings wins over text_config's */
    cr_assert(parse_cfg("{\"model_type\":\"gemma3\",\"tie_word_embeddings\":false,\"text_config\":"
                        "{\"hidden_size\":8,\"num_hidden_layers\":2,\"num_attention_heads\":2,"
                        "\"num_key_value_heads\":1,\"vocab_size\":4,\"intermediate_size\":4,"
                        "\"head_dim\":4,\"tie_word_embeddings\":true}}",
                        &c, err, sizeof err) == SWACL_OK,
              "%s", err);
    cr_expect(!c.tied_embeddings && c.layers[0].rope_theta == 10000.0f &&
              c.layers[1].rope_theta == 10000.0f); /* pattern 6: both sliding */
}

/* gemma-3-4b-it's wrapper names only a few text sizes; the rest are the
 * Gemma3TextConfig defaults (as transformers 5.23 resolves them). */
Test(fixture, gemma3_sparse_text_config)
{
    char err[1024];
    swacl_config c;
    cr_assert(parse_cfg("{\"model_type\":\"gemma3\",\"text_config\":{\"hidden_size\":2560,"
                        "\"intermediate_size\":10240,\"model_type\":\"gemma3_text\","
                        "\"num_hidden_layers\":34,\"rope_scaling\":{\"factor\":8.0,"
                        "\"rope_type\":\"linear\"},\"sliding_window\":1024}}",
                        &c, err, sizeof err) == SWACL_OK,
              "%s", err);
    cr_expect(c.vocab_size == 262208 && c.n_heads == 8 && c.n_kv_heads == 4 && c.head_dim == 256 &&
              c.attn_scale == 0.0625f && c.tied_embeddings && c.norm_eps == 1e-6f &&
              c.ffn_dim == 10240 && c.n_layers == 34);
    cr_expect(c.layers[0].span == SWACL_SPAN_WINDOW && c.layers[0].span_size == 1024 &&
              c.layers[0].rope_theta == 10000.0f && c.rope[0].type == SWACL_ROPE_DEFAULT);
    cr_expect(c.layers[5].span == SWACL_SPAN_GLOBAL && c.layers[5].rope_theta == 1e6f &&
              c.rope[5].type == SWACL_ROPE_LINEAR && c.rope[5].factor == 8.0f);
}

/* Other scalings through hf_rope.c, per layer type: YaRN on the global
 * layer as transformers 5.23 computes it (attention_factor 0.1 ln 4 + 1). */
Test(fixture, gemma_rope_scalings)
{
    char err[1024];
    swacl_config c;
    cr_assert(parse_cfg("{\"model_type\":\"gemma3_text\",\"hidden_size\":8,\"num_hidden_layers\":2,"
                        "\"num_attention_heads\":2,\"num_key_value_heads\":1,\"vocab_size\":4,"
                        "\"intermediate_size\":4,\"head_dim\":4,\"sliding_window_pattern\":2,"
                        "\"max_position_embeddings\":4096,\"rope_parameters\":{\"full_attention\":"
                        "{\"rope_type\":\"yarn\",\"factor\":4.0,"
                        "\"original_max_position_embeddings\":1024}}}",
                        &c, err, sizeof err) == SWACL_OK,
              "%s", err);
    cr_expect(c.rope[0].type == SWACL_ROPE_DEFAULT && c.layers[0].rope_theta == 10000.0f);
    cr_expect(c.rope[1].type == SWACL_ROPE_YARN && c.rope[1].factor == 4.0f &&
              c.rope[1].original_max_pos == 1024 && c.layers[1].rope_theta == 1e6f &&
              fabsf(c.rope[1].attention_factor - 1.1386294f) < 1e-6f);
    /* Gemma 2: one (flat) scaling for every layer */
    cr_assert(parse_cfg("{\"model_type\":\"gemma2\",\"hidden_size\":8,\"num_hidden_layers\":2,"
                        "\"num_attention_heads\":2,\"num_key_value_heads\":1,\"vocab_size\":4,"
                        "\"intermediate_size\":4,\"head_dim\":4,\"rope_theta\":300.0,"
                        "\"rope_scaling\":{\"type\":\"linear\",\"factor\":2.0}}",
                        &c, err, sizeof err) == SWACL_OK,
              "%s", err);
    for (int i = 0; i < 2; i++)
        cr_expect(c.rope[i].type == SWACL_ROPE_LINEAR && c.rope[i].factor == 2.0f &&
                  c.layers[i].rope_theta == 300.0f, "layer %d", i);
}

#define GEMMA3_CFG(extra)                                                                    \
    "{\"model_type\":\"gemma3_text\",\"hidden_size\":8,\"num_hidden_layers\":2,"            \
    "\"num_attention_heads\":2,\"num_key_value_heads\":1,\"vocab_size\":4,"                 \
    "\"intermediate_size\":4,\"head_dim\":4" extra "}"

Test(fixture, gemma_refusals)
{
    swacl_config c;
    char msg[512];
    EXPECT_ERR(parse_cfg(GEMMA3_CFG(",\"use_bidirectional_attention\":true"), &c, E),
               SWACL_UNSUPPORTED, "use_bidirectional_attention");
    EXPECT_ERR(parse_cfg(GEMMA3_CFG(",\"hidden_activation\":\"gelu\""), &c, E), SWACL_UNSUPPORTED,
               "hidden_activation 'gelu'");
    /* (only a layer that uses it: 2 layers of pattern 6 are both sliding) */
    cr_expect(parse_cfg(GEMMA3_CFG(",\"rope_parameters\":{\"full_attention\":{\"rope_type\":"
                                   "\"longrope\",\"factor\":4}}"), &c, msg, sizeof msg) == SWACL_OK,
              "%s", msg);
    EXPECT_ERR(parse_cfg(GEMMA3_CFG(",\"sliding_window_pattern\":2,\"rope_parameters\":"
                                    "{\"full_attention\":{\"rope_type\":\"longrope\",\"factor\":4}}"), &c, E),
               SWACL_UNSUPPORTED, "type 'longrope' is not supported");
    EXPECT_ERR(parse_cfg(GEMMA3_CFG(",\"rope_parameters\":{\"sliding_attention\":3}"), &c, E),
               SWACL_FORMAT, "rope_parameters.sliding_attention");
    EXPECT_ERR(parse_cfg(GEMMA3_CFG(",\"layer_types\":[\"chunked_attention\",\"full_attention\"]"),
                         &c, E),
               SWACL_UNSUPPORTED, "chunked_attention");
    EXPECT_ERR(parse_cfg(GEMMA3_CFG(",\"final_logit_softcapping\":-1"), &c, E), SWACL_FORMAT,
               "final_logit_softcapping");
    EXPECT_ERR(parse_cfg("{\"model_type\":\"gemma3\"}", &c, E), SWACL_FORMAT, "text_config");
    EXPECT_ERR(parse_cfg("{\"model_type\":\"gemma3\",\"text_config\":{\"model_type\":\"llama\"}}",
                         &c, E),
               SWACL_UNSUPPORTED, "text_config model_type 'llama'");
}

/* One F32 safetensors file of the given tensors under new names. */
static void write_st(const char *dir, const swacl_tensor *const *t, const char *const *names, int n)
{
    cJSON *h = cJSON_CreateObject();
    size_t dl = 0;
    for (int i = 0; i < n; i++) dl += (size_t)t[i]->numel * 4;
    uint8_t *dat = malloc(dl ? dl : 1);
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "dtype", "F32");
        cJSON *sh = cJSON_AddArrayToObject(e, "shape");
        for (int d = 0; d < t[i]->ndim; d++)
            cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)t[i]->shape[d]));
        cJSON *of = cJSON_AddArrayToObject(e, "data_offsets");
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)(off + t[i]->numel * 4)));
        memcpy(dat + off, t[i]->data, (size_t)t[i]->numel * 4);
        off += (size_t)t[i]->numel * 4;
        cJSON_AddItemToObject(h, names[i], e);
    }
    char *hs = cJSON_PrintUnformatted(h);
    size_t len;
    uint8_t *img = st_image(hs, dat, dl, 0, &len);
    write_bytes(dir, "model.safetensors", img, len);
    free(img);
    free(hs);
    free(dat);
    cJSON_Delete(h);
}

/* The composite as transformers v5 names it in memory (model.language_model.*,
 * lm_head at the top), untied, with a vision tensor to skip: same logits as
 * the fixture, whose lm_head is its embedding. */
Test(fixture, gemma3_v5_names_untied)
{
    char dir[512], err[1024], tmp[64];
    swacl_config c, c2;
    swacl_weights *w = NULL, *w2 = NULL;
    snprintf(dir, sizeof dir, "%s/tests/fixtures/gemma3", SWACL_SOURCE_DIR);
    cr_assert(load_hf_msg(dir, &c, &w, err, sizeof err) == SWACL_OK, "%s", err);
    const int n = w->n + 2;
    const swacl_tensor **t = calloc((size_t)n, sizeof *t);
    char(*names)[192] = calloc((size_t)n, sizeof *names);
    const char **np = calloc((size_t)n, sizeof *np);
    for (int i = 0; i < w->n; i++) {
        t[i] = &w->t[i];
        cr_assert(strncmp(w->t[i].name, "model.", 6) == 0, "%s", w->t[i].name);
        snprintf(names[i], sizeof names[i], "model.language_model.%s", w->t[i].name + 6);
    }
    t[w->n] = swacl_weights_find(w, "model.embed_tokens.weight");
    snprintf(names[w->n], sizeof names[0], "lm_head.weight");
    t[w->n + 1] = swacl_weights_find(w, "model.norm.weight");
    snprintf(names[w->n + 1], sizeof names[0], "model.vision_tower.post_layernorm.weight");
    for (int i = 0; i < n; i++) np[i] = names[i];
    mktmp(tmp);
    write_st(tmp, t, np, n);
    /* the fixture's config.json with the wrapper untied */
    char path[600];
    snprintf(path, sizeof path, "%s/config.json", dir);
    uint8_t *buf;
    size_t len;
    cr_assert(swacl_file_read_msg(path, 1 << 20, &buf, &len, err, sizeof err) == SWACL_OK, "%s", err);
    cJSON *cj = cJSON_ParseWithLength((const char *)buf, len);
    free(buf);
    cr_assert(cj != NULL);
    cJSON_ReplaceItemInObjectCaseSensitive(cj, "tie_word_embeddings", cJSON_CreateFalse());
    char *cs = cJSON_PrintUnformatted(cj);
    write_bytes(tmp, "config.json", cs, strlen(cs));
    free(cs);
    cJSON_Delete(cj);
    cr_assert(load_hf_msg(tmp, &c2, &w2, err, sizeof err) == SWACL_OK, "%s", err);
    cr_expect(!c2.tied_embeddings && swacl_weights_find(w2, "lm_head.weight") != NULL);
    int B, T;
    snprintf(path, sizeof path, "%s/ids.txt", dir);
    int32_t *ids = read_ids(path, &B, &T);
    float *ref = NULL;
    int nd;
    int64_t sh[4];
    snprintf(path, sizeof path, "%s/logits.npy", dir);
    cr_assert(swacl_npy_read_f32(path, &ref, &nd, sh, err, sizeof err) == SWACL_OK, "%s", err);
    swacl_ctx *ctx = test_ref_ctx();
    swacl_model *m = NULL;
    cr_assert(swacl_model_create(ctx, &c2, w2, &m) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    float *out = calloc((size_t)B * T * c2.vocab_size, sizeof *out);
    swacl_input in = {B, T, ids, NULL};
    cr_assert(swacl_model_forward(m, &in, 1, out) == SWACL_OK, "%s", swacl_ctx_errmsg(ctx));
    double rel = pos_rel(out, ref, (size_t)B * T, c2.vocab_size);
    cr_expect(rel <= FIX_POS_REL, "gemma3 v5 names: position rel error %.3e", rel);
    swacl_model_destroy(m);
    swacl_ctx_destroy(ctx);
    free(out);
    free(ref);
    free(ids);
    swacl_weights_destroy(w);
    swacl_weights_destroy(w2);
    free(t);
    free(names);
    free(np);
    rmtmp(tmp);
}

/* ------------------------------------------------------------------------ */
/* Qwen 2 / Qwen 3 / OLMo 3 / Phi-3 mapping and RoPE scaling parsing          */
/* (host/model/hf_qwen.c, hf_rope.c), each rule as transformers 5.23 has it   */

#define TINY(mt, extra)                                                                      \
    "{\"model_type\":\"" mt "\",\"hidden_size\":64,\"num_hidden_layers\":4,"                 \
    "\"num_attention_heads\":2,\"num_key_value_heads\":1,\"vocab_size\":8,"                  \
    "\"intermediate_size\":8" extra "}"

static swacl_status parse(const char *js, swacl_config *c, swacl_hf_map *m, char *err, size_t n)
{
    return swacl_hf_config_parse(js, strlen(js), c, m, err, n);
}

Test(hf_families, qwen_olmo_phi_mapping)
{
    char err[1024];
    swacl_config c;
    swacl_hf_map m;
    /* Qwen 2: sliding iff use_sliding_window and i >= max_window_layers */
    cr_assert(parse(TINY("qwen2", ",\"use_sliding_window\":true,\"sliding_window\":6,"
                                  "\"max_window_layers\":2"), &c, &m, err, sizeof err) == SWACL_OK,
              "%s", err);
    cr_expect(c.layers[1].span == SWACL_SPAN_GLOBAL && c.layers[2].span == SWACL_SPAN_WINDOW &&
              c.layers[2].span_size == 6 && c.layers[3].span == SWACL_SPAN_WINDOW);
    cr_expect(c.attn_bias == 1 && c.attn_out_bias == 0 && !c.tied_embeddings &&
              c.layers[0].pos == SWACL_POS_ROPE_HALF && c.layers[0].rope_theta == 10000.0f);
    cr_assert(parse(TINY("qwen2", ",\"sliding_window\":6,\"max_window_layers\":0"), &c, &m, err,
                    sizeof err) == SWACL_OK, "%s", err);
    cr_expect(c.layers[3].span == SWACL_SPAN_GLOBAL, "use_sliding_window false: no window");
    EXPECT_ERR(parse(TINY("qwen2", ",\"layer_types\":[\"sliding_attention\",\"full_attention\","
                                   "\"full_attention\",\"full_attention\"]"), &c, &m, E),
               SWACL_FORMAT, "leave no window");
    /* Qwen 3: head_dim 128 by default, per-head QK-norm, o bias with attention_bias */
    cr_assert(parse(TINY("qwen3", ",\"attention_bias\":true"), &c, &m, err, sizeof err) == SWACL_OK,
              "%s", err);
    cr_expect(c.head_dim == 128 && c.layers[0].qk_norm == SWACL_QKNORM_RMS_HEAD && c.attn_bias &&
              c.attn_out_bias == -1);
    /* OLMo 3: 3 sliding : 1 full, post-norms, whole-projection QK-norm; a
     * v4 rope_scaling and rope_theta reach the full layers only (sliding
     * ones keep default_theta 500000, as Olmo3Config) */
    cr_assert(parse(TINY("olmo3", ",\"rope_theta\":1000,\"rope_scaling\":{\"rope_type\":\"linear\","
                                  "\"factor\":2}"), &c, &m, err, sizeof err) == SWACL_OK, "%s", err);
    cr_expect(c.norm_place == SWACL_NORMS_POST && c.layers[0].qk_norm == SWACL_QKNORM_RMS_FULL);
    cr_expect(c.layers[0].span == SWACL_SPAN_WINDOW && c.layers[0].span_size == 4096 &&
              c.layers[3].span == SWACL_SPAN_GLOBAL);
    cr_expect(c.layers[3].rope_theta == 1000.0f && c.rope[3].type == SWACL_ROPE_LINEAR &&
              c.rope[3].factor == 2.0f);
    cr_expect(c.layers[0].rope_theta == 500000.0f && c.rope[0].type == SWACL_ROPE_DEFAULT);
    EXPECT_ERR(parse(TINY("olmo3", ",\"sliding_window\":null"), &c, &m, E), SWACL_FORMAT,
               "sliding_window is null");
    /* Phi-3: fused tensors, partial RoPE, longrope (su / yarn) refused by name */
    cr_assert(parse(TINY("phi3", ",\"partial_rotary_factor\":0.25,\"sliding_window\":5"), &c, &m,
                    err, sizeof err) == SWACL_OK, "%s", err);
    cr_expect(m.fused_phi3 && c.rope[0].rotary_dim == 8 && c.layers[0].span_size == 5);
    EXPECT_ERR(parse(TINY("phi3", ",\"partial_rotary_factor\":0.3"), &c, &m, E), SWACL_UNSUPPORTED,
               "9 rotary lanes");
    EXPECT_ERR(parse(TINY("phi3", ",\"rope_scaling\":{\"type\":\"su\",\"short_factor\":[1]}"), &c,
                     &m, E),
               SWACL_UNSUPPORTED, "rope_scaling type 'longrope' is not supported");
    EXPECT_ERR(parse(TINY("phi3", ",\"rope_scaling\":{\"rope_type\":\"linear\",\"factor\":2}"), &c,
                     &m, E),
               SWACL_UNSUPPORTED, "accepts only default and longrope");
}

Test(hf_families, rope_scaling_parse)
{
    char err[1024];
    swacl_config c;
    swacl_hf_map m;
    /* YaRN: attention_factor from factor, from mscale / mscale_all_dim, or given */
    cr_assert(parse(TINY("llama", ",\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":4,"
                                  "\"original_max_position_embeddings\":16}"), &c, &m, err,
                    sizeof err) == SWACL_OK, "%s", err);
    cr_expect(c.rope[0].type == SWACL_ROPE_YARN && c.rope[0].original_max_pos == 16 &&
              fabsf(c.rope[0].attention_factor - (float)(0.1 * log(4.0) + 1)) < 1e-6f &&
              c.rope[0].beta_fast == 32.0f && c.rope[0].beta_slow == 1.0f && c.rope[0].truncate);
    cr_assert(parse(TINY("llama", ",\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":8,"
                                  "\"mscale\":1,\"mscale_all_dim\":0.5,\"beta_fast\":0,"
                                  "\"truncate\":false}"), &c, &m, err, sizeof err) == SWACL_OK,
              "%s", err);
    const double want = (0.1 * log(8.0) + 1) / (0.05 * log(8.0) + 1);
    cr_expect(fabs(c.rope[0].attention_factor - want) < 1e-6 && c.rope[0].beta_fast == 32.0f &&
              !c.rope[0].truncate && c.rope[0].original_max_pos == 2048,
              "af %g, beta_fast %g (0 means 32), original %d (max_position_embeddings default)",
              (double)c.rope[0].attention_factor, (double)c.rope[0].beta_fast,
              c.rope[0].original_max_pos);
    /* factor null: max_position_embeddings / original; a top-level original wins */
    cr_assert(parse(TINY("llama", ",\"max_position_embeddings\":64,"
                                  "\"original_max_position_embeddings\":8,\"rope_parameters\":"
                                  "{\"rope_type\":\"yarn\",\"factor\":null,\"attention_factor\":1.5,"
                                  "\"original_max_position_embeddings\":16,\"rope_theta\":500}"),
                    &c, &m, err, sizeof err) == SWACL_OK, "%s", err);
    cr_expect(c.rope[0].original_max_pos == 8 && c.rope[0].factor == 8.0f &&
              c.rope[0].attention_factor == 1.5f && c.layers[0].rope_theta == 500.0f);
    /* dynamic grows past max_position_embeddings; v4 "type" spelling */
    cr_assert(parse(TINY("mistral", ",\"max_position_embeddings\":100,\"rope_scaling\":"
                                    "{\"type\":\"dynamic\",\"factor\":2}"), &c, &m, err,
                    sizeof err) == SWACL_OK, "%s", err);
    cr_expect(c.rope[1].type == SWACL_ROPE_DYNAMIC && c.rope[1].original_max_pos == 100);
    /* llama3 (also Llama 4's low == high) */
    cr_assert(parse(TINY("smollm3", ",\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":16,"
                                    "\"low_freq_factor\":1,\"high_freq_factor\":1,"
                                    "\"original_max_position_embeddings\":8192}"), &c, &m, err,
                    sizeof err) == SWACL_OK, "%s", err);
    cr_expect(c.rope[0].type == SWACL_ROPE_LLAMA3 && c.rope[0].original_max_pos == 8192 &&
              c.rope[0].high_freq_factor == 1.0f);
    EXPECT_ERR(parse(TINY("llama", ",\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":8}"),
                     &c, &m, E),
               SWACL_FORMAT, "low_freq_factor and high_freq_factor");
    EXPECT_ERR(parse(TINY("llama", ",\"rope_scaling\":{\"rope_type\":\"linear\"}"), &c, &m, E),
               SWACL_FORMAT, "needs a 'factor'");
    EXPECT_ERR(parse(TINY("qwen2", ",\"rope_parameters\":{\"rope_type\":\"longrope\"}"), &c, &m, E),
               SWACL_UNSUPPORTED,
               "rope_scaling type 'longrope' is not supported (supported: default, linear, "
               "dynamic, llama3, yarn)");
    /* whole-head families: partial_rotary_factor is ignored by default RoPE,
     * refused with a scaling rule (transformers cannot run it) */
    cr_assert(parse(TINY("llama", ",\"partial_rotary_factor\":0.5"), &c, &m, err, sizeof err) ==
                  SWACL_OK, "%s", err);
    cr_expect(c.rope[0].rotary_dim == 0);
    EXPECT_ERR(parse(TINY("llama", ",\"partial_rotary_factor\":0.5,\"rope_scaling\":{\"rope_type\":"
                                   "\"linear\",\"factor\":2}"), &c, &m, E),
               SWACL_UNSUPPORTED, "rotates whole heads");
    /* keyed by layer type */
    cr_assert(parse(TINY("cohere2", ",\"sliding_window\":4,\"rope_parameters\":{"
                                    "\"sliding_attention\":{\"rope_type\":\"linear\",\"factor\":3,"
                                    "\"rope_theta\":77},\"full_attention\":null}"), &c, &m, err,
                    sizeof err) == SWACL_OK, "%s", err);
    cr_expect(c.layers[0].rope_theta == 77.0f && c.rope[0].type == SWACL_ROPE_LINEAR &&
              c.rope[0].factor == 3.0f);
}

Test(hf_families, phi3_fused_shapes)
{
    /* the fused tensors must have the rows the config implies, named as stored */
    char src[512], dir[64], path[600], err[1024];
    snprintf(src, sizeof src, "%s/tests/fixtures/phi3", SWACL_SOURCE_DIR);
    snprintf(path, sizeof path, "%s/model.safetensors", src);
    uint8_t *st;
    size_t st_len;
    cr_assert(swacl_file_read_msg(path, 1u << 26, &st, &st_len, err, sizeof err) == SWACL_OK, "%s",
              err);
    mktmp(dir);
    write_bytes(dir, "model.safetensors", st, st_len);
    const char *js = "{\"model_type\":\"phi3\",\"hidden_size\":64,\"num_hidden_layers\":3,"
                     "\"num_attention_heads\":2,\"num_key_value_heads\":2,\"vocab_size\":128,"
                     "\"intermediate_size\":64}";
    write_bytes(dir, "config.json", js, strlen(js));
    swacl_config c;
    swacl_weights *w = NULL;
    EXPECT_ERR(load_hf_msg(dir, &c, &w, E), SWACL_FORMAT,
               "'model.layers.0.self_attn.qkv_proj.weight' has shape [128, 64], config.json "
               "implies [192, 64]");
    js = "{\"model_type\":\"phi3\",\"hidden_size\":64,\"num_hidden_layers\":3,"
         "\"num_attention_heads\":2,\"num_key_value_heads\":1,\"vocab_size\":128,"
         "\"intermediate_size\":48}";
    write_bytes(dir, "config.json", js, strlen(js));
    EXPECT_ERR(load_hf_msg(dir, &c, &w, E), SWACL_FORMAT, "gate_up_proj.weight' has shape");
    swacl_weights_destroy(w);
    free(st);
    rmtmp(dir);
}

/* Every float the writer prints reads back: a YaRN beta just under 3e38
 * once passed the reader's double check, rounded up as a float and was then
 * refused when the written config.json was read again (found by fuzz). */
Test(hf_families, write_reads_back_near_flt_max)
{
    const char *big[] = {"2.99999999999999999e38", "3.4028234e38", "-3.4028234e38"};
    for (int k = 0; k < 3; k++) {
        char js[512], err[1024];
        snprintf(js, sizeof js,
                 TINY("llama", ",\"rope_parameters\":{\"rope_type\":\"yarn\",\"rope_theta\":"
                               "10000.0,\"beta_fast\":16.0,\"beta_slow\":%s}"),
                 big[k]);
        swacl_config c, c2;
        cr_assert(parse(js, &c, NULL, err, sizeof err) == SWACL_OK, "%s: %s", big[k], err);
        char *out = swacl_hf_config_write(&c);
        cr_assert(out != NULL);
        swacl_status st = parse(out, &c2, NULL, err, sizeof err);
        free(out);
        cr_assert(st == SWACL_OK, "%s: re-read: %s", big[k], err);
        cr_expect(memcmp(&c, &c2, sizeof c) == 0, "%s: config differs after re-read", big[k]);
    }
    /* past FLT_MAX: refused by name, not turned into inf */
    char err[1024];
    swacl_config c;
    cr_expect(parse(TINY("llama", ",\"rope_parameters\":{\"rope_type\":\"yarn\",\"beta_slow\":3.5e38}"),
                    &c, NULL, err, sizeof err) != SWACL_OK);
    cr_expect(strstr(err, "beta_slow") != NULL, "%s", err);
}
