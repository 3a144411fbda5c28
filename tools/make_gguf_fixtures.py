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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-cpp", required=True, help="llama.cpp source tree (vendored in the sdist)")
    ap.add_argument("--fixtures", default="tests/fixtures")
    ap.add_argument("--out", default="tests/fixtures/gguf")
    a = ap.parse_args()
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
