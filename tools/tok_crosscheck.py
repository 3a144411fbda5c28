#!/usr/bin/env python3
"""tools/tok_crosscheck.py - swacl's tokenizer against the `tokenizers` package on
many random strings (not a ctest: the committed fixtures are; this finds what they
miss). Random strings from many Unicode blocks (controls, NUL, Latin, combining
marks, Greek, Cyrillic, Hebrew/Arabic, Devanagari, Thai, Hangul, punctuation,
letterlike, CJK, fullwidth, emoji, math letters, tags) with special-token texts mixed in;
each is encoded with special tokens and decoded by both, compared exactly.

    /work/venv/bin/python tools/tok_crosscheck.py [--n 3000] [--seed 1] TOKENIZER.json|DIR...
    (default: every tests/fixtures/tok/*/tokenizer.json; needs build/bench/bench_tok)
"""
import argparse, glob, os, random, subprocess, sys, tempfile
from tokenizers import Tokenizer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
RANGES = [(0x20, 0x7e)] * 6 + [
    (0x0, 0x20), (0xa0, 0x17f), (0x300, 0x36f), (0x370, 0x3ff), (0x400, 0x4ff), (0x590, 0x6ff),
    (0x900, 0x97f), (0xe00, 0xe7f), (0x1100, 0x11ff), (0x2000, 0x206f), (0x20a0, 0x20cf),
    (0x2100, 0x218f), (0x2460, 0x24ff), (0x3000, 0x30ff), (0x4e00, 0x4fff), (0xac00, 0xacff),
    (0xfb00, 0xfb4f), (0xfe00, 0xfe0f), (0xff00, 0xffef), (0x1f300, 0x1f64f), (0x1f900, 0x1f9ff),
    (0x10000, 0x1007f), (0x1d400, 0x1d4ff), (0xe0000, 0xe007f)]
SPECIALS = ["<s>", "</s>", "<unk>", "<mask>", "<|begin_of_text|>", "<|im_start|>", "<|endoftext|>",
            "<bos>", "<BOS_TOKEN>", "<0x41>", " ", "  ", "\n", "\t", "'s", "'LL", "hello", "world"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("paths", nargs="*")
    a = ap.parse_args()
    paths = a.paths or sorted(glob.glob(os.path.join(ROOT, "tests/fixtures/tok/*/tokenizer.json")))
    r = random.Random(a.seed)

    def one():
        out = []
        for _ in range(r.randint(0, 30)):
            if r.random() < 0.08:
                out.append(r.choice(SPECIALS))
                continue
            lo, hi = r.choice(RANGES)
            c = r.randint(lo, hi)
            out.append(chr(0x41 if 0xd800 <= c <= 0xdfff else c))
        return "".join(out)
    strs = [one() for _ in range(a.n)]
    with tempfile.NamedTemporaryFile("w", suffix=".hex", delete=False) as f:
        f.write("\n".join(s.encode().hex() for s in strs) + "\n")
    bad = 0
    for p in paths:
        f_json = os.path.join(p, "tokenizer.json") if os.path.isdir(p) else p
        ref = Tokenizer.from_file(f_json)
        got = subprocess.run([os.path.join(ROOT, "build/bench/bench_tok"), "--check", p, f.name],
                             capture_output=True, text=True, check=True).stdout.split("\n")
        nb = 0
        for s, line in zip(strs, got):
            ids = ref.encode(s).ids
            want = " ".join(map(str, ids)) + "\t" + ref.decode(ids, skip_special_tokens=False).encode().hex()
            if line != want:
                nb += 1
                if nb <= 3:
                    print(f"{p}: {s!r}\n  got  {line[:160]}\n  want {want[:160]}")
        print(f"{p}: {len(strs) - nb}/{len(strs)} exact")
        bad += nb
    os.unlink(f.name)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
