"""Toy deployments for hand-worked capacity tests: every term zero unless a test names it."""

from __future__ import annotations

import dataclasses
from typing import Any

from llm_tco.core.capacity import Factors, Replica


def toy_replica(**terms: Any) -> Replica:
    """One GPU, one stage, one layer, 1 TB/s, 1 PFLOP/s, 100 GB/s links; nothing to read,
    compute or send but ``terms``."""
    zero = Replica(**{f.name: 0.0 for f in dataclasses.fields(Replica)})
    base = {
        "stage_gpus": 1.0,
        "data_parallel": 1.0,
        "pipeline": 1.0,
        "stage_layers": 1.0,
        "experts": 1.0,
        "bandwidth_bytes_per_s": 1e12,
        "compute_flops_per_s": 1e15,
        "attention_flops_per_s": 1e15,
        "link_bytes_per_s": 1e11,
    }
    return dataclasses.replace(zero, **{**base, **terms})


def toy_factors(**terms: float) -> Factors:
    """Every efficiency reached in full, no latency or fixed cost but ``terms``."""
    base = {
        "bandwidth": 1.0,
        "compute": 1.0,
        "prefill": 1.0,
        "link": 1.0,
        "collective_latency_s": 0.0,
        "step_overhead_s": 0.0,
        "layer_overhead_s": 0.0,
        "moe_block_tokens": 0.0,
    }
    return Factors(**{**base, **terms})
