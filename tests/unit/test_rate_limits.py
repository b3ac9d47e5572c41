"""Rate limits: the workload's peak minute against a tier's published limits.

Hand-worked: 720 h = 43,200 minutes. The limits are the catalog's rows (Anthropic's and
OpenAI's rate-limit pages, see catalog/rate_limits.yaml).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from llm_tco.errors import LlmTcoError, ScenarioError
from llm_tco.scenario import scenario_from_data
from llm_tco.simulate import sample_costs
from support import run


def haiku(peak: float, limits: dict[str, Any], **workload: Any) -> dict[str, Any]:
    # 1B input (half of it cache reads) + 200M output a month, at $1 / $0.10 / $5 per MTok.
    return {
        "workload": {
            "input_tokens_per_month": "1B",
            "output_tokens_per_month": "200M",
            "cached_input_share": 0.5,
            "peak_to_mean": peak,
            **workload,
        },
        "options": [
            {
                "name": "haiku",
                "api": {
                    "model": "claude-haiku-4.5",
                    "provider": "anthropic",
                    "rate_limits": limits,
                },
            }
        ],
        "sweep": [1e8, 8e8, 9e8, 2e9],
    }


def codes(result: Any) -> set[str]:
    return {w.code for w in result.warnings}


def test_peak_under_a_tier_passes_quietly() -> None:
    # Peak 2: output 200M x 2 / 43,200 = 9,259 OTPM < Tier 1's 10,000; uncached input
    # 500M x 2 / 43,200 = 23,148 ITPM < 50,000 (cache reads do not count for Haiku 4.5).
    result = run(haiku(2.0, {"tier": "tier-1"}))
    assert not codes(result) & {"rate_limit_exceeded", "rate_limited"}
    assert any(a.name == "haiku: rate limits" for a in result.assumptions)


def test_peak_over_a_tier_warns_with_the_limit_and_remedies_and_a_higher_tier_clears() -> None:
    # Peak 3: 200M x 3 / 43,200 = 13,889 output tokens/min, over Tier 1's 10,000 OTPM.
    result = run(haiku(3.0, {"tier": "tier-1"}))
    (warning,) = [w for w in result.warnings if w.code == "rate_limit_exceeded"]
    assert warning.option == "haiku"
    assert "13.9K output tokens/min needed, over 10K output tokens/min" in warning.message
    assert "tier-1" in warning.message
    for remedy in ("higher tier", "regions or accounts", "batch share", "provisioned"):
        assert remedy in warning.message
    assert "tier-2 carries this peak" in warning.message  # Tier 2: 90,000 OTPM
    assert result.option("haiku").feasible  # remedies are allowed: still an option
    raised = run(haiku(3.0, {"tier": "2"}))
    assert not codes(raised) & {"rate_limit_exceeded", "rate_limited"}


def test_the_batch_share_is_not_counted_against_the_real_time_limits() -> None:
    # Half the traffic on the batch API: 13,889 x 0.5 = 6,944 OTPM < 10,000.
    result = run(haiku(3.0, {"tier": "tier-1"}, batch_share=0.5))
    assert "rate_limit_exceeded" not in codes(result)


def test_no_remedy_allowed_marks_the_option_unable_to_serve() -> None:
    result = run(haiku(3.0, {"tier": "tier-1", "remedies": False}))
    option = result.option("haiku")
    assert not option.feasible
    assert "cannot serve this volume" in (option.infeasible_reason or "")
    assert result.cheapest is None
    # Capacity at this shape: OTPM binds, 10,000 x 43,200 / (3 x 200M/1.2B) = 864M tokens/month
    # (ITPM would allow 50,000 x 43,200 / (3 x 500M/1.2B) = 1.728B).
    flags = {row.tokens_per_month: row.feasible["haiku"] for row in result.sweep}
    assert flags == {1e8: True, 8e8: True, 9e8: False, 2e9: False}
    reason = next(r for r in result.sweep if r.tokens_per_month == 9e8).infeasible_reasons
    assert "864M tokens/month" in reason["haiku"]
    # The Monte Carlo marks the same samples: 1.2B tokens is beyond 864M, 0.6B within.
    sc = scenario_from_data(haiku(3.0, {"tier": "tier-1", "remedies": False}))
    draws = {"workload.input_tokens_per_month": np.array([1e9, 5e8])}
    draws["workload.output_tokens_per_month"] = np.array([2e8, 1e8])
    sampled = sample_costs(sc, draws)
    assert sampled.feasible["haiku"].tolist() == [False, True]


def test_stated_limits_and_requests_per_minute() -> None:
    # 1M requests a month, peak 3: 1M x 3 / 43,200 = 69.4 requests/min, over a stated 50 RPM.
    data = {
        "workload": {
            "requests_per_month": "1M",
            "input_tokens_per_request": 1000,
            "output_tokens_per_request": 200,
            "peak_to_mean": 3,
        },
        "options": [
            {
                "name": "own-api",
                "api": {
                    "input_per_mtok": 1,
                    "output_per_mtok": 5,
                    "rate_limits": {"requests_per_minute": 50},
                },
            }
        ],
    }
    result = run(data)
    (warning,) = [w for w in result.warnings if w.code == "rate_limit_exceeded"]
    assert "69.4 requests/min needed, over 50 requests/min" in warning.message
    assert "the stated limits" in warning.message


def test_unknown_tier_names_the_field_and_lists_the_known_ones() -> None:
    with pytest.raises(LlmTcoError) as info:
        run(haiku(1.0, {"tier": "tier-9"}))
    assert info.value.field == "options[haiku].api.rate_limits.tier"
    assert "tier-1" in (info.value.hint or "")


def test_a_tier_without_a_catalog_model_is_refused() -> None:
    data = {
        "workload": {"tokens_per_month": "1B", "input_share": 0.5},
        "options": [
            {
                "name": "x",
                "api": {"input_per_mtok": 1, "output_per_mtok": 2, "rate_limits": {"tier": "1"}},
            }
        ],
    }
    with pytest.raises(ScenarioError) as info:
        run(data)
    assert info.value.field == "options[x].api.rate_limits.tier"
