"""A provisioned option's break-even against pay-per-token is where its step curve first drops
to the API's line.

Independent of the product's two break-even searches: the units' cost is flat on each step
(n steps of ``unit_increment`` units serve up to n x T tokens/month), so walking n upwards from
the minimum purchase, the first step whose flat cost F + n x S the API's line p x V reaches
inside the step, (F + n S) / p <= n T, gives the crossing V = (F + n S) / p.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llm_tco.evaluate import evaluate
from llm_tco.scenario import scenario_from_data
from llm_tco.simulate import sample_costs

MINUTES = 720 * 60


def first_crossing(fixed: float, step_usd: float, per_step: float, n_min: int, p: float) -> float:
    for n in range(n_min, n_min + 100_000):
        volume = (fixed + n * step_usd) / p
        if volume <= n * per_step * (1 + 1e-12):
            return volume
    return math.nan


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tpm=st.floats(1_000, 50_000),
    hourly=st.floats(0.05, 3.0),
    step=st.integers(1, 10),
    minimum_steps=st.integers(1, 5),
    gateway=st.floats(0, 5_000),
    input_price=st.floats(0.5, 20),
    output_price=st.floats(1, 80),
    input_share=st.floats(0.1, 0.9),
    weight=st.floats(1, 8),
    peak=st.floats(1, 4),
)
def test_breakeven_is_where_the_step_curve_meets_the_line(
    tpm: float,
    hourly: float,
    step: int,
    minimum_steps: int,
    gateway: float,
    input_price: float,
    output_price: float,
    input_share: float,
    weight: float,
    peak: float,
) -> None:
    data: dict[str, Any] = {
        "workload": {"tokens_per_month": "1B", "input_share": input_share, "peak_to_mean": peak},
        "options": [
            {
                "name": "ptu",
                "provisioned": {
                    "tokens_per_minute_per_unit": tpm,
                    "unit_price_hourly": hourly,
                    "output_token_weight": weight,
                    "min_units": step * minimum_steps,
                    "unit_increment": step,
                    "fixed_monthly": {"gateway": gateway},
                },
            },
            {
                "name": "api",
                "api": {"input_per_mtok": input_price, "output_per_mtok": output_price},
            },
        ],
    }
    sc = scenario_from_data(data)
    result = evaluate(sc, volumes=[])
    (row,) = result.breakeven
    # By hand: API $/token; one step's price and the workload tokens it carries at the peak.
    p = (input_share * input_price + (1 - input_share) * output_price) / 1e6
    step_usd = step * hourly * 720
    counted = input_share + (1 - input_share) * weight  # input-equivalent tokens per token
    per_step = step * tpm / counted * MINUTES / peak
    expected = first_crossing(gateway, step_usd, per_step, minimum_steps, p)
    if math.isnan(expected):
        assert row.tokens_per_month is None
    else:
        assert row.tokens_per_month is not None
        assert math.isclose(row.tokens_per_month, expected, rel_tol=1e-6)
        # Just below it the units cost more than the API; at it, no more.
        curve_at = evaluate(sc, volumes=[expected * (1 - 1e-6), expected]).sweep
        assert curve_at[0].costs["ptu"] > curve_at[0].costs["api"]
        assert curve_at[1].costs["ptu"] <= curve_at[1].costs["api"] * (1 + 1e-9)
    # The Monte Carlo's break-even (its own closed form) finds the same volume.
    sampled = sample_costs(sc, {"hours_per_month": np.array([720.0])})
    found = float(sampled.breakeven_tokens[("ptu", "api")][0])
    if math.isnan(expected):
        assert math.isnan(found)
    else:
        assert math.isclose(found, expected, rel_tol=1e-6)
