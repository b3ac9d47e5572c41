"""Synthetic prompts of a given length that no prefix cache can reuse unless asked to.

Each prompt starts with a unique random tag, so two prompts share no leading token and the
server's prefix cache cannot serve one from another's work. A ``shared_prefix_tokens`` option
puts a common block *before* the tag, for measuring what a shared system prompt gains.

Lengths are counted in words of a fixed list of common English words, each one token in the
usual BPE vocabularies; the server's own count (its ``usage`` block) is recorded when it sends
one, and the result says which count a figure rests on.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field, model_validator

from llm_tco.errors import BenchError

# Bounds on what the prompts may hold in memory: one prompt (2^20 tokens, beyond any served
# context but Llama 4 Scout's) and all distinct prompts together (~50M words, ~300 MB of text).
MAX_PROMPT_TOKENS = 1_048_576
MAX_TOTAL_PROMPT_TOKENS = 50_000_000

# Short, frequent words: one token each in the GPT-2/Llama/Qwen BPE vocabularies.
WORDS = (  # noqa: SIM905 - a word list reads best as text
    "the of and to in is was for on are with as be at by this had not but from or have an they "
    "which one you were all we her she there would their will when who him been has more if no "
    "out so said what up its about than into them can only other new some could time these two "
    "may then do first any my now such like our over man me even most made after also did many "
    "before must through back years where much your way well down should because each just those "
    "people how too little state good very make world still own see men work long get here between"
).split()


class LengthSpec(BaseModel):
    """A token count: fixed (``128``) or uniform over a range (``64:256``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    low: int = Field(ge=1, le=MAX_PROMPT_TOKENS)
    high: int = Field(ge=1, le=MAX_PROMPT_TOKENS)

    @model_validator(mode="after")
    def _ordered(self) -> LengthSpec:
        if self.high < self.low:
            raise ValueError("high must be >= low")
        return self

    @classmethod
    def parse(cls, text: str | int, *, field: str) -> LengthSpec:
        try:
            if isinstance(text, int):
                return cls(low=text, high=text)
            low_s, _, high_s = str(text).partition(":")
            low = int(low_s)
            return cls(low=low, high=int(high_s) if high_s else low)
        except ValueError as exc:
            raise BenchError(
                f"'{text}' is not a token count from 1 to {MAX_PROMPT_TOKENS:,}",
                field=field,
                hint="give N or LOW:HIGH, e.g. 128",
            ) from exc

    def draw(self, rng: random.Random) -> int:
        return self.low if self.low == self.high else rng.randint(self.low, self.high)

    def __str__(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}:{self.high}"


class PromptSpec(BaseModel):
    """One request to send: its text and how many tokens to ask for."""

    model_config = ConfigDict(frozen=True)

    text: str
    input_tokens_estimate: int
    max_tokens: int
    arrival_s: float | None = Field(default=None, description="offset in a replayed schedule")


def _words(rng: random.Random, count: int) -> list[str]:
    return rng.choices(WORDS, k=count)


def synthetic_prompts(
    count: int,
    input_len: LengthSpec,
    output_len: LengthSpec,
    *,
    shared_prefix_tokens: int = 0,
    seed: int = 0,
) -> list[PromptSpec]:
    """``count`` prompts with unique leading tags (no cross-request prefix-cache hits).

    Fewer are made when ``count`` of the longest would pass MAX_TOTAL_PROMPT_TOKENS; a run
    then cycles through them (see :func:`distinct_prompts`)."""
    if shared_prefix_tokens > MAX_PROMPT_TOKENS:
        raise BenchError(f"at most {MAX_PROMPT_TOKENS:,} tokens", field="shared-prefix-len")
    count = distinct_prompts(count, input_len.high + shared_prefix_tokens)
    rng = random.Random(seed)
    prefix = _words(random.Random(seed + 1), shared_prefix_tokens)
    prompts = []
    for _ in range(count):
        length = input_len.draw(rng)
        # A 4-word random tag: 170**4 ~ 8e8 combinations, so collisions are negligible.
        tag = _words(rng, min(4, length))
        body = _words(rng, max(0, length - len(tag)))
        text = " ".join([*prefix, *tag, *body])
        prompts.append(
            PromptSpec(
                text=text,
                input_tokens_estimate=len(prefix) + length,
                max_tokens=output_len.draw(rng),
            )
        )
    return prompts


def distinct_prompts(count: int, tokens_each: int) -> int:
    """How many prompts of up to ``tokens_each`` tokens fit in MAX_TOTAL_PROMPT_TOKENS."""
    return max(1, min(count, MAX_TOTAL_PROMPT_TOKENS // max(1, tokens_each)))


def replay_prompts(
    rows: Sequence[tuple[float | None, int, int]], *, seed: int = 0
) -> list[PromptSpec]:
    """Prompts shaped like logged requests: (arrival s or None, input tokens, output tokens)."""
    total = sum(max(1, i) for _, i, _ in rows)
    if total > MAX_TOTAL_PROMPT_TOKENS:
        raise BenchError(
            f"the replayed requests hold {total:,} prompt tokens; at most "
            f"{MAX_TOTAL_PROMPT_TOKENS:,}",
            field="replay",
            hint="replay fewer with --requests",
        )
    rng = random.Random(seed)
    start = min((t for t, _, _ in rows if t is not None), default=None)
    prompts = []
    for arrival, input_tokens, output_tokens in rows:
        text = " ".join(_words(rng, max(1, input_tokens)))
        offset = None if arrival is None or start is None else arrival - start
        prompts.append(
            PromptSpec(
                text=text,
                input_tokens_estimate=input_tokens,
                max_tokens=max(1, output_tokens),
                arrival_s=offset,
            )
        )
    return prompts
