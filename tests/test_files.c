/*
 * test_files.c - hostile files (issue 14, items 8, 9, 11): every file the
 * library reads goes through host/common/file.c, and swacl_save_hf never
 * writes in place.
 *
 *   special files: a FIFO as config.json, model.safetensors, an ids file and
 *        sched-calib.json returns at once with "is not a regular file" (each
 *        test has a Criterion timeout, so a blocking open fails the test
 *        instead of hanging the suite); config.json / an ids file linked to
 *        /dev/zero, a directory as config.json: refused before any read; a
 *        /proc file (st_size 0, content unbounded in principle) stops at the
 *        cap; a symlink loop says "symbolic links", not "no model.safetensors".
 *   parsers: the .npy header is a Python dict literal (a 'descr': inside a
 *        string value is not the key, extra / repeated keys refused, a 1-D
 *        shape needs its trailing comma as in numpy, entries need commas); a
 *        NUL byte in an ids file is an error; a repeated key in config.json:
 *        the last one wins (Python json / transformers).
 *   save: a save over an existing model that fails midway (RLIMIT_FSIZE,
 *        SIGXFSZ ignored: EFBIG) reports "File too large", leaves the old
 *        model loadable bit-exactly and no stray files; saves killed at
 *        random moments leave the old or the new model, bit-exactly, and the
 *        next save sweeps their work directories; other files of the
 *        destination survive a save.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/file.h"
#include "helpers.h"
#include "model/hf.h"
#include "sched/sched.h"

#define LLAMA_CFG(extra)                                                                     \
    "{\"model_type\":\"llama\",\"hidden_size\":8,\"num_hidden_layers\":1,"                  \
    "\"num_attention_heads\":2,\"num_key_value_heads\":1,\"vocab_size\":4,"                 \
    "\"intermediate_size\":4,\"tie_word_embeddings\":true" extra "}"

/* ------------------------------------------------------------------------ */
/* helpers                                                                   */

static void mktmp(char *dir, size_t len)
{
    snprintf(dir, len, "/tmp/swacl_files_XXXXXX");
    cr_assert(mkdtemp(dir) != NULL);
}

/* rm -r for the small trees made here (two levels) */
static void rmtree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[1024];
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            struct stat sb;
            if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) rmtree(p);
            else unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

static void put(const char *dir, const char *name, const void *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert(f != NULL, "create %s", path);
    cr_assert(fwrite(p, 1, n, f) == n);
    fclose(f);
}

static void path_of(char *out, size_t len, const char *dir, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

static swacl_status load_msg(const char *dir, char *msg, size_t len)
{
    swacl_ctx *ctx = test_ref_ctx();
    swacl_config c;
    swacl_weights *w = NULL;
    swacl_status st = swacl_load_hf(ctx, dir, &c, &w);
    snprintf(msg, len, "%s", swacl_ctx_errmsg(ctx));
    swacl_weights_destroy(w);
    swacl_ctx_destroy(ctx);
    return st;
}

#define EXPECT_MSG(st_expr, want_st, substr)                                             \
    do {                                                                                 \
        char m_[1024] = "";                                                              \
        swacl_status st_ = (st_expr);                                                    \
        cr_expect(st_ == (want_st), "%s: status %d (%s), want %d; msg: %s", #st_expr,    \
                  (int)st_, swacl_status_string(st_), (int)(want_st), m_);               \
        cr_expect(strstr(m_, substr) != NULL, "%s: message '%s' lacks '%s'", #st_expr,   \
                  m_, substr);                                                           \
    } while (0)
#define M m_, sizeof m_

static const uint8_t k_empty_st[10] = {2, 0, 0, 0, 0, 0, 0, 0, '{', '}'};

static swacl_status ids_msg(const char *path, char *msg, size_t len)
{
    swacl_ctx *ctx = test_ref_ctx();
    int32_t *ids = NULL;
    int B = 0, T = 0;
    swacl_status st = swacl_ids_read(ctx, path, 10, &ids, &B, &T);
    snprintf(msg, len, "%s", swacl_ctx_errmsg(ctx));
    swacl_free(ids);
    swacl_ctx_destroy(ctx);
    return st;
}

/* ------------------------------------------------------------------------ */
/* special files                                                             */

Test(files, fifo_config_safetensors_ids, .timeout = 30)
{
    char dir[64], p[256];
    mktmp(dir, sizeof dir);
    path_of(p, sizeof p, dir, "config.json");
    cr_assert(mkfifo(p, 0600) == 0);
    EXPECT_MSG(load_msg(dir, M), SWACL_IO, "is not a regular file");
    unlink(p);
    put(dir, "config.json", LLAMA_CFG(""), strlen(LLAMA_CFG("")));
    path_of(p, sizeof p, dir, "model.safetensors");
    cr_assert(mkfifo(p, 0600) == 0);
    EXPECT_MSG(load_msg(dir, M), SWACL_IO, "is not a regular file");
    unlink(p);
    /* a shard named by the index */
    const char *idx = "{\"weight_map\":{\"model.embed_tokens.weight\":\"a.safetensors\"}}";
    put(dir, "model.safetensors.index.json", idx, strlen(idx));
    path_of(p, sizeof p, dir, "a.safetensors");
    cr_assert(mkfifo(p, 0600) == 0);
    EXPECT_MSG(load_msg(dir, M), SWACL_IO, "is not a regular file");
    path_of(p, sizeof p, dir, "ids.txt");
    cr_assert(mkfifo(p, 0600) == 0);
    EXPECT_MSG(ids_msg(p, M), SWACL_IO, "is not a regular file");
    rmtree(dir);
}

Test(files, fifo_calibration_cache, .timeout = 120)
{
    char dir[64], p[256];
    mktmp(dir, sizeof dir);
    path_of(p, sizeof p, dir, "sched-calib.json");
    cr_assert(mkfifo(p, 0600) == 0);
    swacl_preset_params pp = {.hidden_size = 32, .n_heads = 2, .n_layers = 2, .vocab_size = 16,
                              .window = 4};
    swacl_config c;
    cr_assert(swacl_preset_ex("rnope-swa", &pp, &c) == SWACL_OK);
    swacl_ctx *ctx = test_ref_ctx();
    sched_calib cal;
    int cached = -1;
    /* the FIFO must not block: it is ignored, calibration runs and its
     * result replaces the FIFO by a regular file */
    cr_expect(sched_calibrate(ctx, &c, dir, 8, &cal, &cached) == SWACL_OK, "%s",
              swacl_ctx_errmsg(ctx));
    cr_expect(cached == 0);
    struct stat sb;
    cr_expect(stat(p, &sb) == 0 && S_ISREG(sb.st_mode));
    swacl_ctx_destroy(ctx);
    rmtree(dir);
}

Test(files, dev_zero_and_directory, .timeout = 30)
{
    char dir[64], p[256];
    mktmp(dir, sizeof dir);
    path_of(p, sizeof p, dir, "config.json");
    cr_assert(symlink("/dev/zero", p) == 0);
    EXPECT_MSG(load_msg(dir, M), SWACL_IO, "is not a regular file");
    unlink(p);
    cr_assert(mkdir(p, 0700) == 0);
    EXPECT_MSG(load_msg(dir, M), SWACL_IO, "is not a regular file");
    rmdir(p);
    path_of(p, sizeof p, dir, "ids.txt");
    cr_assert(symlink("/dev/zero", p) == 0);
    EXPECT_MSG(ids_msg(p, M), SWACL_IO, "is not a regular file");
    /* npy too */
    swacl_ctx *ctx = test_ref_ctx();
    float *x = NULL;
    int nd;
    int64_t sh[4];
    cr_expect(swacl_npy_load(ctx, p, &x, &nd, sh) == SWACL_IO);
    cr_expect(strstr(swacl_ctx_errmsg(ctx), "is not a regular file"), "%s",
              swacl_ctx_errmsg(ctx));
    swacl_ctx_destroy(ctx);
    rmtree(dir);
}

Test(files, read_bound)
{
    /* a /proc file says st_size 0: only the read bound stops it */
    uint8_t *b = NULL;
    size_t n = 0;
    char err[512];
    cr_expect(swacl_file_read_msg("/proc/self/maps", 16, &b, &n, err, sizeof err) == SWACL_IO);
    cr_expect(strstr(err, "over the limit") != NULL, "%s", err);
    cr_expect(b == NULL);
    /* a regular file over the cap is refused by its size */
    char dir[64], p[256];
    mktmp(dir, sizeof dir);
    static char big[5000];
    memset(big, ' ', sizeof big);
    put(dir, "big.json", big, sizeof big);
    path_of(p, sizeof p, dir, "big.json");
    cr_expect(swacl_file_read_msg(p, 4096, &b, &n, err, sizeof err) == SWACL_IO);
    cr_expect(strstr(err, "over the limit") != NULL, "%s", err);
    cr_expect(swacl_file_read_msg(p, 5000, &b, &n, err, sizeof err) == SWACL_OK, "%s", err);
    cr_expect(n == 5000 && b[5000] == 0);
    free(b);
    rmtree(dir);
}

Test(files, symlink_loop, .timeout = 30)
{
    char dir[64], p[256];
    mktmp(dir, sizeof dir);
    path_of(p, sizeof p, dir, "config.json");
    cr_assert(symlink("config.json", p) == 0);
    EXPECT_MSG(load_msg(dir, M), SWACL_IO, "symbolic links");
    unlink(p);
    put(dir, "config.json", LLAMA_CFG(""), strlen(LLAMA_CFG("")));
    path_of(p, sizeof p, dir, "model.safetensors");
    cr_assert(symlink("model.safetensors", p) == 0);
    char m[1024];
    cr_expect(load_msg(dir, m, sizeof m) == SWACL_IO);
    cr_expect(strstr(m, "symbolic links") && !strstr(m, "no model.safetensors"), "%s", m);
    /* the index too */
    path_of(p, sizeof p, dir, "model.safetensors.index.json");
    cr_assert(symlink("model.safetensors.index.json", p) == 0);
    cr_expect(load_msg(dir, m, sizeof m) == SWACL_IO);
    cr_expect(strstr(m, "model.safetensors.index.json") && strstr(m, "symbolic links"), "%s", m);
    /* still: nothing there at all is "no model.safetensors" */
    unlink(p);
    path_of(p, sizeof p, dir, "model.safetensors");
    unlink(p);
    EXPECT_MSG(load_msg(dir, M), SWACL_IO, "no model.safetensors");
    put(dir, "model.safetensors", k_empty_st, sizeof k_empty_st);
    EXPECT_MSG(load_msg(dir, M), SWACL_FORMAT, "missing tensor");
    rmtree(dir);
}

/* ------------------------------------------------------------------------ */
/* .npy header, ids text, config.json keys                                   */

static swacl_status npy_with(const char *dict, size_t data_bytes, char *err, size_t err_len,
                             int *nd, int64_t *sh)
{
    uint8_t img[512] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    size_t dl = strlen(dict);
    cr_assert(10 + dl + data_bytes <= sizeof img);
    img[8] = (uint8_t)dl;
    memcpy(img + 10, dict, dl);
    float *y = NULL;
    swacl_status st = swacl_npy_parse_f32(img, 10 + dl + data_bytes, "t.npy", &y, nd, sh, err,
                                          err_len);
    free(y);
    return st;
}

Test(files, npy_header_is_a_dict)
{
    char err[512];
    int nd;
    int64_t sh[4];
    /* valid spellings numpy writes or accepts */
    const char *ok[] = {"{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }\n",
                        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }     \n",
                        "{\"shape\": (2,3,), \"fortran_order\": False, \"descr\": \"<f4\"}\n",
                        "{'descr':'<f4','fortran_order':False,'shape':(1, 2, 3)}"};
    for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++)
        cr_expect(npy_with(ok[k], 24, err, sizeof err, &nd, sh) == SWACL_OK, "%s: %s", ok[k], err);
    cr_expect(npy_with(ok[1], 24, err, sizeof err, &nd, sh) == SWACL_OK && nd == 2 && sh[0] == 2 &&
              sh[1] == 3);
    /* each of these was accepted before (int32 data read as float32, a
     * shape without commas) and numpy refuses them all */
    const char *bad[] = {
        /* the 'descr': text inside another value is not the key */
        "{'x': \"'descr': '<f4'\", 'descr': '<i4', 'fortran_order': False, 'shape': (6,), }\n",
        "{'shape': (6,), 'fortran_order': False, 'descr': '<i4', 'y': \"'descr': '<f4'\"}\n",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (6), }\n",   /* int, not a tuple */
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2 3), }\n", /* syntax error */
        "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,), }\n",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'extra': 1}\n",
        "{'descr': '<f4', 'shape': (6,), }\n",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), } x\n",
        "{'descr': '<f4', 'fortran_order': Falsey, 'shape': (6,), }\n",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (06,), }\n",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,,3), }\n",
        "{'descr': '<f4' 'fortran_order': False, 'shape': (6,), }\n",
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        cr_expect(npy_with(bad[k], 24, err, sizeof err, &nd, sh) == SWACL_FORMAT, "accepted: %s",
                  bad[k]);
    cr_expect(npy_with(bad[0], 24, err, sizeof err, &nd, sh) == SWACL_FORMAT &&
              strstr(err, "unexpected key 'x'"), "%s", err);
    cr_expect(npy_with(bad[2], 24, err, sizeof err, &nd, sh) == SWACL_FORMAT &&
              strstr(err, "not a tuple"), "%s", err);
}

Test(files, ids_nul_byte)
{
    char dir[64], p[256], m[1024];
    mktmp(dir, sizeof dir);
    path_of(p, sizeof p, dir, "ids.txt");
    put(dir, "ids.txt", "1 2\n3 4\n", 8);
    cr_expect(ids_msg(p, m, sizeof m) == SWACL_OK, "%s", m);
    /* before: silently "1 2" (one row); now an error naming the offset */
    put(dir, "ids.txt", "1 2\0003 4\n", 8);
    EXPECT_MSG(ids_msg(p, M), SWACL_FORMAT, "NUL byte at offset 3");
    rmtree(dir);
}

Test(files, config_json_last_key_wins)
{
    char err[512];
    swacl_config c;
    const char *js = LLAMA_CFG(",\"num_hidden_layers\":3,\"hidden_size\":16,\"hidden_size\":8");
    cr_assert(swacl_hf_config_parse(js, strlen(js), &c, NULL, err, sizeof err) == SWACL_OK, "%s",
              err);
    cr_expect(c.n_layers == 3, "n_layers %d: the last num_hidden_layers must win", c.n_layers);
    cr_expect(c.hidden_size == 8, "hidden_size %d", c.hidden_size);
    /* nested objects too; a later valid value overrides an earlier bad one */
    js = LLAMA_CFG(",\"rope_scaling\":{\"rope_type\":\"longrope\",\"rope_type\":\"default\"}");
    cr_expect(swacl_hf_config_parse(js, strlen(js), &c, NULL, err, sizeof err) == SWACL_OK, "%s",
              err);
    js = LLAMA_CFG(",\"rope_scaling\":{\"rope_type\":\"default\",\"rope_type\":\"longrope\"}");
    cr_expect(swacl_hf_config_parse(js, strlen(js), &c, NULL, err, sizeof err) == SWACL_UNSUPPORTED,
              "%s", err);
    /* and through the loader */
    char dir[64], m[1024];
    mktmp(dir, sizeof dir);
    js = LLAMA_CFG(",\"model_type\":\"no_such_model\"");
    put(dir, "config.json", js, strlen(js));
    put(dir, "model.safetensors", k_empty_st, sizeof k_empty_st);
    cr_expect(load_msg(dir, m, sizeof m) == SWACL_UNSUPPORTED && strstr(m, "no_such_model"), "%s",
              m);
    rmtree(dir);
}

/* ------------------------------------------------------------------------ */
/* atomic save                                                               */

static void make_model(uint64_t seed, int layers, swacl_config *c, swacl_weights **w)
{
    swacl_preset_params pp = {.hidden_size = 64, .n_heads = 2, .n_layers = layers,
                              .vocab_size = 256, .window = 4};
    cr_assert(swacl_preset_ex("rnope-swa", &pp, c) == SWACL_OK);
    cr_assert(swacl_weights_create_random(c, seed, w) == SWACL_OK);
}

static swacl_status save_msg(const char *dir, const swacl_config *c, const swacl_weights *w,
                             char *msg, size_t len)
{
    swacl_ctx *ctx = test_ref_ctx();
    swacl_status st = swacl_save_hf(ctx, dir, c, w);
    snprintf(msg, len, "%s", swacl_ctx_errmsg(ctx));
    swacl_ctx_destroy(ctx);
    return st;
}

/* 1 when the model at dir is exactly (c, w) */
static int model_is(const char *dir, const swacl_config *c, const swacl_weights *w)
{
    swacl_ctx *ctx = test_ref_ctx();
    swacl_config c2;
    swacl_weights *w2 = NULL;
    int same = swacl_load_hf(ctx, dir, &c2, &w2) == SWACL_OK && memcmp(c, &c2, sizeof c2) == 0 &&
               swacl_weights_count(w) == swacl_weights_count(w2);
    for (int i = 0; same && i < w->n; i++) {
        const swacl_tensor *b = swacl_weights_find(w2, w->t[i].name);
        same = b && b->numel == w->t[i].numel &&
               memcmp(b->data, w->t[i].data, (size_t)b->numel * 4) == 0;
    }
    swacl_weights_destroy(w2);
    swacl_ctx_destroy(ctx);
    return same;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d) closedir(d);
    return n;
}

Test(files, save_write_error_keeps_old_model, .timeout = 120)
{
    char parent[64], dir[128], m[1024];
    mktmp(parent, sizeof parent);
    snprintf(dir, sizeof dir, "%s/model", parent);
    swacl_config c1, c2;
    swacl_weights *w1, *w2;
    make_model(1, 2, &c1, &w1);
    make_model(2, 4, &c2, &w2);
    cr_assert(save_msg(dir, &c1, w1, m, sizeof m) == SWACL_OK, "%s", m);
    put(dir, "tokenizer.json", "{\"keep\":1}", 10);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        /* the new model.safetensors (~1 MB) hits a 64 KiB file size limit */
        struct rlimit rl = {64 << 10, 64 << 10};
        signal(SIGXFSZ, SIG_IGN);
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(3);
        swacl_status st = save_msg(dir, &c2, w2, m, sizeof m);
        if (st == SWACL_OK) _exit(1);
        fprintf(stderr, "expected failure: %s\n", m);
        _exit(st == SWACL_IO && strstr(m, "File too large") && strstr(m, "model.safetensors") ? 0
                                                                                              : 2);
    }
    int ws = 0;
    cr_assert(waitpid(pid, &ws, 0) == pid);
    cr_expect(WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
              "child: the save must fail with SWACL_IO and \"File too large\" (status %d)", ws);
    cr_expect(model_is(dir, &c1, w1), "the old model must survive a failed save bit-exactly");
    cr_expect(count_entries(parent) == 1, "stray files next to the model after a failed save");
    cr_expect(count_entries(dir) == 3, "the model directory gained or lost files");
    /* the same save without the limit replaces the model and keeps the rest */
    cr_assert(save_msg(dir, &c2, w2, m, sizeof m) == SWACL_OK, "%s", m);
    cr_expect(model_is(dir, &c2, w2));
    char p[256], buf[32] = "";
    path_of(p, sizeof p, dir, "tokenizer.json");
    FILE *f = fopen(p, "rb");
    cr_expect(f && fread(buf, 1, sizeof buf, f) == 10 && memcmp(buf, "{\"keep\":1}", 10) == 0,
              "tokenizer.json must survive a save over its directory");
    if (f) fclose(f);
    cr_expect(count_entries(parent) == 1);
    swacl_weights_destroy(w1);
    swacl_weights_destroy(w2);
    rmtree(parent);
}

Test(files, save_killed_leaves_old_or_new, .timeout = 600)
{
    char parent[64], dir[128], m[1024];
    mktmp(parent, sizeof parent);
    snprintf(dir, sizeof dir, "%s/model", parent);
    swacl_config c[2];
    swacl_weights *w[2];
    make_model(11, 2, &c[0], &w[0]);
    make_model(12, 12, &c[1], &w[1]); /* ~3 MB: a save takes a while */
    cr_assert(save_msg(dir, &c[0], w[0], m, sizeof m) == SWACL_OK, "%s", m);
    int cur = 0, seen_new = 0, seen_old = 0;
    for (int k = 0; k < 12; k++) {
        int next = 1 - cur;
        pid_t pid = fork();
        cr_assert(pid >= 0);
        if (pid == 0) _exit(save_msg(dir, &c[next], w[next], m, sizeof m) == SWACL_OK ? 0 : 1);
        struct timespec ts = {0, (long)k * 20000000L + 500000L}; /* 0.5 .. 220 ms */
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int ws;
        cr_assert(waitpid(pid, &ws, 0) == pid);
        int is_old = model_is(dir, &c[cur], w[cur]), is_new = model_is(dir, &c[next], w[next]);
        cr_assert(is_old || is_new, "kill %d: the directory holds neither model", k);
        if (is_new) cur = next;
        seen_new += is_new;
        seen_old += is_old;
    }
    /* the next save sweeps the work directories of the killed ones */
    cr_assert(save_msg(dir, &c[0], w[0], m, sizeof m) == SWACL_OK, "%s", m);
    cr_expect(model_is(dir, &c[0], w[0]));
    cr_expect(count_entries(parent) == 1, "%d entries: killed saves' directories not swept",
              count_entries(parent));
    cr_log_info("kills: old model kept %d times, new model in place %d times", seen_old, seen_new);
    swacl_weights_destroy(w[0]);
    swacl_weights_destroy(w[1]);
    rmtree(parent);
}

Test(files, save_refuses_non_directory)
{
    char parent[64], p[128], m[1024];
    mktmp(parent, sizeof parent);
    swacl_config c;
    swacl_weights *w;
    make_model(1, 2, &c, &w);
    put(parent, "file", "x", 1);
    path_of(p, sizeof p, parent, "file");
    EXPECT_MSG(save_msg(p, &c, w, M), SWACL_IO, "not a directory");
    /* a subdirectory in the destination cannot be carried atomically */
    path_of(p, sizeof p, parent, "m");
    cr_assert(save_msg(p, &c, w, m, sizeof m) == SWACL_OK, "%s", m);
    char sub[256];
    path_of(sub, sizeof sub, p, "sub");
    cr_assert(mkdir(sub, 0700) == 0);
    EXPECT_MSG(save_msg(p, &c, w, M), SWACL_IO, "not a file");
    cr_expect(model_is(p, &c, w));
    cr_expect(count_entries(parent) == 2);
    swacl_weights_destroy(w);
    rmtree(parent);
}
