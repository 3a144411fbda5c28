#!/usr/bin/env python3
"""make_gguf_fixtures.py - GGUF files written by llama.cpp's own converter
(convert_hf_to_gguf.py) from swacl's tiny transformers fixtures, for
tests/test_gguf.c.

For each fixture (tests/fixtures/<arch>: config.json + model.safetensors)
this copies the checkpoint to a scratch directory, adds a tiny SentencePiece
tokenizer.model (the converter refuses a model directory without a
tokenizer; the fixtures have none; its pieces are irrelevant to the logits),
and runs the converter once per --outtype, writing
tests/fixtures/gguf/<arch>-<outtype>.gguf. test_gguf.c loads each one and
compares its logits with the safetensors run (f32) and with transformers'
logits.npy (f16, bf16, q8_0: the issue's accuracy bars).

The converter comes from the llama-cpp-python sdist, which vendors
llama.cpp's source (nothing of it is committed):
    pip download --no-deps --no-binary :all: llama-cpp-python
    tar xzf llama_cpp_python-*.tar.gz -C .peer
    pip install sentencepiece 'protobuf<5' requests   # the converter's deps

usage: python3 tools/make_gguf_fixtures.py --llama-cpp .peer/llama_cpp_python-X/vendor/llama.cpp
           [--fixtures tests/fixtures] [--out tests/fixtures/gguf]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

# arch -> outtypes. llama (stored BF16): every type the converter writes
# that swacl loads; mistral (stored F16; llama arch in GGUF, which carries
# no sliding window): two, to keep the files small.
FIXTURES = {
    "llama": ["f32", "f16", "bf16", "q8_0"],
    "mistral": ["f16", "q8_0"],
}

TEXT = ("the quick brown fox jumps over the lazy dog while swacl loads tiny models "
        "from gguf files written by the llama converter and checks every logit ")


def make_tokenizer(dirname, vocab):
    import sentencepiece as spm
    corpus = os.path.join(dirname, "corpus.txt")
    with open(corpus, "w") as f:
        for i in range(200):
            f.write(TEXT[i % 50:] + TEXT[:i % 50] + "\n")
    spm.SentencePieceTrainer.train(input=corpus, model_prefix=os.path.join(dirname, "tokenizer"),
                                   vocab_size=vocab, model_type="bpe", character_coverage=1.0,
                                   minloglevel=2, hard_vocab_limit=False)
    os.remove(corpus)
    os.remove(os.path.join(dirname, "tokenizer.vocab"))


def fuzz_seeds(llama_cpp, out):
    """Small (< 16 KB, fuzz.sh's -max_len) GGUF seeds for tests/fuzz/corpus_gguf,
    written with llama.cpp's gguf-py: mixed F32/F16/Q8_0/Q4_0 tensors."""
    sys.path.insert(0, os.path.join(llama_cpp, "gguf-py"))
    import numpy as np
    import gguf
    from gguf import quants
    os.makedirs(out, exist_ok=True)
    def write(path, arch, extra):
        w = gguf.GGUFWriter(path, arch)
        D, F, H = 32, 32, 2
        w.add_block_count(1); w.add_embedding_length(D); w.add_feed_forward_length(F)
        w.add_head_count(H); w.add_head_count_kv(1); w.add_layer_norm_rms_eps(1e-6); w.add_rope_freq_base(10000.0)
        extra(w)
        rng = np.random.default_rng(0)
        def t(name, shape, qt):
            x = rng.standard_normal(shape).astype(np.float32)
            if qt in (gguf.GGMLQuantizationType.Q8_0, gguf.GGMLQuantizationType.Q4_0):
                w.add_tensor(name, quants.quantize(x, qt), raw_dtype=qt)
            elif qt == gguf.GGMLQuantizationType.F16:
                w.add_tensor(name, x.astype(np.float16))
            else:
                w.add_tensor(name, x)
        Q = gguf.GGMLQuantizationType
        t("token_embd.weight", (16, D), Q.Q8_0)
        t("blk.0.attn_norm.weight", (D,), Q.F32)
        t("blk.0.attn_q.weight", (D, D), Q.Q4_0)
        t("blk.0.attn_k.weight", (D // 2, D), Q.F16)
        t("blk.0.attn_v.weight", (D // 2, D), Q.Q8_0)
        t("blk.0.attn_output.weight", (D, D), Q.F32)
        t("blk.0.ffn_norm.weight", (D,), Q.F32)
        t("blk.0.ffn_gate.weight", (F, D), Q.Q4_0)
        t("blk.0.ffn_up.weight", (F, D), Q.Q8_0)
        t("blk.0.ffn_down.weight", (D, F), Q.F16)
        t("output_norm.weight", (D,), Q.F32)
        w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    write(os.path.join(out, 'tiny_llama_mixed.gguf'), 'llama', lambda w: w.add_tokenizer_model("llama"))
    write(os.path.join(out, 'tiny_gemma2_swa.gguf'), 'gemma2', lambda w: (w.add_sliding_window(4), w.add_attn_logit_softcapping(50.0), w.add_final_logit_softcapping(30.0)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-cpp", required=True, help="llama.cpp source tree (vendored in the sdist)")
    ap.add_argument("--fixtures", default="tests/fixtures")
    ap.add_argument("--out", default="tests/fixtures/gguf")
    ap.add_argument("--fuzz-seeds", default="tests/fuzz/corpus_gguf")
    a = ap.parse_args()
    fuzz_seeds(a.llama_cpp, a.fuzz_seeds)
    conv = os.path.join(a.llama_cpp, "convert_hf_to_gguf.py")
    os.makedirs(a.out, exist_ok=True)
    for arch, types in FIXTURES.items():
        src = os.path.join(a.fixtures, arch)
        with open(os.path.join(src, "config.json")) as f:
            vocab = json.load(f)["vocab_size"]
        with tempfile.TemporaryDirectory() as tmp:
            for name in ("config.json", "model.safetensors"):
                shutil.copy(os.path.join(src, name), tmp)
            make_tokenizer(tmp, vocab - 28)  # the converter pads the rest with [PADn]
            for t in types:
                out = os.path.join(a.out, f"{arch}-{t}.gguf")
                subprocess.run([sys.executable, conv, tmp, "--outtype", t, "--outfile", out],
                               check=True, stdout=subprocess.DEVNULL)
                print(f"{out}: {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()
