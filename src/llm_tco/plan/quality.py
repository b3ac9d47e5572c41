"""What running a model below its native precision may cost in quality.

A range is cited only where a published evaluation measured that model family at that format;
everywhere else the note says no evaluation is known, and the user can forbid the precision
(``llm-tco plan --forbid-precision int4``, or ``allowed_precisions`` in the scenario) or measure
it on their own prompts (``llm-tco quality``).
"""

from __future__ import annotations

from dataclasses import dataclass

from llm_tco.catalog.schema import ModelArch

# Bits per weight of each precision the search considers; a model's native format sets which
# of them are a quantisation of it.
BITS = {"bf16": 16, "fp16": 16, "fp8": 8, "int8": 8, "mxfp4": 4, "int4": 4}

KURTIC_2025 = (
    'Kurtic et al., "Give Me BF16 or Give Me Death? Accuracy-Performance Trade-Offs in LLM '
    'Quantization", ACL 2025 (https://arxiv.org/abs/2411.02355), Llama 3.1 8B/70B/405B'
)


@dataclass(frozen=True)
class Evaluation:
    """A published measurement of one model family at one format."""

    families: tuple[str, ...]  # catalog model ids it measured
    precision: str
    finding: str
    source: str


EVALUATIONS = (
    Evaluation(
        ("llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b"),
        "fp8",
        "FP8 weights and activations measured lossless",
        KURTIC_2025,
    ),
    Evaluation(
        ("llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b"),
        "int8",
        "INT8 weights and activations, tuned, measured 1-3% accuracy loss",
        KURTIC_2025,
    ),
    Evaluation(
        ("llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b"),
        "int4",
        "INT4 weight-only measured competitive with INT8 (1-3% accuracy loss)",
        KURTIC_2025,
    ),
)


def quality_note(arch: ModelArch, precision: str) -> str | None:
    """None at (or above) the model's native precision; else what is known of the loss."""
    if BITS.get(precision, 16) >= BITS.get(arch.native_precision, 16):
        return None
    for ev in EVALUATIONS:
        if arch.id in ev.families and ev.precision == precision:
            return f"{precision}: {ev.finding} ({ev.source})"
    return (
        f"{precision} is below {arch.id}'s native {arch.native_precision}: no published "
        "evaluation of this model at this format is in the catalog; measure it on your own "
        "prompts (llm-tco quality) or forbid it"
    )
