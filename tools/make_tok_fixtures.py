#!/usr/bin/env python3
"""tools/make_tok_fixtures.py - tokenizer fixtures for tests/test_tokenizer.c.

Offline: writes its own training text, trains small BPE vocabularies of both
families with the `tokenizers` package, builds the tokenizer files the way
the supported architectures ship them (transformers' own tokenizer classes
where they construct offline from a vocab + merges: Llama/Mistral, Gemma,
Qwen2, Cohere, GPT-2/OLMo; hand-built pipelines configured like Llama 3,
SmolLM3, gpt-oss and legacy Llama 2 / Phi-3 where the checkpoint ships only
tokenizer.json), and records what `tokenizers` gives for a set of test
strings: ids without special tokens, the decoded text, and ids with them.

    /work/venv/bin/python tools/make_tok_fixtures.py [OUT_DIR]  (default tests/fixtures/tok)
"""
import json
import os
import random
import sys

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers
from tokenizers import pre_tokenizers, processors, trainers
import transformers

COMPONENT_STRINGS = 200
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "tok")

GPT2_RE = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3_RE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
             r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_RE = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
            r"|\s*[\r\n]+|\s+(?!\S)|\s+")
O200K_RE = "|".join([
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    r"\p{N}{1,3}", r" ?[^\s\p{L}\p{N}]+[\r\n/]*", r"\s*[\r\n]+", r"\s+(?!\S)", r"\s+"])

# ---- training text and test strings (deterministic) ----------------------

WORDS = ("the of and to in is was that for it with as his on be at by had are but from or have an they "
         "which one you were all we her she there would their will when who him been has more if no out "
         "do so can what up said about other into than its time only could new them man some these then "
         "two first may any like now my such make over our even most me state after also made many did "
         "must before back see through way where get much go well your know should down work year because "
         "come people just say each those take day good how long very little world own great under last "
         "tokenizer model attention window global layer kernel device sequence hello running jumped quickly").split()
OTHER = ["日本語のテキストです", "中文文本测试", "Русский текст", "Ελληνικά", "العربية نص", "עברית",
         "हिन्दी पाठ", "한국어 텍스트", "ไทย", "Tiếng Việt", "naïve café résumé", "Straße", "ǅemal"]
EMOJI = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷", "❤️", "🤖", "✨", "🧪"]
COMBINING = ["e\u0301", "a\u0308", "n\u0303o", "Å", "A\u030a", "\u1e9b\u0323", "ﬁ", "①", "ｆｕｌｌ", "x\u0327\u0301"]
SPACES = ["  ", "   ", "\t", "\n", "\n\n", " \n ", "\r\n", "          ", "\t\t  \n", "\u00a0", "\u3000", "\u2009"]
DIGITS = ["0", "7", "42", "123", "2024", "3.14159", "1,000,000", "12345678901234", "٣٤٥", "０１２"]
CODE = ["def f(x):\n    return x + 1", "int main(void) { return 0; }", "for (i = 0; i < n; i++)",
        "x = {'a': [1, 2]}", "#include <stdio.h>", "if a != b && c <= d:", "SELECT * FROM t;",
        "<div class=\"x\">", "foo_bar.baz()", "a->b", "// comment", "$HOME/.cache", "0x1F"]
CONTRACTIONS = ["it's", "I'M", "we'll", "they've", "don't", "She'D", "'s", "o'clock"]
SPECIALS = ["<s>", "</s>", "<unk>", "<bos>", "<eos>", "<|begin_of_text|>", "<|end_of_text|>",
            "<|eot_id|>", "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<BOS_TOKEN>", "<mask>",
            "<start_of_turn>", "<|return|>", "<0x41>"]


def sentence(rng, n):
    w = [rng.choice(WORDS) for _ in range(n)]
    if rng.random() < 0.3:
        w[0] = w[0].capitalize()
    return " ".join(w) + rng.choice([".", ",", "!", "?", "", ";"])


def training_text(rng):
    lines = []
    for _ in range(6000):
        lines.append(sentence(rng, rng.randint(3, 14)))
    for _ in range(300):
        lines.append(rng.choice(OTHER) + " " + rng.choice(DIGITS) + " " + rng.choice(CODE))
    return "\n".join(lines)


def test_strings(rng):
    fixed = ["", " ", "  ", "\n", "a", "A", "Hello", " Hello", "Hello world", "hello  world",
             "Hello world!", "   leading", "trailing   ", "\t\ttabs", "line1\nline2\r\nline3",
             "ünïcödé", "e\u0301", "😀", "👨‍👩‍👧‍👦", "12345", "3.14", "<s>", "<s>hello", "hello<s>",
             "a <s> b", "<s><s>", "</s> end", "<|im_start|>user\nhi<|im_end|>", "<|begin_of_text|>Hi",
             "x<|eot_id|>y", "  <mask>  ", "<mask>x", "<0x41>", "\u00a0\u00a0", "\u2028", "\x01\x02\x1f\x7f",
             "I'M here", "it's", "'ll", "‼️", "\ufeffbom", "a" * 300, " " * 40 + "x", "\n" * 10,
             "ﬁﬂ", "①②③", "ｆｕｌｌｗｉｄｔｈ", "Ω≈ç√∫", "Zalgo: Z\u0351\u0364a\u0363\u036bl\u0357g\u0346o"]
    pools = [WORDS, OTHER, EMOJI, COMBINING, SPACES, DIGITS, CODE, CONTRACTIONS, SPECIALS]
    out = list(fixed)
    while len(out) < 520:
        parts = []
        for _ in range(rng.randint(1, 4)):
            r = rng.random()
            if r < 0.35:
                parts.append(sentence(rng, rng.randint(1, 8)))
            else:
                parts.append(rng.choice(rng.choice(pools)))
        sep = rng.choice(["", " ", "  ", "\n", ""])
        s = sep.join(parts)
        if s not in out:
            out.append(s)
    return out


# ---- training ------------------------------------------------------------

def train_bytelevel(text, vocab_size):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tr = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                             show_progress=False)
    tok.train_from_iterator(text.split("\n"), tr)
    m = json.loads(tok.to_str())["model"]
    return m["vocab"], [tuple(x) for x in m["merges"]]


def train_spm(text, vocab_size, head):
    """SentencePiece-style pieces ("▁the"); vocab = head tokens, <0x00>..<0xFF>, pieces."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tr = trainers.BpeTrainer(vocab_size=vocab_size, limit_alphabet=120, show_progress=False)
    tok.train_from_iterator(text.split("\n"), tr)
    m = json.loads(tok.to_str())["model"]
    vocab = {t: i for i, t in enumerate(head)}
    for b in range(256):
        vocab["<0x%02X>" % b] = len(vocab)
    for t, _ in sorted(m["vocab"].items(), key=lambda kv: kv[1]):
        if t not in vocab:
            vocab[t] = len(vocab)
    return vocab, [tuple(x) for x in m["merges"]]


def bytelevel_pipeline(vocab, merges, regex, bos, specials, ignore_merges, nfc=False):
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=ignore_merges))
    if nfc:
        tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(regex), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    pp = [processors.ByteLevel(trim_offsets=False)]
    if bos:
        bid = tok.token_to_id(bos)
        pp.append(processors.TemplateProcessing(single=f"{bos} $A", pair=f"{bos} $A {bos} $B",
                                                special_tokens=[(bos, bid)]))
    tok.post_processor = processors.Sequence(pp)
    return tok


def save_hf(d, tok_obj, **kw):
    """tokenizer.json + tokenizer_config.json through transformers."""
    os.makedirs(d, exist_ok=True)
    t = tok_obj if isinstance(tok_obj, transformers.PreTrainedTokenizerBase) else \
        transformers.PreTrainedTokenizerFast(tokenizer_object=tok_obj, **kw)
    t.save_pretrained(d)
    for f in os.listdir(d):  # keep only the two files the library reads
        if f not in ("tokenizer.json", "tokenizer_config.json", "config.json", "model.safetensors",
                     "generation_config.json"):
            os.remove(os.path.join(d, f))


def tiny_model(d):
    """A random 2-layer Llama (BF16, tied embeddings) beside the llama3 tokenizer, so
    `swacl generate --model d --prompt ...` runs text in, text out (random text out)."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM
    tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    torch.manual_seed(7)
    cfg = LlamaConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, intermediate_size=32,
                      num_hidden_layers=2, num_attention_heads=1, num_key_value_heads=1, head_dim=32,
                      max_position_embeddings=512, tie_word_embeddings=True,
                      bos_token_id=tok.token_to_id("<|begin_of_text|>"),
                      eos_token_id=tok.token_to_id("<|end_of_text|>"))
    model = LlamaForCausalLM(cfg).to(torch.bfloat16)
    model.save_pretrained(d, safe_serialization=True)
    os.chmod(os.path.join(d, "model.safetensors"), 0o644)
    GenerationConfig(bos_token_id=cfg.bos_token_id,
                     eos_token_id=[tok.token_to_id("<|end_of_text|>"), tok.token_to_id("<|eot_id|>")]
                     ).save_pretrained(d)


def main():
    rng = random.Random(1234)
    text = training_text(rng)
    strings = test_strings(random.Random(99))
    os.makedirs(OUT, exist_ok=True)

    bl_vocab, bl_merges = train_bytelevel(text, 700)
    llama_head = ["<unk>", "<s>", "</s>"]
    spm_vocab, spm_merges = train_spm(text, 700, llama_head)
    gemma_head = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"]
    gspm_vocab, gspm_merges = train_spm(text, 700, gemma_head)

    def with_specials(v, names):
        v = dict(v)
        for n in names:
            v.setdefault(n, len(v))
        return v

    built = {}
    # Llama 3 / SmolLM3: Split(Llama 3 regex) + ByteLevel, ignore_merges, BOS template
    l3 = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"]
    built["llama3"] = (bytelevel_pipeline(with_specials(bl_vocab, l3), bl_merges, LLAMA3_RE,
                                          "<|begin_of_text|>", l3, True),
                       dict(bos_token="<|begin_of_text|>", eos_token="<|end_of_text|>"))
    # gpt-oss: o200k regex, no BOS
    go = ["<|endoftext|>", "<|return|>", "<|start|>"]
    built["gptoss"] = (bytelevel_pipeline(with_specials(bl_vocab, go), bl_merges, O200K_RE, None, go, True),
                       dict(eos_token="<|return|>"))
    # Qwen2 / Qwen3 through transformers' class (NFC, Qwen2 regex)
    qv = with_specials(bl_vocab, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
    q = transformers.Qwen2Tokenizer(vocab=qv, merges=list(bl_merges))
    q.add_tokens([AddedToken("<|im_start|>", special=True), AddedToken("<|im_end|>", special=True)])
    built["qwen2"] = (q, None)
    # Cohere: NFC, Digits + ByteLevel(use_regex), BOS template
    cv = with_specials(bl_vocab, ["<PAD>", "<UNK>", "<BOS_TOKEN>", "<EOS_TOKEN>"])
    built["cohere"] = (transformers.CohereTokenizer(vocab=cv, merges=list(bl_merges)), None)
    # GPT-2 / OLMo: plain ByteLevel with its own regex; merges in the legacy "a b" shape below
    gv = with_specials(bl_vocab, ["<|endoftext|>"])
    built["gpt2"] = (transformers.GPT2Tokenizer(vocab=gv, merges=list(bl_merges)), None)
    # Llama / Mistral (transformers' LlamaTokenizer: Metaspace prepend first, byte fallback)
    built["mistral"] = (transformers.LlamaTokenizer(vocab=spm_vocab, merges=list(spm_merges)), None)
    # Gemma: Replace(" ", "▁") normalizer, Split(" ", merged_with_previous), <bos>
    built["gemma"] = (transformers.GemmaTokenizer(vocab=gspm_vocab, merges=list(gspm_merges)), None)
    # legacy Llama 2 / Phi-3 tokenizer.json: Prepend + Replace normalizer, no pre-tokenizer,
    # Strip decoder, an lstrip/rstrip added token; merges in the legacy shape
    t = Tokenizer(models.BPE(vocab=with_specials(spm_vocab, ["<mask>"]), merges=spm_merges, unk_token="<unk>",
                             fuse_unk=True, byte_fallback=True))
    t.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    t.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                   decoders.Strip(" ", 1, 0)])
    t.add_special_tokens([AddedToken("<unk>", special=True, normalized=False),
                          AddedToken("<s>", special=True, normalized=False),
                          AddedToken("</s>", special=True, normalized=False),
                          AddedToken("<mask>", special=True, normalized=False, lstrip=True, rstrip=True)])
    t.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                     special_tokens=[("<s>", 1)])
    built["llama2"] = (t, dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>"))
    # Phi-3 style: Metaspace(prepend always, split) pre-tokenizer + Metaspace decoder, EOS template
    t = Tokenizer(models.BPE(vocab=spm_vocab, merges=spm_merges, unk_token="<unk>", fuse_unk=True,
                             byte_fallback=True))
    t.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    t.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace(prepend_scheme="always")])
    t.add_special_tokens([AddedToken(x, special=True, normalized=False) for x in llama_head])
    t.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>",
                                                     special_tokens=[("</s>", 2)])
    built["phi3"] = (t, dict(eos_token="</s>", unk_token="<unk>"))

    # Components the checkpoints above do not use, so every one the library
    # implements is checked: NFKD/NFD, StripAccents, Lowercase, regex Replace,
    # Strip, Whitespace, WhitespaceSplit, Digits (contiguous), every Split
    # behaviour and invert, Metaspace never + split, Roberta / Bert processing,
    # continuing_subword_prefix / end_of_word_suffix, single_word and normalized
    # added tokens, Replace / Strip decoders and no decoder. Checked on the
    # first COMPONENT_STRINGS strings only (size).
    corpus = [text[:200000]]

    def comp(norm, pre, post, dec, **bpe):
        t = Tokenizer(models.BPE(unk_token="[UNK]", **bpe))
        t.normalizer, t.pre_tokenizer = norm, pre
        tr = trainers.BpeTrainer(vocab_size=300, special_tokens=["[UNK]", "<s>", "</s>"], show_progress=False, **bpe)
        t.train_from_iterator(corpus, tr)
        if post:
            t.post_processor = post
        if dec:
            t.decoder = dec
        t.add_tokens([AddedToken("hello", single_word=True), AddedToken("world", normalized=True)])
        return t, {}
    built["comp_nfkd"] = comp(
        normalizers.Sequence([normalizers.NFKD(), normalizers.StripAccents(), normalizers.Lowercase(),
                              normalizers.Replace(Regex(r"\d+"), "#"), normalizers.Strip()]),
        pre_tokenizers.Sequence([pre_tokenizers.Whitespace(), pre_tokenizers.Digits(individual_digits=False)]),
        processors.RobertaProcessing(("</s>", 2), ("<s>", 1)),
        decoders.Sequence([decoders.Replace("##", ""), decoders.Strip(" ", 0, 1)]),
        continuing_subword_prefix="##", end_of_word_suffix="</w>")
    built["comp_split"] = comp(
        normalizers.Sequence([normalizers.NFD(), normalizers.Strip(left=True, right=False)]),
        pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                 pre_tokenizers.Split(Regex(r"[aeiou]"), behavior="merged_with_next", invert=True),
                                 pre_tokenizers.Split(" ", behavior="contiguous")]),
        processors.BertProcessing(("</s>", 2), ("<s>", 1)), None)
    built["comp_metaspace"] = comp(
        normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()]),
        pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(r"\s+"), behavior="removed"),
                                 pre_tokenizers.Metaspace(prepend_scheme="never", split=True),
                                 pre_tokenizers.Split(Regex(r"[.,!?]"), behavior="merged_with_previous")]),
        None, decoders.Metaspace(prepend_scheme="never"))

    summary = {}
    for name, (obj, kw) in built.items():
        d = os.path.join(OUT, name)
        save_hf(d, obj, **(kw or {}))
        path = os.path.join(d, "tokenizer.json")
        j = json.load(open(path, encoding="utf-8"))
        if name in ("gpt2", "llama2"):  # the legacy merges shape ["a b", ...]
            j["model"]["merges"] = [" ".join(m) for m in j["model"]["merges"]]
        with open(path, "w", encoding="utf-8") as f:
            json.dump(j, f, ensure_ascii=False, separators=(",", ":"))
        ref = Tokenizer.from_file(path)  # the reference: what `tokenizers` does with the file
        cases, texts, special = [], {}, []
        for i, s in enumerate(strings[:COMPONENT_STRINGS] if name.startswith("comp_") else strings):
            ids = ref.encode(s, add_special_tokens=False).ids
            cases.append(ids)
            dec = ref.decode(ids, skip_special_tokens=False)
            if dec != s:
                texts[str(i)] = dec
            if i % 10 == 0:
                special.append([i, ref.encode(s, add_special_tokens=True).ids])
        with open(os.path.join(d, "expected.json"), "w", encoding="utf-8") as f:
            json.dump({"tokenizers": __import__("tokenizers").__version__, "ids": cases, "text": texts,
                       "special": special}, f, ensure_ascii=False, separators=(",", ":"))
        summary[name] = (ref.get_vocab_size(), sum(map(len, cases)), len(texts), len(cases))
    tiny_model(os.path.join(OUT, "llama3"))
    with open(os.path.join(OUT, "strings.json"), "w", encoding="utf-8") as f:
        json.dump(strings, f, ensure_ascii=False, separators=(",", ":"))
    for k, v in summary.items():
        print(f"{k}: vocab {v[0]}, {v[1]} ids over {v[3]} strings, {v[2]} decode != input")


if __name__ == "__main__":
    main()
