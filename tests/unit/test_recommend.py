"""The recommendation on each seed's worked example, and the decision rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_tco.recommend_eval import recommend
from llm_tco.scenario import load_scenario, scenario_from_data

EXAMPLES = Path(__file__).parents[2] / "examples"

# The seeds' verdicts from their own inputs.
SEED_VERDICTS = {
    # "200M tokens ... API WINS 8x cheaper"
    "seed0-opus-vs-glm": "claude-opus-4.6",
    # "Self-hosted Llama saves $12,000/month"
    "seed1-high-volume-haiku-vs-llama": "llama-3.3-70b",
    # "Verdict: For DeepSeek V3, use the API unless you have strict data residency requirements"
    "seed2-deepseek-self-vs-api": "deepseek-api",
    # "500M tokens ... +$580 (self-host 56% cheaper)"
    "seed2-llama8b-vs-haiku35": "llama-3.1-8b",
    # "1B tokens ... +$1,514 (self-host cheaper)"
    "seed2-maverick-vs-gpt4o": "maverick-2xh100",
    # "In most cases, Gemini Flash API is the better choice"
    "seed2-mistral-small-vs-flash": "gemini-2.5-flash",
    # "High Volume (>10M tokens) -> Self-Hosted Open Source" (at 10M/day, break-even 5-10M/day)
    "seed3-dedicated-h100": "llama-70b-1xh100",
    # 10M tokens/day: "Against Haiku, it's a wash"; "Haiku 4.5 for cost-sensitive bulk"
    "seed4-sonnet-haiku-vs-gex44": "claude-haiku-4.5",
}


@pytest.mark.parametrize("stem", sorted(SEED_VERDICTS))
def test_matches_the_seed_or_explains_with_numbers(stem: str) -> None:
    rec = recommend(load_scenario(EXAMPLES / f"{stem}.yaml"))
    if rec.choose == SEED_VERDICTS[stem]:
        return
    # A different choice must be explained by a computed number: the option the seed picks is
    # infeasible as stated, or the volume sits on the other side of the computed break-even.
    explained = [
        r
        for r in rec.reasons
        if r.code in ("infeasible", "breakeven")
        and SEED_VERDICTS[stem] in r.text + r.evidence
        and any(c.isdigit() for c in r.evidence)
    ]
    assert explained, [r.text for r in rec.reasons]


def test_seed3_differs_because_its_stated_prices_break_even_at_449m() -> None:
    # RunPod H100 $2.49 x 720 h = $1,792.80 + 15 h x $150 = $2,250 -> $4,042.80/month; Sonnet
    # 4.6 at 50/50 is $9/MTok blended -> 4,042.8 / 9e-6 = 449.2M tokens/month (15.0M/day),
    # above the seed's 150-300M: at 300M/month the API is cheaper.
    rec = recommend(load_scenario(EXAMPLES / "seed3-dedicated-h100.yaml"))
    assert rec.choose == "claude-sonnet-4.6"
    assert any(r.code == "breakeven" and "449M" in r.text for r in rec.reasons)


def _seed1(decision: dict[str, object]) -> dict[str, object]:
    return {
        "workload": {
            "requests_per_month": "10M",
            "input_tokens_per_request": 1000,
            "output_tokens_per_request": 200,
        },
        "options": [
            {"name": "haiku", "api": {"input_per_mtok": 1, "output_per_mtok": 5}},
            {
                "name": "llama",
                "self_hosted": {
                    "gpu": "a100-80gb-sxm",
                    "gpu_count": 4,
                    "gpu_monthly_price": 1500,
                    "ops_monthly": 2000,
                    "variable_per_mtok": 0.1,
                },
            },
        ],
        "decision": decision,
    }


def test_fewer_than_four_yes_defaults_to_the_api() -> None:
    # Yes: volume 12B >= break-even 5.1B, open model good enough. No: the other four. 2 < 4.
    rec = recommend(
        scenario_from_data(
            _seed1(
                {
                    "open_model_meets_quality": True,
                    "gpu_ops_skill": False,
                    "fine_tuning_needed": False,
                    "data_residency_required": False,
                    "willing_to_rebenchmark": False,
                }
            )
        )
    )
    assert rec.choose == "haiku" and rec.six_questions_yes == 2
    assert any(r.code == "six_questions" and r.weight == "decides" for r in rec.reasons)


def test_four_yes_keeps_the_cheaper_self_hosted_option() -> None:
    rec = recommend(
        scenario_from_data(
            _seed1(
                {
                    "open_model_meets_quality": True,
                    "gpu_ops_skill": True,
                    "willing_to_rebenchmark": True,
                    "fine_tuning_needed": False,
                }
            )
        )
    )
    assert rec.choose == "llama" and rec.six_questions_yes == 4


def test_residency_forces_self_hosting_regardless_of_cost() -> None:
    data = _seed1({"data_residency_required": True})
    data["workload"]["requests_per_month"] = "100K"  # type: ignore[index]  # API 40x cheaper
    rec = recommend(scenario_from_data(data))
    assert rec.choose == "llama" and "strict data residency" in rec.five_cases


def test_capability_tax_with_fixed_gpus_barely_moves_the_breakeven() -> None:
    # Haiku: $20,000 / 12B = $1.6667/MTok. Llama fixed $8,000; 35% retries make its $0.10/MTok
    # $0.135/MTok. Break-even 8,000 / (1.6667 - 0.10) = 5.106B without, 8,000 / (1.6667 -
    # 0.135) = 5.223B with: x1.023, not the seed's x1.3-1.4, because the GPUs are fixed.
    data = _seed1({})
    data["options"][1]["retry_rate"] = 0.35  # type: ignore[index]
    tax = recommend(scenario_from_data(data), samples=0).capability_tax[0]
    assert tax.without_tax_tokens_per_month == pytest.approx(8000 / (20000 / 12e9 - 0.1e-6))
    assert tax.with_tax_tokens_per_month == pytest.approx(8000 / (20000 / 12e9 - 0.135e-6))
    assert tax.shift == pytest.approx(1.0229, abs=1e-3)


def test_breakeven_with_an_option_that_cannot_serve_is_only_a_caveat() -> None:
    # Seed 1 as stated: 4x A100 cannot carry 12B tokens/month (capacity warning), so its 5.11B
    # break-even with Haiku cannot argue against choosing Haiku.
    rec = recommend(load_scenario(EXAMPLES / "seed1-high-volume-haiku-vs-llama.yaml"))
    assert rec.choose == "claude-haiku-4.5"
    breakeven = [r for r in rec.reasons if r.code == "breakeven"]
    assert breakeven and all(r.weight == "caveat" for r in breakeven)
    assert "if it could serve" in breakeven[0].text


def test_a_simulation_is_a_reason_only_when_something_was_uncertain() -> None:
    """With no range in the scenario every simulated month is the point evaluation, so
    "cheapest in 100% of 10,000 simulated months" says nothing; with a range it is cited."""
    from pathlib import Path

    from llm_tco.recommend_eval import recommend as run
    from llm_tco.scenario import load_scenario

    examples = Path(__file__).resolve().parents[2] / "examples"
    fixed = run(load_scenario(examples / "provisioned-vs-api.yaml"), 500, 1)
    assert fixed.simulation is not None and fixed.simulation.inputs == []
    assert not any("simulated months" in r.text for r in fixed.reasons)
    ranged = run(load_scenario(examples / "hybrid-llama-sonnet.yaml"), 500, 1)
    assert ranged.simulation is not None and ranged.simulation.inputs
    assert any("of 500 simulated months" in r.text for r in ranged.reasons)


def test_a_verdict_that_turns_on_the_capacity_models_error_says_so() -> None:
    """Seed 1's 4 x A100 Llama deployment at exactly its modelled capacity C (tokens/month):
    at the low end of the out-of-source band (p10 of measured / predicted, below 1) it cannot
    serve C, so Haiku is cheapest; at the high end (p90, above 1) it serves C for
    $6,000 + $2,000 + C x $0.10/MTok, below Haiku's C x 1,000/1,200 x $1 + C x 200/1,200 x $5
    per MTok (at C ~ 6.4B: ~$8,640 against ~$10,700). The recommendation names the error and
    the pilot that settles it. Far below C (1.2B: Haiku $2,000 against Llama's $8,120 at
    either end) and far above (12B: beyond C x p90) the error decides nothing."""
    from llm_tco.capacity_factors import error_band
    from llm_tco.evaluate import evaluate

    data = _seed1({})
    data.pop("decision")
    llama_spec = data["options"][1]["self_hosted"]  # type: ignore[index]
    llama_spec.update(model="llama-3.3-70b", precision="bf16")  # sized by the capacity model
    point = evaluate(scenario_from_data(data), volumes=[])
    llama = point.option("llama")
    assert llama.deployment is not None and llama.deployment.capacity_tokens_per_month
    capacity = llama.deployment.capacity_tokens_per_month
    band = error_band(False)
    assert band is not None and band.ratio_at(0.1) < 1 < band.ratio_at(0.9)
    assert capacity * band.ratio_at(0.9) < 12e9  # so 12B is beyond reach at either end

    def reasons(requests: float) -> list[str]:
        data["workload"]["requests_per_month"] = requests  # type: ignore[index]
        rec = recommend(scenario_from_data(data))
        return [r.text for r in rec.reasons if r.code == "capacity_model_error"]

    (text,) = reasons(capacity / 1200)
    assert "low end" in text and "haiku is cheapest" in text and "high end" in text
    assert text.endswith(
        "llama; a pilot on the hardware (`llm-tco bench`, then `llm-tco calibrate`) would settle it"
    )
    assert reasons(1e6) == [] and reasons(10e6) == []
