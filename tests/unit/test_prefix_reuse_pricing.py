"""Prefix reuse on both sides: the API bills reused input at its cache-read price, and a
self-hosted replica that skips the reused prefill serves more, by hand-worked amounts.

Workload: 465M requests a month of 1,000 input + 200 output tokens (465B input, 93B output),
60% of the input in prefixes seen before (``prefix_reuse_share: 0.6``).
"""

from __future__ import annotations

from typing import Any

import pytest

from llm_tco.core import capacity
from llm_tco.evaluate import evaluate
from llm_tco.scenario import Scenario

# An engine at the datasheet's peak FLOP/s with memory and links too fast to matter: every
# step is compute bound and costs 2 x 8.03B FLOPs per token it carries (attention adds ~2%).
IDEAL = capacity.Efficiency(
    engine="vllm",
    bandwidth_efficiency=1e6,
    compute_efficiency=1.0,
    prefill_compute_efficiency=1.0,
    link_efficiency=1e6,
)


def scenario(reuse: float | None) -> Scenario:
    workload: dict[str, Any] = {
        "requests_per_month": 465e6,
        "input_tokens_per_request": 1000,
        "output_tokens_per_request": 200,
    }
    if reuse is not None:
        workload["prefix_reuse_share"] = reuse
    return Scenario.model_validate(
        {
            "name": "reuse",
            "workload": workload,
            "options": [
                {
                    "name": "api",
                    "api": {
                        "input_per_mtok": 3.0,
                        "output_per_mtok": 15.0,
                        "cached_input_per_mtok": 0.3,
                    },
                },
                {
                    "name": "own",
                    "self_hosted": {
                        "model": "llama-3.1-8b",
                        "precision": "bf16",
                        "gpu": "h100-sxm-80gb",
                        "gpu_count": "auto",
                        "gpus_per_replica": 1,
                        "gpu_hourly_price": 2.0,
                    },
                },
            ],
        }
    )


def test_the_api_bill_falls_by_the_cache_read_discount() -> None:
    """Without reuse: 465,000 MTok x $3 + 93,000 MTok x $15 = $2,790,000. With 60% reused:
    186,000 x $3 + 279,000 x $0.30 + 93,000 x $15 = $2,036,700, $753,300 less
    (279,000 MTok x ($3 - $0.30))."""
    before = next(o for o in evaluate(scenario(None)).options if o.name == "api")
    after = next(o for o in evaluate(scenario(0.6)).options if o.name == "api")
    assert before.monthly_cost == pytest.approx(2_790_000)
    assert after.monthly_cost == pytest.approx(2_036_700)
    assert after.breakdown["cached_input"] == pytest.approx(83_700)


def test_the_replica_serves_more_and_fewer_gpus_are_needed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Compute bound at H100 SXM's 989.5 dense bf16 TFLOP/s (datasheet, catalog gpus.yaml),
    a token costs 2 x 8.03e9 FLOPs: 989.5e12 / 16.06e9 = 61,613 tokens/s carried per replica.
    Without reuse every served token is carried: 61,613 tokens/s. With 60% of the input reused
    a request carries 400 + 200 tokens and serves 1,200: 61,613 x 1,200 / 600 = 123,227.
    The load: 465M x 1,200 tokens / 2,592,000 s = 215,278 tokens/s: 3.49 replicas, so 4
    without reuse and 1.75, so 2, with it."""
    monkeypatch.setattr(capacity, "select_efficiency", lambda *args, **kwargs: IDEAL)
    before = next(o for o in evaluate(scenario(None)).options if o.name == "own")
    result = evaluate(scenario(0.6))
    after = next(o for o in result.options if o.name == "own")
    assert before.deployment is not None and after.deployment is not None
    per_replica = before.deployment.capacity_tokens_per_second_per_replica
    assert per_replica == pytest.approx(61_613, rel=0.03)  # attention: the model is ~2% under
    reused = after.deployment.capacity_tokens_per_second_per_replica
    assert reused == pytest.approx(123_227, rel=0.03)
    assert (before.gpus, after.gpus) == (4, 2)
    note = next(a for a in result.assumptions if a.name == "own: prefix reuse")
    # KV of the 600 reused tokens: 2 x 32 layers x 8 KV heads x 128 x 2 bytes = 131,072 B per
    # token, 78.6 MB.
    assert "0.08 GB" in note.value and "400 prefilled" in note.value
