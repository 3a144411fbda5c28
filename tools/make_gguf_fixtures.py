#!/usr/bin/env python3
"""make_gguf_fixtures.py - GGUF files written by llama.cpp's own converter
(convert_hf_to_gguf.py) from swacl's tiny transformers fixtures, for
tests/test_gguf.c.

For each fixture (tests/fixtures/<arch>: config.json + model.safetensors)
this copies the checkpoint to a scratch directory, adds a tiny SentencePiece
tokenizer.model (the converter refuses a model directory without a
tokenizer; the fixtures have none; its pieces are irrelevant to the logits),
and runs the converter once per --outtype, writing
tests/fixtures/gguf/<arch>-<outtype>.gguf. Families swacl has no
safetensors fixture for (qwen2, qwen3, gemma2, gemma3) are built here with
transformers (bf16 weights, fp32 eager logits -> <arch>.ids.txt,
<arch>.logits.npy) and converted with --outtype bf16. test_gguf.c loads
each file and compares its logits with the safetensors run and with
transformers' logits. Also writes the fuzz seeds tests/fuzz/corpus_gguf/.

The converter runs with its SentencePiece vocab path forced (families whose
converter wants a BPE tokenizer.json refuse one with an unknown
pre-tokenizer); the vocabulary is not read by swacl. Made with
llama-cpp-python 0.3.36's vendored llama.cpp, torch 2.15, transformers 5.23.

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

# arch -> outtypes. llama (stored BF16): f32, bf16, q8_0; mistral (stored F16; llama arch in GGUF, which carries
# no sliding window): two, to keep the files small.
FIXTURES = {
    "llama": ["f32", "bf16", "q8_0"],  # F16: mistral, cohere2
    "mistral": ["f16", "q8_0"],
    "cohere2": ["f16"],  # stored F32: f16 vs transformers' logits.npy
    # HF fixtures of the gemma mappers (hf_gemma.c): config and q8_0 logits
    # vs the safetensors run (gemma3_text: linear RoPE scaling on the global
    # layer, its own sliding-layer theta)
    "gemma2": ["q8_0"],
    "gemma3_text": ["q8_0"],
}

# Families with no safetensors fixture in tests/fixtures: tiny models built
# here with transformers (weights as tools/make_fixtures.py draws them,
# rounded to BF16, fp32 eager reference), converted with --outtype bf16 (the
# stored weights exactly); committed: <arch>-bf16.gguf, <arch>.ids.txt,
# <arch>.logits.npy. D 32, 2 heads of 16 so the files stay ~100 KB.
T, B, V = 24, 2, 128


def new_configs():
    from transformers import Gemma2Config, Gemma3TextConfig, Qwen2Config, Qwen3Config
    base = dict(vocab_size=V, hidden_size=32, intermediate_size=32, num_attention_heads=2,
                num_key_value_heads=1, head_dim=16, max_position_embeddings=256,
                pad_token_id=0, bos_token_id=1, eos_token_id=2, rms_norm_eps=1e-6)
    return {
        # q/k/v biases, no o bias
        "qwen2": Qwen2Config(**base, num_hidden_layers=2, tie_word_embeddings=False),
        # per-head QK RMS norm
        "qwen3": Qwen3Config(**base, num_hidden_layers=2, tie_word_embeddings=False),
        # sliding window 5 on layers 0, 2; soft-capping 50 / 30 binds at O(1) weights
        "gemma2": Gemma2Config(**base, num_hidden_layers=4, sliding_window=5,
                               query_pre_attn_scalar=16, attn_logit_softcapping=50.0,
                               final_logit_softcapping=30.0),
        # 5 sliding (W 5, theta 1e4) + 1 global (theta 1e6) layers; QK norm
        "gemma3": Gemma3TextConfig(**base, num_hidden_layers=6, sliding_window=5,
                                   query_pre_attn_scalar=16),
    }


def build_new(arch, cfg, tmp, gguf_dir, seed):
    import numpy as np
    import torch
    from transformers import AutoModelForCausalLM
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from make_fixtures import reinit
    gen = torch.Generator().manual_seed(seed)
    model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager").float().eval()
    reinit(model, gen)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(torch.bfloat16).float())
    ids = torch.randint(0, V, (B, T), generator=gen)
    with torch.no_grad():
        logits = model(input_ids=ids).logits.float().numpy()
    model.to(torch.bfloat16).save_pretrained(tmp, safe_serialization=True)
    with open(os.path.join(gguf_dir, f"{arch}.ids.txt"), "w") as fh:
        for row in ids.tolist():
            fh.write(" ".join(str(x) for x in row) + "\n")
    np.save(os.path.join(gguf_dir, f"{arch}.logits.npy"), logits.astype(np.float32))


# The converter reads a BPE tokenizer.json for some families and refuses one
# whose pre-tokenizer it does not know; the vocabulary never reaches swacl,
# so those run with the SentencePiece vocab path.
WRAP = """import sys
sys.path.insert(0, sys.argv.pop(1))
import convert_hf_to_gguf as c
from conversion.base import TextModel
TextModel.set_vocab = lambda self: self._set_vocab_sentencepiece()
c.main()
"""


def convert(llama_cpp, model_dir, outtype, out):
    subprocess.run([sys.executable, "-c", WRAP, os.path.abspath(llama_cpp), model_dir,
                    "--outtype", outtype, "--outfile", out, "--model-name",
                    os.path.basename(out).split(".")[0]], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    print(f"{out}: {os.path.getsize(out)} bytes")

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
    ap.add_argument("--quantize", help="llama.cpp's llama-quantize binary: also write "
                    "llama-q4_0.gguf (--pure Q4_0 of llama-f32.gguf); the converter writes no Q4_0")
    a = ap.parse_args()
    fuzz_seeds(a.llama_cpp, a.fuzz_seeds)
    os.makedirs(a.out, exist_ok=True)
    for arch, types in FIXTURES.items():
        src = os.path.join(a.fixtures, arch)
        with open(os.path.join(src, "config.json")) as f:
            vocab = json.load(f)["vocab_size"]
        with tempfile.TemporaryDirectory() as tmp:
            for name in ("config.json", "model.safetensors"):
                shutil.copy(os.path.join(src, name), tmp)
            if arch == "cohere2":  # the converter reads rotary_pct (CohereForAI's configs carry it)
                cfg = json.load(open(os.path.join(tmp, "config.json")))
                cfg.setdefault("rotary_pct", 1.0)
                json.dump(cfg, open(os.path.join(tmp, "config.json"), "w"), indent=2)
            make_tokenizer(tmp, vocab - 28)  # the converter pads the rest with [PADn]
            for t in types:
                convert(a.llama_cpp, tmp, t, os.path.join(a.out, f"{arch}-{t}.gguf"))
    for i, (arch, cfg) in enumerate(new_configs().items()):
        with tempfile.TemporaryDirectory() as tmp:
            build_new(arch, cfg, tmp, a.out, 2000 + i)
            make_tokenizer(tmp, V - 28)
            convert(a.llama_cpp, tmp, "bf16", os.path.join(a.out, f"{arch}-bf16.gguf"))
    if a.quantize:
        out = os.path.join(a.out, "llama-q4_0.gguf")
        subprocess.run([a.quantize, "--pure", os.path.join(a.out, "llama-f32.gguf"), out, "Q4_0"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(f"{out}: {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()
