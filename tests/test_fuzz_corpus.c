/*
 * test_fuzz_corpus.c - every libFuzzer target's entry function over its
 * checked-in seed corpus, in the normal build (no clang, no sanitizers
 * needed): a seed that crashes, or trips a target's own abort() invariant,
 * fails here before anyone runs tools/fuzz.sh. The targets are included
 * with their entry point renamed, so one executable holds all five.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LLVMFuzzerTestOneInput fuzz_safetensors_one
#include "fuzz/fuzz_safetensors.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_pcache_one
#include "fuzz/fuzz_pcache.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_tune_one
#include "fuzz/fuzz_tune.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_calib_one
#include "fuzz/fuzz_calib.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_tokenizer_one
#include "fuzz/fuzz_tokenizer.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fuzz_gguf_one
#include "fuzz/fuzz_gguf.c"
#undef LLVMFuzzerTestOneInput
#include "common/file.h"

/* Feed every file of tests/fuzz/<corpus>/ to one; returns how many. */
static int run_corpus(const char *corpus, int (*one)(const uint8_t *, size_t))
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/fuzz/%s", SWACL_SOURCE_DIR, corpus);
    DIR *d = opendir(dir);
    cr_assert(d != NULL, "cannot open %s", dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.') continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        cr_assert(f != NULL, "cannot open %s", path);
        cr_assert_eq(fseek(f, 0, SEEK_END), 0);
        long len = ftell(f);
        cr_assert(len >= 0 && len < (1L << 24), "%s: size %ld", path, len);
        rewind(f);
        uint8_t *buf = malloc((size_t)len + 1);
        cr_assert(buf != NULL);
        cr_assert_eq(fread(buf, 1, (size_t)len, f), (size_t)len, "%s: short read", path);
        fclose(f);
        cr_expect_eq(one(buf, (size_t)len), 0, "%s", path);
        free(buf);
        n++;
    }
    closedir(d);
    return n;
}

Test(fuzz_corpus, safetensors_config_npy_ids)
{
    cr_expect_gt(run_corpus("corpus", fuzz_safetensors_one), 0, "empty seed corpus");
}

Test(fuzz_corpus, program_cache)
{
    cr_expect_gt(run_corpus("corpus_pcache", fuzz_pcache_one), 0, "empty seed corpus");
}

Test(fuzz_corpus, tune_file)
{
    cr_expect_gt(run_corpus("corpus_tune", fuzz_tune_one), 0, "empty seed corpus");
}

Test(fuzz_corpus, gguf)
{
    cr_expect_gt(run_corpus("corpus_gguf", fuzz_gguf_one), 0, "empty seed corpus");
    /* the seeds are accepted by the parser and the metadata mapping */
    const char *seeds[] = {"tiny_llama_mixed.gguf", "tiny_gemma2_swa.gguf"};
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        char path[1024], err[512];
        snprintf(path, sizeof path, "%s/tests/fuzz/corpus_gguf/%s", SWACL_SOURCE_DIR, seeds[i]);
        swacl_file_map m;
        cr_assert(swacl_file_map_open(path, &m, err, sizeof err) == SWACL_OK, "%s", err);
        swacl_gguf_file f;
        cr_assert(swacl_gguf_parse(m.map, m.len, path, &f, err, sizeof err) == SWACL_OK, "%s", err);
        swacl_config c;
        int permute;
        cr_expect(swacl_gguf_config(&f, &c, &permute, err, sizeof err) == SWACL_OK, "%s", err);
        swacl_gguf_free(&f);
        swacl_file_map_close(&m);
    }
}

Test(fuzz_corpus, calibration_cache)
{
    cr_expect_gt(run_corpus("corpus_calib", fuzz_calib_one), 0, "empty seed corpus");
}

Test(fuzz_corpus, tokenizer_json)
{
    cr_expect_gt(run_corpus("corpus_tok", fuzz_tokenizer_one), 0, "empty seed corpus");
    /* the three full seeds parse (the two bad_* ones are refused) */
    const char *ok[] = {"bytelevel.bin", "spm.bin", "misc.bin"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char path[1024], err[512];
        snprintf(path, sizeof path, "%s/tests/fuzz/corpus_tok/%s", SWACL_SOURCE_DIR, ok[i]);
        FILE *f = fopen(path, "rb");
        cr_assert(f != NULL, "%s", path);
        char text[8192];
        size_t n = fread(text, 1, sizeof text, f);
        fclose(f);
        const char *nul = memchr(text, 0, n);
        tk_tokenizer *t = NULL;
        cr_expect_eq(tk_parse(text, nul ? (size_t)(nul - text) : n, &t, err, sizeof err), 0, "%s: %s",
                     ok[i], err);
        tk_free(t);
    }
}

/* The seeds are valid files: each parser must accept its own kind (a seed
 * rejected before the interesting code only fuzzes the front door). */
Test(fuzz_corpus, seeds_are_accepted)
{
    char why[256], path[1024];
    const char *tune[] = {"tune_gemmk1.json", "tune_pocl_default.json", "tune_other_device.json"};
    for (size_t i = 0; i < sizeof tune / sizeof tune[0]; i++) {
        snprintf(path, sizeof path, "%s/tests/fuzz/corpus_tune/%s", SWACL_SOURCE_DIR, tune[i]);
        FILE *f = fopen(path, "rb");
        cr_assert(f != NULL, "%s", path);
        char text[8192];
        size_t n = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[n] = '\0';
        swacl_tune_params p;
        cr_expect_eq(swacl_tune_parse_text(NULL, text, &p, why, sizeof why), 0, "%s: %s",
                     tune[i], why);
    }
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus_calib/calib_two_devices.json",
             SWACL_SOURCE_DIR);
    FILE *f = fopen(path, "rb");
    cr_assert(f != NULL, "%s", path);
    char text[8192];
    size_t n = fread(text, 1, sizeof text, f);
    fclose(f);
    cJSON *j = sched_calib_parse(text, n);
    cr_assert(j != NULL, "calibration seed not parsed");
    sched_calib cal;
    cr_expect_eq(sched_calib_entry(j, "cpu-reference|D256 H4 Hkv4 d64 F1024 ffn1|w1:128:0|"
                                      "g1:128:0|T64", &cal), 0);
    cr_expect_gt(cal.window_s, 0);
    cJSON_Delete(j);
}
