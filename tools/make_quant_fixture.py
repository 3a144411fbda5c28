#!/usr/bin/env python3
"""tests/fixtures/quant: float32 rows and their encodings by independent
implementations: f16 by numpy (round to nearest even), bf16 by torch, q8_0
and q4_0 by the gguf package (gguf-py, llama.cpp's own numpy port of
quantize_row_q8_0_ref / quantize_row_q4_0_ref). test_quant.c checks that
swacl's encoders produce the same bytes.

    pip install numpy torch gguf
    python3 tools/make_quant_fixture.py --out tests/fixtures/quant
"""
import argparse
import os

import numpy as np
import torch
from gguf import quants
from gguf.constants import GGMLQuantizationType as QT

ap = argparse.ArgumentParser()
ap.add_argument("--out", required=True)
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)
rng = np.random.default_rng(11)
rows = [
    rng.standard_normal(64),                         # ordinary weights
    rng.uniform(-1, 1, 64) * 0.02,                   # small, like trained weights
    np.concatenate([np.zeros(32), rng.standard_normal(32)]),  # an all-zero block
    np.arange(64) - 31.5,                            # q4 ties at x*id + 8.5 integers
    np.tile([3.0, -3.0, 1.0, 0.5], 16),              # equal magnitudes of both signs
    rng.standard_normal(64) * 1e-6,                  # f16 subnormals
    rng.standard_normal(64) * 3e4,                   # near / past the f16 range
    (1 + np.arange(64) * 2.0**-11).astype(np.float64),  # f16 ties to even
]
x = np.stack(rows).astype(np.float32)
np.save(os.path.join(a.out, "input.npy"), x)
x.astype(np.float16).tofile(os.path.join(a.out, "f16.bin"))
torch.from_numpy(x).to(torch.bfloat16).view(torch.int16).numpy().tofile(
    os.path.join(a.out, "bf16.bin"))
quants.quantize(x, QT.Q8_0).tofile(os.path.join(a.out, "q8_0.bin"))
quants.quantize(x, QT.Q4_0).tofile(os.path.join(a.out, "q4_0.bin"))
