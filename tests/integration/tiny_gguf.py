"""Write a tiny llama-architecture GGUF model with random weights, for tests and benchmarks.

The model is meaningless but real: llama.cpp loads it and serves /v1/completions and
/v1/chat/completions with it. Its vocabulary is a SentencePiece-style ("llama") one: <unk>,
<s>, </s>, the 256 byte tokens (so any text tokenizes) and a few hundred whole words. The output
head's rows for the special and byte tokens are zero while the word rows are random with unit
variance, so generated text is whole words, each one token and one stream chunk, and </s> is all
but never sampled (its logit sits ~20 standard deviations below the best word's).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

N_EMBD = 64
N_HEAD = 4
N_FF = 128
N_LAYERS = 2
CONTEXT = 4096


def vocabulary() -> tuple[list[str], list[float], list[int]]:
    """Tokens, SentencePiece scores and token types (1 normal, 2 unknown, 3 control, 6 byte)."""
    from llm_tco.bench.prompts import WORDS

    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [2, 3, 3] + [6] * 256
    words = sorted(set(WORDS)) + [chr(c) for c in range(ord("a"), ord("z") + 1)]
    words = sorted(set(words))
    tokens += ["\u2581" + w for w in words]  # U+2581 marks a leading space in SentencePiece
    types += [1] * len(words)
    scores = [0.0] * 259 + [-float(i) for i in range(len(words))]
    return tokens, scores, types


def write_tiny_llama(path: Path, seed: int = 0) -> Path:
    """Write the model to ``path`` (about 0.5 MB) and return it."""
    import gguf

    tokens, scores, types = vocabulary()
    n_vocab = len(tokens)
    head_dim = N_EMBD // N_HEAD
    rng = np.random.default_rng(seed)

    def rand(*shape: int, scale: float = 0.02) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny-random-llama")
    writer.add_block_count(N_LAYERS)
    writer.add_context_length(CONTEXT)
    writer.add_embedding_length(N_EMBD)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)

    output = rand(n_vocab, N_EMBD, scale=1.0)
    output[:259] = 0.0  # never prefer a special or byte token: see the module docstring
    writer.add_tensor("token_embd.weight", rand(n_vocab, N_EMBD, scale=1.0))
    writer.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    writer.add_tensor("output.weight", output)
    for layer in range(N_LAYERS):
        prefix = f"blk.{layer}"
        writer.add_tensor(f"{prefix}.attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            writer.add_tensor(f"{prefix}.{name}.weight", rand(N_EMBD, N_EMBD))
        writer.add_tensor(f"{prefix}.ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        writer.add_tensor(f"{prefix}.ffn_gate.weight", rand(N_FF, N_EMBD))
        writer.add_tensor(f"{prefix}.ffn_up.weight", rand(N_FF, N_EMBD))
        writer.add_tensor(f"{prefix}.ffn_down.weight", rand(N_EMBD, N_FF))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
