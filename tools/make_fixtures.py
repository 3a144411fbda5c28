#!/usr/bin/env python3
"""make_fixtures.py - tiny Hugging Face reference models for swacl's loader tests.

For each architecture swacl loads this builds a tiny randomly initialised
model with transformers itself (fp32, attn_implementation="eager"), saves it
with save_pretrained under tests/fixtures/<name>/ and writes:

  config.json, model.safetensors   the checkpoint (llama stored as BF16,
                                   mistral as F16, the rest F32)
  ids.txt                          B sequences of T token ids, one per line
  logits.npy                       transformers' prefill logits, f32 [B, T, V]
  decode_logits.npy                transformers' incremental decode with
                                   past_key_values: prefill T - K tokens, then
                                   K single-token steps; f32 [B, K, V], K = 4
  greedy.txt                       generate(do_sample=False) from ids.txt as
                                   the prompt, N = 64 + span new tokens (span:
                                   the largest window / chunk); per sequence
                                   two lines: prompt ids, generated ids

Sequences are longer than every window / chunk / floor_scale so that the
sliding windows, Llama 4 chunks and the temperature rule all bind (the newer
fixtures: T >= 3x the largest window). Weights are re-drawn with O(1) scales
(HF's 0.02-std init gives near-constant logits, which would make the
comparison meaningless). For the BF16/F16 fixtures the fp32 reference runs
on the rounded weights, so the stored file and the reference agree exactly.
The greedy run is checked here against a full forward over prompt +
generation (same argmax at every step) and its smallest top-1/top-2 margin
is printed: a fixture whose margin is near the logit tolerance would make
the token comparison fragile.

Each fixture draws from its own generator, seeded by its place in FIXTURES
(1000 + index): add new fixtures at the end so the older ones stay
bit-identical. decode_logits.npy and greedy.txt draw nothing.

usage: python3 tools/make_fixtures.py [--out tests/fixtures] [--only NAME ...]
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
    Gemma2Config,
    Gemma3Config,
    Gemma3TextConfig,
    GenerationConfig,
    Llama4TextConfig,
    LlamaConfig,
    MistralConfig,
    Olmo3Config,
    Phi3Config,
    Qwen2Config,
    Qwen3Config,
    SiglipVisionConfig,
    SmolLM3Config,
)
from transformers.models.gemma3.modeling_gemma3 import Gemma3ForConditionalGeneration
from transformers.models.llama4.modeling_llama4 import Llama4ForCausalLM

T = 24       # tokens per sequence of the first fixtures (> every window/chunk)
B = 2
V = 128      # vocabulary
D = 64       # hidden; 2 heads -> head_dim 32 (an OpenCL-path head size)
F = 64       # FFN width
K_DECODE = 4      # decode steps after a prefill of T - K (tests/test_loader.c)
GREEDY_PAST = 64  # greedy tokens past the largest window / chunk


def common(**kw):
    base = dict(vocab_size=V, hidden_size=D, intermediate_size=F, num_attention_heads=2,
                num_key_value_heads=1, max_position_embeddings=256,
                pad_token_id=0, bos_token_id=1, eos_token_id=2)
    base.update(kw)
    return base


def fixture(cfg, what, cls=None, dtype=torch.float32, seq=T, span=0, norm_center=1.0,
            full_check=True, train=0):
    """One fixture: its config, the class to build (None: AutoModelForCausalLM),
    the stored dtype, the sequence length, the largest window / chunk (sets
    the greedy length), its README line and the mean of its norm weights
    (0 for Gemma, whose norms scale by 1 + w). full_check False: dynamic NTK,
    whose full forward rotates every position with the final length's
    frequencies, so only the incremental greedy run is the reference.
    train > 0: instead of random weights, that many AdamW steps on the
    synthetic corpus (corpus()), and ids.txt is held-out corpus text."""
    return dict(cfg=cfg, cls=cls, dtype=dtype, seq=seq, span=span, what=what,
                norm_center=norm_center, full_check=full_check, train=train)


def fixtures():
    """name -> fixture, in seed order: append only (see the module docstring)."""
    return {
        "cohere2": fixture(
            Cohere2Config(**common(num_hidden_layers=4, sliding_window=5, logit_scale=0.25,
                                   layer_norm_eps=1e-5)),
            "sliding window 5 (RoPE pair) on layers 0-2, global NoPE layer 3, parallel block, "
            "logit_scale 0.25, tied", span=5),
        "smollm3": fixture(
            SmolLM3Config(**common(num_hidden_layers=4, rms_norm_eps=1e-6)),
            "RoPE (half) layers 0-2, NoPE layer 3, tied"),
        # dense Llama 4: chunk 8 + QK-norm on RoPE layers, temperature on
        # the NoPE layer with floor_scale 4 so positions >= 3 are scaled.
        "llama4_text": fixture(
            Llama4TextConfig(**common(num_hidden_layers=4, head_dim=32, intermediate_size=F,
                                      intermediate_size_mlp=F, moe_layers=[],
                                      attention_chunk_size=8, floor_scale=4, attn_scale=0.25,
                                      attn_temperature_tuning=True, use_qk_norm=True,
                                      tie_word_embeddings=False)),
            "chunk 8 + QK-norm (RoPE pair) layers 0-2; NoPE layer 3 with temperature "
            "floor_scale 4, attn_scale 0.25; untied, dense FFN", cls=Llama4ForCausalLM, span=8),
        "mistral": fixture(
            MistralConfig(**common(num_hidden_layers=3, sliding_window=6)),
            "sliding window 6 on every layer (F16 weights)", dtype=torch.float16, span=6),
        "llama": fixture(
            LlamaConfig(**common(num_hidden_layers=3)),
            "global RoPE baseline (BF16 weights)", dtype=torch.bfloat16),
        # Gemma 2: alternating sliding (W = 6) / global, soft-capping small
        # enough to bind, query_pre_attn_scalar != head_dim, sandwich (1 + w)
        # norms, tanh GeGLU, sqrt(D) embeddings, tied.
        "gemma2": fixture(
            Gemma2Config(**common(num_hidden_layers=3, head_dim=32, sliding_window=6,
                                  query_pre_attn_scalar=24, attn_logit_softcapping=5.0,
                                  final_logit_softcapping=15.0,
                                  rope_parameters={"rope_type": "default", "rope_theta": 1000.0})),
            "layers 0, 2 sliding window 6, layer 1 global; attention soft-cap 5, final soft-cap 15, "
            "query_pre_attn_scalar 24, sandwich (1 + w) RMS norms, tanh GeGLU, sqrt(D) "
            "embeddings, tied", span=6, norm_center=0.0),
        # Gemma 3 text: 6 layers = the default 5 local : 1 global pattern,
        # D = 32 (sqrt(D) not exact; H*d = 64 != D), per-head QK-norm, local
        # theta 200, global theta 5000 with linear scaling 4, untied.
        "gemma3_text": fixture(
            Gemma3TextConfig(**common(num_hidden_layers=6, hidden_size=32, head_dim=32,
                                      sliding_window=5, query_pre_attn_scalar=32,
                                      tie_word_embeddings=False,
                                      rope_parameters={
                                          "sliding_attention": {"rope_type": "default",
                                                                "rope_theta": 200.0},
                                          "full_attention": {"rope_type": "linear", "factor": 4.0,
                                                             "rope_theta": 5000.0}})),
            "layers 0-4 sliding window 5 (RoPE theta 200), layer 5 global (theta 5000, linear "
            "scaling 4); QK-norm per head (1 + w), sandwich norms, D = 32 with H*d = 64, untied",
            span=5, norm_center=0.0),
        # Gemma 3 multimodal wrapper saved as a whole (tiny SigLIP tower,
        # ignored): text tensors under model.language_model.*, lm_head at the
        # top; the wrapper does not apply the text config's final soft-cap.
        "gemma3": fixture(
            Gemma3Config(
                text_config=Gemma3TextConfig(**common(
                    num_hidden_layers=3, head_dim=32, sliding_window=7, query_pre_attn_scalar=16,
                    final_logit_softcapping=3.0, layer_types=["sliding_attention",
                                                             "full_attention",
                                                             "sliding_attention"],
                    rope_parameters={"sliding_attention": {"rope_type": "default",
                                                           "rope_theta": 300.0},
                                     "full_attention": {"rope_type": "default",
                                                        "rope_theta": 20000.0}})),
                vision_config=SiglipVisionConfig(hidden_size=16, intermediate_size=16,
                                                 num_hidden_layers=1, num_attention_heads=2,
                                                 image_size=16, patch_size=4),
                mm_tokens_per_image=4),
            "Gemma3ForConditionalGeneration: layers 0, 2 sliding window 7, layer 1 global; "
            "text_config final soft-cap 3 (not applied by the wrapper), vision tower ignored, tied",
            cls=Gemma3ForConditionalGeneration, span=7, norm_center=0.0),
        # Qwen 2: sliding (W = 6) on layers >= max_window_layers 2 through
        # use_sliding_window; q/k/v biases without an o bias; tied.
        "qwen2": fixture(
            Qwen2Config(**common(num_hidden_layers=4, use_sliding_window=True, sliding_window=6,
                                 max_window_layers=2, tie_word_embeddings=True,
                                 rope_parameters={"rope_type": "default", "rope_theta": 1000.0})),
            "layers 0-1 global, 2-3 sliding window 6 (use_sliding_window + max_window_layers 2); "
            "q/k/v biases, no o bias; RoPE theta 1000; tied", span=6),
        # Qwen 3: explicit layer_types, per-head QK-norm, attention_bias on
        # all four projections, YaRN with an explicit attention_factor.
        "qwen3": fixture(
            Qwen3Config(**common(num_hidden_layers=4, head_dim=32, use_sliding_window=True,
                                 sliding_window=5, attention_bias=True,
                                 layer_types=["sliding_attention", "full_attention",
                                              "sliding_attention", "full_attention"],
                                 rope_parameters={"rope_type": "yarn", "factor": 4.0,
                                                  "original_max_position_embeddings": 16,
                                                  "attention_factor": 1.25,
                                                  "rope_theta": 10000.0})),
            "layer_types: 0, 2 sliding window 5, 1, 3 global; per-head RMS QK-norm; q/k/v/o "
            "biases; YaRN factor 4 (original 16) with attention_factor 1.25; untied", span=5),
        # OLMo 3: default layer_types (3 sliding : 1 full), post-norms,
        # whole-projection QK-norm, RoPE per layer type (YaRN on full).
        "olmo3": fixture(
            Olmo3Config(**common(num_hidden_layers=4, sliding_window=6,
                                 rope_parameters={
                                     "sliding_attention": {"rope_type": "default",
                                                           "rope_theta": 500.0},
                                     "full_attention": {"rope_type": "yarn", "factor": 2.0,
                                                        "original_max_position_embeddings": 12,
                                                        "rope_theta": 20000.0}})),
            "layers 0-2 sliding window 6 (RoPE theta 500), layer 3 global (theta 20000, YaRN "
            "factor 2, original 12); post-norms, RMS QK-norm over H*d; untied", span=6),
        # Phi-3: fused qkv_proj / gate_up_proj, every layer sliding (W = 6).
        "phi3": fixture(
            Phi3Config(**common(num_hidden_layers=3, sliding_window=6, original_max_position_embeddings=256)),
            "every layer sliding window 6; fused qkv_proj and gate_up_proj; untied", span=6),
        # Phi-3 with partial RoPE: 16 of 32 lanes rotate; tied.
        "phi3_partial": fixture(
            Phi3Config(**common(num_hidden_layers=3, sliding_window=7, partial_rotary_factor=0.5,
                                original_max_position_embeddings=256, tie_word_embeddings=True)),
            "partial_rotary_factor 0.5 (16 of 32 lanes), every layer sliding window 7; fused "
            "tensors; tied", span=7),
        # RoPE scaling rules on Llama (global attention, untied).
        "llama_linear": fixture(
            LlamaConfig(**common(num_hidden_layers=2, rope_parameters={
                "rope_type": "linear", "factor": 4.0, "rope_theta": 10000.0})),
            "linear RoPE scaling, factor 4"),
        # dynamic NTK: the prefill of T - 4 = 32 stays within
        # max_position_embeddings 34, the decode crosses it at step 3, greedy
        # runs far past it (transformers recomputes every step).
        "llama_dynamic": fixture(
            LlamaConfig(**common(num_hidden_layers=2, max_position_embeddings=34,
                                 rope_parameters={"rope_type": "dynamic", "factor": 2.0,
                                                  "rope_theta": 10000.0})),
            "dynamic NTK factor 2 past max_position_embeddings 34 (T = 36: decode steps 3-4 and "
            "greedy are scaled, the prefill of 32 is not)", seq=36, full_check=False),
        "llama_llama3": fixture(
            LlamaConfig(**common(num_hidden_layers=2, tie_word_embeddings=True,
                                 rope_parameters={"rope_type": "llama3", "factor": 8.0,
                                                  "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                                  "original_max_position_embeddings": 32,
                                                  "rope_theta": 10000.0})),
            "llama3 RoPE factor 8, low/high 1/4, original 32 (all three bands); tied"),
        "llama_yarn": fixture(
            LlamaConfig(**common(num_hidden_layers=2, rope_parameters={
                "rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 16,
                "rope_theta": 10000.0})),
            "YaRN factor 4, original 16, attention_factor derived (0.1 ln 4 + 1)"),
        "llama_yarn_mscale": fixture(
            LlamaConfig(**common(num_hidden_layers=2, rope_parameters={
                "rope_type": "yarn", "factor": 8.0, "original_max_position_embeddings": 16,
                "mscale": 1.0, "mscale_all_dim": 0.5, "beta_fast": 16.0, "beta_slow": 2.0,
                "truncate": False, "rope_theta": 10000.0})),
            "YaRN factor 8 with mscale 1 / mscale_all_dim 0.5, beta 16/2, truncate false"),
        # trained, not random: weights with the structure of a real model,
        # for the quantisation accuracy bars (issue 11), whose per-weight
        # error random-init models amplify several-fold
        "llama_trained": fixture(
            LlamaConfig(**common(num_hidden_layers=3)),
            "global RoPE, trained 1500 steps on a synthetic byte-level corpus", seq=64,
            train=1500),
    }


def reinit(model, gen, norm_center=1.0):
    """O(1)-scaled deterministic weights (see module docstring)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name and name.endswith("weight"):
                p.copy_(norm_center + 0.1 * torch.randn(p.shape, generator=gen))
            elif name.endswith("bias"):
                p.copy_(0.05 * torch.randn(p.shape, generator=gen))
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=gen))
            else:
                p.copy_(torch.randn(p.shape, generator=gen) / (p.shape[-1] ** 0.5))


def corpus(seed, n_bytes):
    """A deterministic toy language (random.Random is stable across Python
    versions): sentences from a small grammar, as bytes < V."""
    import random
    r = random.Random(seed)
    det = ["the", "a", "every", "no", "this"]
    adj = ["quick", "lazy", "small", "bright", "old", "green", "silent", "heavy"]
    noun = ["fox", "dog", "model", "kernel", "window", "token", "layer", "device", "cache"]
    verb = ["sees", "loads", "checks", "follows", "writes", "reads", "keeps", "moves"]
    adv = ["slowly", "again", "twice", "today", "at once"]
    out = []
    while sum(len(x) for x in out) < n_bytes:
        sent = [r.choice(det), r.choice(adj), r.choice(noun), r.choice(verb), r.choice(det),
                r.choice(noun)]
        if r.random() < 0.4:
            sent.append(r.choice(adv))
        if r.random() < 0.3:
            sent += ["and", r.choice(verb), r.choice(det), r.choice(adj), r.choice(noun)]
        out.append(" ".join(sent) + (". " if r.random() < 0.8 else "? "))
    return torch.tensor(list("".join(out).encode("ascii")), dtype=torch.long)


def train(model, steps, gen):
    """AdamW on corpus() (one thread, fixed seeds: reproducible on one machine)."""
    data = corpus(1, 200_000)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    model.train()
    for _ in range(steps):
        ix = torch.randint(0, len(data) - 65, (32,), generator=gen)
        x = torch.stack([data[i:i + 64] for i in ix])
        y = torch.stack([data[i + 1:i + 65] for i in ix])
        loss = model(input_ids=x, labels=y).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    print(f"  trained {steps} steps, last loss {loss.item():.3f}")


def decode_logits(model, ids):
    """transformers' own incremental decode: prefill T - K, then K steps
    through past_key_values; [B, K, V]."""
    seq = ids.shape[1]
    out = model(input_ids=ids[:, :seq - K_DECODE], use_cache=True)
    pkv, steps = out.past_key_values, []
    for t in range(seq - K_DECODE, seq):
        o = model(input_ids=ids[:, t:t + 1], past_key_values=pkv, use_cache=True)
        pkv = o.past_key_values
        steps.append(o.logits[:, -1].float())
    return torch.stack(steps, dim=1).numpy()


def greedy(model, ids, n_new, full_check=True):
    """generate(do_sample=False) of n_new tokens (no EOS stop), checked against
    a full forward over the result; returns (new ids [B, n_new], smallest
    top-1/top-2 margin relative to max|logit| of its step)."""
    gc = GenerationConfig(do_sample=False, max_new_tokens=n_new, min_new_tokens=0,
                          eos_token_id=None, pad_token_id=0, use_cache=True,
                          return_dict_in_generate=True, output_scores=True)
    model.generation_config.eos_token_id = None  # else merged into gc: a sampled 2 would stop it
    out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), generation_config=gc)
    seqs = out.sequences
    assert seqs.shape[1] == ids.shape[1] + n_new, "generate stopped early"
    new = seqs[:, ids.shape[1]:]
    if full_check:
        full = model(input_ids=seqs).logits.float()[:, ids.shape[1] - 1:-1]  # [B, n_new, V]
        assert torch.equal(full.argmax(-1), new), "greedy tokens differ from a full forward's argmax"
    else:  # the incremental run's own scores
        full = torch.stack([sc.float() for sc in out.scores], dim=1)
        assert torch.equal(full.argmax(-1), new), "greedy tokens differ from their scores' argmax"
    top2 = full.topk(2, dim=-1).values
    margin = ((top2[..., 0] - top2[..., 1]) / full.abs().amax(-1)).min().item()
    return new, margin


def rel_err(a, b):
    """max over positions of max|a - b| / max|b| (the loader test's measure)."""
    return float((np.abs(a - b).max(-1) / np.abs(b).max(-1)).max())


def build(name, fx, index, out_root):
    cfg, cls, store_dtype = fx["cfg"], fx["cls"], fx["dtype"]
    cfg._attn_implementation = "eager"
    gen = torch.Generator().manual_seed(1000 + index)
    model = (cls(cfg) if cls else AutoModelForCausalLM.from_config(cfg, attn_implementation="eager"))
    model = model.float().eval()
    if cls:
        model.config._attn_implementation = "eager"
        for sub in ("text_config", "vision_config"):
            if getattr(model.config, sub, None) is not None:
                getattr(model.config, sub)._attn_implementation = "eager"
    if fx["train"]:
        torch.set_num_threads(1)
        train(model, fx["train"], gen)
    else:
        reinit(model, gen, fx["norm_center"])
    if store_dtype != torch.float32:  # round the weights, reference runs on them
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(p.to(store_dtype).float())
    ids = torch.randint(0, V, (B, fx["seq"]), generator=gen)
    if fx["train"]:  # held-out text of the training language
        held = corpus(2, 4096)
        ids = torch.stack([held[i * 1000:i * 1000 + fx["seq"]] for i in range(B)])
    with torch.no_grad():
        logits = model(input_ids=ids).logits.float().numpy()
        dec = decode_logits(model, ids)
        new, margin = greedy(model, ids, GREEDY_PAST + fx["span"], fx["full_check"])
    d = os.path.join(out_root, name)
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
    np.save(os.path.join(d, "decode_logits.npy"), dec.astype(np.float32))
    with open(os.path.join(d, "greedy.txt"), "w") as fh:
        for p, g in zip(ids.tolist(), new.tolist()):
            fh.write(" ".join(str(x) for x in p) + "\n" + " ".join(str(x) for x in g) + "\n")
    print(f"{name}: logits {logits.shape}, |logits| max {np.abs(logits).max():.3f}, stored "
          f"{store_dtype}; decode vs prefill rel {rel_err(dec, logits[:, -K_DECODE:]):.2e}; "
          f"greedy {new.shape[1]} tokens, min margin {margin:.2e}")


def write_readme(out_root, fxs):
    readme = os.path.join(out_root, "README.md")
    rows = "".join(f"| {n} | {fx['cfg'].get_text_config().num_hidden_layers} | {fx['seq']} | "
                   f"{GREEDY_PAST + fx['span']} | {fx['what']} |\n" for n, fx in fxs.items())
    with open(readme, "w") as fh:
        fh.write("# Loader test fixtures\n\n"
                 "Tiny Hugging Face models, randomly initialised (llama_trained: trained on a "
                 "synthetic corpus, for the quantisation bars), one directory per architecture, "
                 "built by transformers itself (`tools/make_fixtures.py`) and checked by "
                 "`tests/test_loader.c` on the reference and the OpenCL backend: prefill logits vs "
                 "`logits.npy`, a decode session step by step vs `decode_logits.npy`, and a greedy "
                 "session generation token by token vs `greedy.txt`.\n\n"
                 "Regenerate (deterministic seeds) from the repository root:\n\n"
                 "```\npip install torch transformers safetensors numpy\n"
                 "python3 tools/make_fixtures.py --out tests/fixtures\n```\n\n"
                 "Generated with:\n\n"
                 f"- python {platform.python_version()}\n"
                 f"- torch {torch.__version__}\n"
                 f"- transformers {transformers.__version__}\n"
                 f"- safetensors {safetensors.__version__}\n"
                 f"- numpy {np.__version__}\n\n"
                 "Each directory holds:\n\n"
                 "- `config.json`, `model.safetensors` (llama in BF16, mistral in F16, others F32)\n"
                 f"- `ids.txt`: {B} sequences of T ids, one per line\n"
                 f"- `logits.npy`: float32 [{B}, T, {V}], fp32 eager attention, one prefill\n"
                 f"- `decode_logits.npy`: float32 [{B}, {K_DECODE}, {V}], transformers' own "
                 f"incremental decode (prefill T - {K_DECODE}, then {K_DECODE} single steps "
                 "through past_key_values)\n"
                 "- `greedy.txt`: `generate(do_sample=False)` from `ids.txt` (no EOS stop): per "
                 "sequence a line of prompt ids, then a line of the N generated ids\n\n"
                 "Every fixture has B = 2, vocabulary 128, GQA (2 query heads, 1 KV head) and "
                 "head_dim 32; the greedy prompt is `ids.txt` itself (longer than every window), "
                 "N = 64 + the largest window / chunk. The script prints each greedy run's "
                 "smallest top-1 / top-2 logit margin (relative to max |logit|); the committed "
                 "ones are >= 9e-5 (mistral; llama4_text 2.4e-4, the rest >= 6e-4), against "
                 "errors near 1e-6.\n\n"
                 "Regenerating reproduces every file bit for bit on one machine; across machines "
                 "(thread counts) fp32 `logits.npy` may move by float rounding (the cohere2, "
                 "smollm3, llama4_text and llama ones by <= 2e-7 of max |logit| here, so the "
                 "committed files were kept).\n\n"
                 "| fixture | layers | T | N greedy | what binds |\n|---|---|---|---|---|\n" + rows +
                 "\n\n`quant/`: float32 rows (`input.npy`, [8, 64]) and their encodings by independent "
                 "implementations, for `tests/test_quant.c`: `f16.bin` (numpy), `bf16.bin` (torch), "
                 "`q8_0.bin` / `q4_0.bin` (gguf-py 0.19.0, llama.cpp's numpy port of its reference "
                 "quantizers). Regenerate with `python3 tools/make_quant_fixture.py --out "
                 "tests/fixtures/quant` (needs `pip install gguf`).\n")
    print("wrote", readme)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures"))
    ap.add_argument("--only", nargs="*", help="rebuild only these fixtures (README: all)")
    args = ap.parse_args()
    torch.manual_seed(0)
    out_root = os.path.abspath(args.out)
    os.makedirs(out_root, exist_ok=True)
    fxs = fixtures()
    for i, (name, fx) in enumerate(fxs.items()):
        if not args.only or name in args.only:
            build(name, fx, i, out_root)
    write_readme(out_root, fxs)


if __name__ == "__main__":
    sys.exit(main())
