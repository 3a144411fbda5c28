#!/usr/bin/env python3
"""make_fixtures.py - tiny Hugging Face reference models for swacl's loader tests.

For each architecture swacl loads (cohere2, smollm3, llama4_text dense,
mistral, llama) this builds a tiny randomly initialised model with
transformers itself (fp32, attn_implementation="eager"), saves it with
save_pretrained under tests/fixtures/<arch>/ and writes:

  config.json, model.safetensors   the checkpoint (llama stored as BF16,
                                   mistral as F16, the rest F32)
  ids.txt                          2 sequences of T token ids, one per line
  logits.npy                       transformers' logits, float32 [2, T, V]

Sequences are longer than every window / chunk / floor_scale so that the
sliding windows, Llama 4 chunks and the temperature rule all bind. Weights
are re-drawn with O(1) scales (HF's 0.02-std init gives near-constant
logits, which would make the comparison meaningless). For the BF16/F16
fixtures the fp32 reference runs on the rounded weights, so the stored
file and the reference agree exactly.

usage: python3 tools/make_fixtures.py [--out tests/fixtures]
"""
import argparse
import json
import os
import platform
import sys

import numpy as np
import safetensors
import torch
import transformers
from transformers import (
    AutoModelForCausalLM,
    Cohere2Config,
    Llama4TextConfig,
    LlamaConfig,
    MistralConfig,
    SmolLM3Config,
)
from transformers.models.llama4.modeling_llama4 import Llama4ForCausalLM

T = 24       # tokens per sequence (> every window/chunk below)
B = 2
V = 128      # vocabulary
D = 64       # hidden; 2 heads -> head_dim 32 (an OpenCL-path head size)
F = 64       # FFN width


def common(**kw):
    base = dict(vocab_size=V, hidden_size=D, intermediate_size=F, num_attention_heads=2,
                num_key_value_heads=1, max_position_embeddings=256,
                pad_token_id=0, bos_token_id=1, eos_token_id=2)
    base.update(kw)
    return base


def configs():
    return {
        # 3 sliding (W=5, RoPE) + 1 global NoPE; parallel block; logit_scale.
        "cohere2": (Cohere2Config(**common(num_hidden_layers=4, sliding_window=5,
                                           logit_scale=0.25, layer_norm_eps=1e-5)),
                    None, torch.float32),
        # RoPE on layers 0,1,2; NoPE on 3 (no_rope_layer_interval 4), tied.
        "smollm3": (SmolLM3Config(**common(num_hidden_layers=4, rms_norm_eps=1e-6)),
                    None, torch.float32),
        # dense Llama 4: chunk 8 + QK-norm on RoPE layers, temperature on
        # the NoPE layer with floor_scale 4 so positions >= 3 are scaled.
        "llama4_text": (Llama4TextConfig(**common(num_hidden_layers=4, head_dim=32,
                                                  intermediate_size=F, intermediate_size_mlp=F,
                                                  moe_layers=[], attention_chunk_size=8,
                                                  floor_scale=4, attn_scale=0.25,
                                                  attn_temperature_tuning=True, use_qk_norm=True,
                                                  tie_word_embeddings=False)),
                        Llama4ForCausalLM, torch.float32),
        # every layer sliding, W = 6; stored as F16.
        "mistral": (MistralConfig(**common(num_hidden_layers=3, sliding_window=6)),
                    None, torch.float16),
        # baseline; stored as BF16.
        "llama": (LlamaConfig(**common(num_hidden_layers=3)), None, torch.bfloat16),
    }


def reinit(model, gen):
    """O(1)-scaled deterministic weights (see module docstring)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name and name.endswith("weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=gen))
            elif name.endswith("bias"):
                p.copy_(0.05 * torch.randn(p.shape, generator=gen))
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=gen))
            else:
                p.copy_(torch.randn(p.shape, generator=gen) / (p.shape[-1] ** 0.5))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures"))
    args = ap.parse_args()
    torch.manual_seed(0)
    out_root = os.path.abspath(args.out)
    os.makedirs(out_root, exist_ok=True)
    for i, (arch, (cfg, cls, store_dtype)) in enumerate(configs().items()):
        cfg._attn_implementation = "eager"
        gen = torch.Generator().manual_seed(1000 + i)
        model = (cls(cfg) if cls else AutoModelForCausalLM.from_config(cfg, attn_implementation="eager"))
        model = model.float().eval()
        if cls:
            model.config._attn_implementation = "eager"
        reinit(model, gen)
        if store_dtype != torch.float32:  # round the weights, reference runs on them
            with torch.no_grad():
                for p in model.parameters():
                    p.copy_(p.to(store_dtype).float())
        ids = torch.randint(0, V, (B, T), generator=gen)
        with torch.no_grad():
            logits = model(input_ids=ids).logits.float().numpy()
        d = os.path.join(out_root, arch)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            os.remove(os.path.join(d, f))
        model.to(store_dtype).save_pretrained(d, safe_serialization=True)
        for f in os.listdir(d):  # keep only what the tests read
            if f not in ("config.json", "model.safetensors"):
                os.remove(os.path.join(d, f))
        with open(os.path.join(d, "ids.txt"), "w") as fh:
            for row in ids.tolist():
                fh.write(" ".join(str(x) for x in row) + "\n")
        np.save(os.path.join(d, "logits.npy"), logits.astype(np.float32))
        print(f"{arch}: logits {logits.shape}, |logits| max {np.abs(logits).max():.3f}, "
              f"stored {store_dtype}")

    readme = os.path.join(out_root, "README.md")
    with open(readme, "w") as fh:
        fh.write("# Loader test fixtures\n\n"
                 "Tiny randomly initialised Hugging Face models, one directory per architecture, "
                 "built by transformers itself and checked by `tests/test_loader.c` "
                 "(swacl's logits vs `logits.npy`).\n\n"
                 "Regenerate (deterministic seeds) from the repository root:\n\n"
                 "```\npip install torch transformers safetensors numpy\n"
                 "python3 tools/make_fixtures.py --out tests/fixtures\n```\n\n"
                 "Generated with:\n\n"
                 f"- python {platform.python_version()}\n"
                 f"- torch {torch.__version__}\n"
                 f"- transformers {transformers.__version__}\n"
                 f"- safetensors {safetensors.__version__}\n"
                 f"- numpy {np.__version__}\n\n"
                 "Each directory: `config.json`, `model.safetensors` (llama in BF16, mistral in F16, "
                 "others F32), `ids.txt` (2 sequences of "
                 f"{T} ids), `logits.npy` (float32 [2, {T}, {V}], fp32 eager attention).\n\n"
                 "| arch | layers | what binds at T = 24 |\n|---|---|---|\n"
                 "| cohere2 | 4 | sliding window 5 (RoPE pair) on layers 0-2, global NoPE layer 3, parallel block, logit_scale 0.25, tied |\n"
                 "| smollm3 | 4 | RoPE (half) layers 0-2, NoPE layer 3, tied |\n"
                 "| llama4_text | 4 | chunk 8 + QK-norm (RoPE pair) layers 0-2; NoPE layer 3 with temperature floor_scale 4, attn_scale 0.25; untied, dense FFN |\n"
                 "| mistral | 3 | sliding window 6 on every layer (F16 weights) |\n"
                 "| llama | 3 | global RoPE baseline (BF16 weights) |\n")
    print("wrote", readme)


if __name__ == "__main__":
    sys.exit(main())
