#!/usr/bin/env python3
"""make_bench_model.py - the 168M-parameter Cohere2 bench model of issues 11/12.

    tools/make_bench_model.py --llama-cpp SRC [--out DIR] [--types f32,f16,bf16,q8_0,q4_0] [--reuse]

Writes, under DIR (default /work/models):
  c168/            random Cohere2 (hidden 1024, 12 layers = 3 x [3 SWA-RoPE W=512 + 1 global
                   NoPE], 8 heads / 2 KV heads, head_dim 128, FFN 2816, vocab 32000, tied
                   embeddings), bf16 safetensors + config.json + a SentencePiece tokenizer
  c168-global/     the same weights with every layer global (the all-global baseline)
  c168-TYPE.gguf   llama.cpp's convert_hf_to_gguf.py (f32, f16, bf16, q8_0) and llama-quantize
                   --pure (q4_0, from the f32 file; SRC/../../../llama-build or LLAMA_BUILD)
Parameters: 32.8M embedding + 12 x 11.27M = 168.1M. Weights are N(0, 1/fan_in) so
activations keep their scale through the layers; norms are 1. Needs torch, transformers,
sentencepiece (tools only: building and testing swacl never needs Python).

llama.cpp's converter reads Cohere2's vocabulary as a GPT-2 BPE tokenizer.json with a known
pre-tokenizer hash; a random model has none, so the converter is run with Cohere2's set_vocab
pointed at its SentencePiece reader (the vocabulary is padded to 32000 either way).
"""
import argparse
import json
import os
import runpy
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def make_hf(out):
    import torch
    from transformers import Cohere2Config, AutoModelForCausalLM
    sys.path.insert(0, HERE)
    from make_gguf_fixtures import make_tokenizer
    layers = 12
    types = ["full_attention" if (i + 1) % 4 == 0 else "sliding_attention" for i in range(layers)]
    cfg = Cohere2Config(vocab_size=32000, hidden_size=1024, intermediate_size=2816,
                        num_hidden_layers=layers, num_attention_heads=8, num_key_value_heads=2,
                        head_dim=128, sliding_window=512, layer_types=types,
                        max_position_embeddings=16384, tie_word_embeddings=True,
                        bos_token_id=1, eos_token_id=2, pad_token_id=0)
    torch.manual_seed(0)
    m = AutoModelForCausalLM.from_config(cfg).to(torch.bfloat16)
    with torch.no_grad():
        for n, p in m.named_parameters():
            if "norm" not in n:
                p.copy_((torch.randn(p.shape) / p.shape[-1] ** 0.5).to(torch.bfloat16))
    print("parameters: %.1fM" % (sum(p.numel() for p in m.parameters()) / 1e6))
    hf = os.path.join(out, "c168")
    m.save_pretrained(hf, safe_serialization=True)
    make_tokenizer(hf, 8000)
    with open(os.path.join(hf, "config.json")) as f:
        c = json.load(f)
    c["rotary_pct"] = 1.0  # read by llama.cpp's converter (rope dimension count)
    with open(os.path.join(hf, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
    glob = os.path.join(out, "c168-global")
    os.makedirs(glob, exist_ok=True)
    for name in os.listdir(hf):
        dst = os.path.join(glob, name)
        if os.path.lexists(dst):
            os.remove(dst)
        if name == "config.json":
            g = dict(c, layer_types=["full_attention"] * layers)
            with open(dst, "w") as f:
                json.dump(g, f, indent=2)
        else:
            os.symlink(os.path.join(hf, name), dst)
    return hf


def convert(src, hf, outfile, outtype):
    sys.path.insert(0, src)
    sys.path.insert(0, os.path.join(src, "gguf-py"))
    import conversion.command_r as cr
    cr.Cohere2Model.set_vocab = lambda self: self._set_vocab_sentencepiece()
    argv = sys.argv
    sys.argv = ["convert_hf_to_gguf.py", hf, "--outtype", outtype, "--outfile", outfile]
    try:
        runpy.run_path(os.path.join(src, "convert_hf_to_gguf.py"), run_name="__main__")
    except SystemExit as e:
        if e.code not in (None, 0):
            raise
    finally:
        sys.argv = argv


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llama-cpp", required=True, help="llama.cpp source (vendor/llama.cpp)")
    ap.add_argument("--out", default="/work/models")
    ap.add_argument("--types", default="f32,f16,bf16,q8_0,q4_0")
    ap.add_argument("--reuse", action="store_true", help="keep an existing DIR/c168")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    hf = os.path.join(a.out, "c168")
    if not (a.reuse and os.path.exists(os.path.join(hf, "config.json"))):
        hf = make_hf(a.out)
    types = a.types.split(",")
    for t in types:
        if t == "q4_0":
            continue
        # one converter run per process: the converter keeps module state
        subprocess.check_call([sys.executable, __file__, "--convert-one", a.llama_cpp, hf,
                               os.path.join(a.out, "c168-%s.gguf" % t), t])
    if "q4_0" in types:
        build = os.environ.get("LLAMA_BUILD",
                               os.path.join(a.llama_cpp, "..", "..", "..", "llama-build"))
        q = os.path.join(build, "bin", "llama-quantize")
        f32 = os.path.join(a.out, "c168-f32.gguf")
        if not os.path.exists(f32):
            convert(a.llama_cpp, hf, f32, "f32")
        subprocess.check_call([q, "--pure", f32, os.path.join(a.out, "c168-q4_0.gguf"), "Q4_0"],
                              stdout=subprocess.DEVNULL)
    for t in types:
        p = os.path.join(a.out, "c168-%s.gguf" % t)
        print("wrote %s (%.1f MB)" % (p, os.path.getsize(p) / 1e6))


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--convert-one":
        convert(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    else:
        main()
