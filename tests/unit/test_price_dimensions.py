"""Every API price dimension, hand-worked against the provider's published rate.

Workload throughout: 100M input + 20M output tokens a month, so an API at $a in / $b out per
MTok costs 100a + 20b dollars. Each test states the rate from the provider's page (not from
genai-prices) and the page's URL; the tool's figure comes from genai-prices' data through the
scenario, so a data change that breaks a published rate fails here.
"""

from __future__ import annotations

import datetime as dt

import pytest

from llm_tco.evaluate import evaluate
from llm_tco.resolve import Notes, check_price_freshness
from llm_tco.scenario import scenario_from_data

ANTHROPIC_PRICING = "https://docs.anthropic.com/en/docs/about-claude/pricing"


def run(api: dict[str, object], **workload: object):
    data = {
        "workload": {
            "input_tokens_per_month": "100M",
            "output_tokens_per_month": "20M",
            **workload,
        },
        "options": [{"name": "api", "api": api}],
    }
    result = evaluate(scenario_from_data(data))
    return result.options[0], result.warnings


def codes(warnings) -> set[str]:
    return {w.code for w in warnings}


def test_long_context_share_pays_the_over_200k_rate():
    # ANTHROPIC_PRICING, long context table for Sonnet 4/4.5: prompts <= 200K input tokens:
    # $3 in / $15 out per MTok; > 200K: $6 in / $22.50 out, for every token of the request.
    # 25% of tokens are in long requests: 25M in x (6 - 3) + 5M out x (22.50 - 15)
    # = 75 + 37.50 = $112.50 on top of 100 x 3 + 20 x 15 = $600.
    option, _ = run({"model": "claude-sonnet-4.5", "context_over_200k_share": 0.25})
    assert option.breakdown["input"] == pytest.approx(300.0)
    assert option.breakdown["output"] == pytest.approx(300.0)
    assert option.breakdown["long_context"] == pytest.approx(112.5)
    assert option.monthly_cost == pytest.approx(712.5)
    assert option.price.long_context_threshold_tokens == 200_000


def test_cache_write_5_minutes_and_1_hour():
    # ANTHROPIC_PRICING, Claude Sonnet 4 row (Sonnet 4.5 is priced alike): base input $3,
    # 5m cache writes $3.75, 1h cache writes $6, output $15 per MTok.
    # 10% of input written: 10M x 3.75 = $37.50 (5m) or 10M x 6 = $60 (1h); the other 90M
    # pay $3: 270; output 20M x 15 = 300.
    five, _ = run({"model": "claude-sonnet-4.5", "cache_write_share": 0.1})
    assert five.breakdown["cache_write"] == pytest.approx(37.5)
    assert five.breakdown["input"] == pytest.approx(270.0)
    assert five.monthly_cost == pytest.approx(607.5)
    hour, _ = run({"model": "claude-sonnet-4.5", "cache_write_share": 0.1, "cache_ttl": "1h"})
    assert hour.breakdown["cache_write"] == pytest.approx(60.0)
    assert hour.monthly_cost == pytest.approx(630.0)


def test_flex_tier():
    # https://developers.openai.com/api/docs/guides/flex-processing: "Tokens are priced at
    # Batch API rates"; Batch is 50% off (https://help.openai.com/en/articles/9197833-batch-api-faq)
    # GPT-5's $1.25 in / $10 out (https://developers.openai.com/api/docs/pricing): $0.625 / $5.
    # 100 x 0.625 + 20 x 5 = 62.50 + 100 = $162.50.
    option, warnings = run({"model": "gpt-5", "tier": "flex"})
    assert option.monthly_cost == pytest.approx(162.5)
    assert option.price.tier == "flex"
    assert "no_tier_price" not in codes(warnings)


def test_priority_tier():
    # https://openai.com/api-priority-processing/ table: GPT-5 priority $2.50 per 1M input,
    # $20.00 per 1M output. 100 x 2.50 + 20 x 20 = 250 + 400 = $650.
    option, _ = run({"model": "gpt-5", "tier": "priority"})
    assert option.monthly_cost == pytest.approx(650.0)


def test_batch_tier_prices_all_traffic_at_batch_rates_once():
    # ANTHROPIC_PRICING batch table, Claude Sonnet 4 (Sonnet tier): batch input $1.50, batch
    # output $7.50 per MTok. 100 x 1.50 + 20 x 7.50 = $300. The batch discount is not applied
    # a second time on top (batch_share is for a standard-tier option's batch part).
    option, _ = run({"model": "claude-sonnet-4.5", "tier": "batch"}, batch_share=1.0)
    assert option.monthly_cost == pytest.approx(300.0)
    assert "batch_discount" not in option.breakdown


def test_missing_dimensions_degrade_with_a_warning():
    # genai-prices has no flex rate for Claude, no regional rate for Anthropic and no
    # long-context tier for GPT-5: the standard rate is used and a warning says so.
    flex, warnings = run({"model": "claude-sonnet-4.5", "tier": "flex"})
    assert flex.monthly_cost == pytest.approx(600.0)
    assert "no_tier_price" in codes(warnings)
    _, warnings = run({"model": "claude-sonnet-4.5", "region": "eu"})
    assert "no_region_price" in codes(warnings)
    long, warnings = run({"model": "gpt-5", "context_over_200k_share": 0.5})
    assert long.monthly_cost == pytest.approx(100 * 1.25 + 20 * 10)
    assert "no_long_context_price" in codes(warnings)
    # OpenAI bills no cache-write surcharge: writes at the input price, with a warning.
    written, warnings = run({"model": "gpt-5", "cache_write_share": 0.2})
    assert written.monthly_cost == pytest.approx(100 * 1.25 + 20 * 10)
    assert "no_cache_write_price" in codes(warnings)


def test_cache_shares_cannot_add_past_the_input():
    from llm_tco.errors import ScenarioError

    with pytest.raises(ScenarioError, match="cache_write_share"):
        run({"model": "claude-sonnet-4.5", "cache_write_share": 0.6}, cached_input_share=0.5)


def test_deepseek_is_current_and_says_the_package_data_differs():
    # https://api-docs.deepseek.com/quick_start/pricing (DeepSeek-V3.2, as quoted on 2026-04-13
    # by https://benchlm.ai/blog/posts/deepseek-api-pricing): cache miss $0.28, output $0.42.
    # 100 x 0.28 + 20 x 0.42 = 28 + 8.40 = $36.40. genai-prices 0.2.3 still has $0.27/$1.10.
    option, warnings = run({"model": "deepseek-chat"})
    assert option.monthly_cost == pytest.approx(36.4)
    disagree = [w for w in warnings if w.code == "price_sources_disagree"]
    assert disagree and "$0.28/$0.42" in disagree[0].message
    assert "$0.27/$1.1" in disagree[0].message
    reasoner, _ = run({"model": "deepseek-reasoner"})
    assert reasoner.monthly_cost == pytest.approx(36.4)


@pytest.mark.parametrize(
    ("model", "checked"),
    [
        # genai-prices' prices/providers/fireworks.yml and together.yml: prices_checked dates.
        ("fireworks/accounts/fireworks/models/llama-v3p1-8b-instruct", "2025-07-13"),
        ("together/meta-llama/Llama-3.3-70B-Instruct-Turbo", "2025-07-03"),
    ],
)
def test_fast_moving_provider_prices_older_than_90_days_are_flagged(model, checked):
    _, warnings = run({"model": model})
    old = [w for w in warnings if w.code == "price_check_old"]
    assert old and f"last checked {checked}" in old[0].message


def test_freshness_rule_is_90_days_for_fast_movers_only(catalog):
    quote = catalog.api_price("fireworks/accounts/fireworks/models/llama-v3p1-8b-instruct")
    checked = quote.checked_on
    assert checked is not None
    for days, flagged in ((90, False), (91, True)):
        notes = Notes()
        check_price_freshness("x", quote, notes, today=checked + dt.timedelta(days=days))
        assert any(w.code == "price_check_old" for w in notes.warnings) is flagged
    slow = catalog.api_price("claude-sonnet-4.5")
    notes = Notes()
    check_price_freshness("x", slow, notes, today=dt.date(2030, 1, 1))
    assert not notes.warnings


def test_sampled_dimensions_match_evaluate_at_the_same_value():
    """The Monte Carlo reads the new shares through the one pricing path: a sample at v costs
    what `evaluate` gives with v written in."""
    import numpy as np

    from llm_tco.simulate import sample_costs

    base = {
        "workload": {"input_tokens_per_month": "100M", "output_tokens_per_month": "20M"},
        "options": [
            {
                "name": "api",
                "api": {
                    "model": "claude-sonnet-4.5",
                    "context_over_200k_share": {"low": 0.0, "high": 0.5},
                    "cache_write_share": {"low": 0.0, "high": 0.3},
                    "cache_ttl": "1h",
                },
            }
        ],
    }
    sc = scenario_from_data(base)
    values = {"context_over_200k_share": 0.37, "cache_write_share": 0.21}
    draws = {f"options[api].api.{k}": np.array([v]) for k, v in values.items()}
    sampled = sample_costs(sc, draws)
    fixed = {**base["options"][0]["api"], **values}
    written = scenario_from_data({**base, "options": [{"name": "api", "api": fixed}]})
    expected = evaluate(written).options[0].monthly_cost
    assert float(sampled.monthly_usd["api"][0]) == pytest.approx(expected, rel=1e-12)
    # The shares moved the cost off the plain 100 x 3 + 20 x 15 = $600 (hand-worked above).
    assert expected != pytest.approx(600.0)
