"""Provisioned throughput: whole units sized to the peak minute, priced like GPU replicas.

Hand-worked throughout: 720 h = 43,200 minutes; the Azure figures are the catalog's rows from
Microsoft Learn's "Provisioned throughput unit (PTU) costs and billing" (gpt-4.1: 3,000 input
TPM per PTU, one output token counts as 4 input tokens, cached tokens not counted; Global:
minimum 15, step 5; Regional gpt-4o-mini: 37,000 input TPM per PTU, minimum 25, step 25).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from llm_tco.errors import LlmTcoError, ScenarioError
from llm_tco.recommend_eval import recommend
from llm_tco.scenario import scenario_from_data
from llm_tco.simulate import sample_costs, simulate
from support import run

# 1B input + 200M output tokens a month, peak 2x the mean. Per workload token the PTU counts
# 1/1.2 input + (0.2/1.2) x 4 output = 1.5 input-equivalent tokens; the peak minute carries
# 1.2B x 2 / 43,200 = 55,556 tokens = 83,333 input-equivalent tokens.
WORKLOAD = {
    "input_tokens_per_month": "1B",
    "output_tokens_per_month": "200M",
    "peak_to_mean": 2,
}


def scenario(*options: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"workload": copy.deepcopy(WORKLOAD), "options": list(options), **extra}


PTU = {"name": "ptu", "provisioned": {"offer": "azure-global-gpt-4.1", "unit_price_hourly": 1.0}}
API = {"name": "api", "api": {"input_per_mtok": 2, "output_per_mtok": 8}}


def test_units_sized_to_the_peak_in_whole_steps() -> None:
    # 83,333 / 3,000 = 27.8 PTUs -> steps of 5 -> 30 PTUs; $1/PTU-hour x 720 h = $720 each:
    # 30 x 720 = $21,600.
    result = run(scenario(PTU, API))
    ptu = result.option("ptu")
    assert ptu.kind == "provisioned"
    assert ptu.provisioned is not None
    assert ptu.provisioned.units == 30
    assert ptu.provisioned.units_needed_at_peak == 30
    assert ptu.monthly_cost == pytest.approx(21600)
    assert ptu.breakdown == pytest.approx({"units": 21600})
    assert ptu.line_items[0].formula == "30 PTUs x $1/unit-hour x 720 h"
    # 30 PTUs carry 30 x 3,000 / 1.5 x 43,200 / 2 = 1.296B tokens a month at this peak.
    assert ptu.provisioned.capacity_tokens_per_month == pytest.approx(1.296e9)


def test_catalog_unit_price_and_minimum_purchase() -> None:
    # Regional gpt-4o-mini: 83,333 / 37,000 = 2.25 PTUs, but the minimum is 25: 25 x $260 a
    # month (the catalog's monthly reservation price) = $6,500.
    ptu = {"name": "mini", "provisioned": {"offer": "azure-regional-gpt-4o-mini"}}
    result = run(scenario(ptu))
    mini = result.option("mini")
    assert mini.provisioned is not None and mini.provisioned.units == 25
    assert mini.monthly_cost == pytest.approx(6500)
    assert "Packt" in mini.line_items[0].source
    hourly = copy.deepcopy(ptu)
    hourly["provisioned"]["term"] = "hourly"  # $2/PTU-hour x 720 h x 25 = $36,000
    assert run(scenario(hourly)).option("mini").monthly_cost == pytest.approx(36000)


def test_fixed_units_cannot_serve_beyond_their_throughput() -> None:
    fixed = copy.deepcopy(PTU)
    fixed["provisioned"]["units"] = 15  # 15 PTUs carry 648M tokens/month at this peak
    result = run(scenario(fixed, API, sweep=[6e8, 7e8]))
    ptu = result.option("ptu")
    assert not ptu.feasible
    assert ptu.monthly_cost == pytest.approx(15 * 720)
    assert [row.feasible["ptu"] for row in result.sweep] == [True, False]
    assert "units: auto" in result.sweep[1].infeasible_reasons["ptu"]


def test_breakeven_against_pay_per_token() -> None:
    # API: 1B x $2 + 200M x $8 = $3,600 for 1.2B tokens = $3e-6 a token. One step of 5 PTUs
    # ($3,600) carries 216M tokens = $648 of API traffic: the API stays cheaper per step, so the
    # provisioned option never becomes cheaper. At $0.10/PTU-hour a step costs $360 < $648: the
    # first crossing is on the first segment, 3 steps x $360 / $3e-6 = 360M tokens/month.
    result = run(scenario(PTU, API))
    (row,) = result.breakeven
    assert (row.option, row.versus, row.tokens_per_month) == ("ptu", "api", None)
    cheap = copy.deepcopy(PTU)
    cheap["provisioned"]["unit_price_hourly"] = 0.1
    (row,) = run(scenario(cheap, API)).breakeven
    assert row.tokens_per_month == pytest.approx(3 * 360 / 3e-6)


def test_sweep_simulate_and_recommend_include_it() -> None:
    cheap = copy.deepcopy(PTU)
    cheap["provisioned"]["unit_price_hourly"] = {"low": 0.05, "high": 0.15}
    data = scenario(cheap, API, sweep=[1e8, 1e10])
    result = run(data)
    assert all("ptu" in row.costs for row in result.sweep)
    # 10B tokens/month: 10B x 2 / 43,200 x 1.5 / 3,000 = 231.5 -> 235 PTUs x $72 = $16,920.
    assert result.sweep[1].costs["ptu"] == pytest.approx(235 * 72)
    sc = scenario_from_data(data)
    simulation = simulate(sc, 200, seed=1)
    band = next(o for o in simulation.options if o.name == "ptu")
    assert 0.05 * 720 * 30 <= band.monthly_usd.p10 <= band.monthly_usd.p90 <= 0.15 * 720 * 30
    assert any(b.option == "ptu" for b in simulation.breakeven)
    # $0.10 x 720 x 30 = $2,160 against the API's $3,600: the provisioned option is chosen.
    assert recommend(sc).choose == "ptu"


def test_sampled_cost_is_the_point_cost_with_the_value_written_in() -> None:
    data = scenario(
        {
            "name": "ptu",
            "provisioned": {
                "offer": "azure-global-gpt-4.1",
                "unit_price_hourly": 1.0,
                "fixed_monthly": {"gateway": 300},
            },
        },
        API,
    )
    path = "options[ptu].provisioned.unit_price_hourly"
    sampled = sample_costs(scenario_from_data(data), {path: np.array([1.0, 2.0])})
    # 30 PTUs x $720 or $1,440 + $300 gateway
    assert sampled.monthly_usd["ptu"] == pytest.approx([21600 + 300, 43200 + 300])
    assert run(data).option("ptu").breakdown["gateway"] == pytest.approx(300)


def test_hybrid_with_provisioned_units_overflows_to_pay_per_token() -> None:
    # 15 fixed PTUs carry 648M of the 1.2B tokens; the other 552M go to the API at $3e-6:
    # 15 x $720 + 552M x $3e-6 = $10,800 + $1,656 = $12,456.
    fixed = copy.deepcopy(PTU)
    fixed["provisioned"]["units"] = 15
    hybrid = {
        "name": "spill",
        "hybrid": {"self_hosted": "ptu", "api": "api", "self_hosted_share": 1.0},
    }
    result = run(scenario(fixed, API, hybrid))
    assert result.option("spill").monthly_cost == pytest.approx(10800 + 552e6 * 3e-6)
    assert result.option("spill").feasible


def test_bad_input_names_the_field() -> None:
    with pytest.raises(ScenarioError, match="tokens_per_minute_per_unit"):
        scenario_from_data(scenario({"name": "p", "provisioned": {"unit_price_hourly": 1}}))
    with pytest.raises(LlmTcoError) as info:
        run(scenario({"name": "p", "provisioned": {"offer": "azure-global-gpt-4.1"}}))
    assert info.value.field == "options[p].provisioned.unit_price_hourly"
    bad = copy.deepcopy(PTU)
    bad["provisioned"]["units"] = 17
    with pytest.raises(ScenarioError) as info:
        run(scenario(bad))
    assert info.value.field == "options[ptu].provisioned.units"
