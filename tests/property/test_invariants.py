"""Invariants that must hold for any input (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from llm_tco.core.breakeven import find_crossings, first_breakeven
from llm_tco.core.costs import (
    ApiOption,
    CostCurve,
    SelfHostedOption,
    api_curve,
    self_hosted_curve,
)
from llm_tco.core.workload import Workload
from support import run

prices = st.floats(min_value=0.01, max_value=100)
shares = st.floats(min_value=0, max_value=1)
volumes = st.floats(min_value=1e3, max_value=1e13)


@st.composite
def workloads(draw: st.DrawFn) -> Workload:
    return Workload(
        input_tokens_per_month=draw(volumes),
        output_tokens_per_month=draw(volumes),
        peak_to_mean=draw(st.floats(min_value=1, max_value=10)),
        cached_input_share=draw(shares),
        batch_share=draw(shares),
    )


@st.composite
def api_options(draw: st.DrawFn) -> ApiOption:
    return ApiOption(
        name="api",
        input_per_mtok=draw(prices),
        output_per_mtok=draw(prices),
        cached_input_per_mtok=draw(prices),
        batch_discount=draw(shares),
        retry_rate=draw(st.floats(min_value=0, max_value=2)),
    )


@st.composite
def self_hosted_options(draw: st.DrawFn) -> SelfHostedOption:
    auto = draw(st.booleans())
    return SelfHostedOption(
        name="self",
        gpu_monthly_usd=draw(st.floats(min_value=100, max_value=20_000)),
        gpus_per_replica=draw(st.integers(min_value=1, max_value=8)),
        replicas=None if auto else draw(st.integers(min_value=1, max_value=8)),
        capacity_tokens_per_second=draw(st.floats(min_value=10, max_value=100_000)),
        hours_per_month=720,
        redundancy_replicas=draw(st.integers(min_value=0, max_value=1)),
        fixed_items=(("ops", draw(st.floats(min_value=0, max_value=50_000))),),
        variable_per_mtok=draw(st.floats(min_value=0, max_value=1)),
        retry_rate=draw(st.floats(min_value=0, max_value=1)),
    )


@given(api_options(), workloads(), volumes, st.floats(min_value=0.01, max_value=100))
def test_api_cost_is_linear_in_volume(option, workload, volume, factor) -> None:
    curve = api_curve(option, workload)
    assert float(curve.cost(volume * factor)) == pytest.approx(
        factor * float(curve.cost(volume)), rel=1e-9
    )
    assert float(curve.cost(0)) == 0


@given(self_hosted_options(), workloads(), st.lists(volumes, min_size=2, max_size=20))
def test_self_hosted_cost_non_decreasing(option, workload, points) -> None:
    ordered = np.sort(np.asarray(points))
    costs = self_hosted_curve(option, workload).cost(ordered)
    assert np.all(np.diff(costs) >= -1e-9 * np.abs(costs[1:]))


# Nearly parallel curves that cross at every replica step (found by hypothesis in CI).
NEAR_PARALLEL = (
    SelfHostedOption(
        name="self",
        gpu_monthly_usd=8171.0,
        gpus_per_replica=3,
        replicas=None,
        capacity_tokens_per_second=248.0,
        hours_per_month=720,
        retry_rate=0.4375,
    ),
    ApiOption("api", 1.0, 63.0, 9.0, batch_discount=0.375, retry_rate=1.5),
    Workload(915752983938.0, 1641107052208.0, peak_to_mean=1.25, batch_share=0.875),
)


@settings(max_examples=200, deadline=None)
@given(self_hosted_options(), api_options(), workloads())
@example(*NEAR_PARALLEL)
def test_breakeven_is_where_costs_are_equal(own, api, workload) -> None:
    a, b = self_hosted_curve(own, workload), api_curve(api, workload)
    search = find_crossings(a, b, limit=50)
    crossings = search.crossings
    assert search.total >= len(crossings)
    for i, crossing in enumerate(crossings):
        v = crossing.tokens_per_month
        previous = crossings[i - 1].tokens_per_month if i else 0.0
        following = crossings[i + 1].tokens_per_month if i + 1 < len(crossings) else np.inf
        # Probes just before and after this crossing, between its neighbours (crossings can be
        # close together when a replica step lands near the line crossing), and wider than
        # float resolution at v.
        step = max(v * 1e-9, 1.0)
        before = v - min(step, (v - previous) / 2)
        after = v + min(step, (following - v) / 2)
        gap_before = float(a.cost(before) - b.cost(before))
        gap_after = float(a.cost(after) - b.cost(after))
        gap = float(a.cost(v) - b.cost(v))
        # Either the lines meet here (within a cent) or a replica step flips the order here.
        if abs(gap) > 0.01:
            assert a.stepped or b.stepped
            assert np.sign(gap_before) != np.sign(gap_after)
        assert ("a" if gap_after < 0 else "b") == crossing.cheaper_above


@st.composite
def stepped_curves(draw: st.DrawFn) -> tuple[CostCurve, float]:
    """A self-hosted curve (fixed or stepped, round numbers so ties happen) and an API price."""
    per_token = st.sampled_from([0.0, 1e-7, 5e-7, 1e-6, 1.5e-6, 3e-6]) | st.floats(0, 5e-6)
    stepped = draw(st.booleans())
    curve = CostCurve(
        fixed_usd=draw(st.sampled_from([0.0, 500.0, 1000.0]) | st.floats(0, 1e5)),
        usd_per_token=draw(per_token),
        step_usd=draw(st.sampled_from([1000.0, 2000.0]) | st.floats(1, 1e5)) if stepped else 0.0,
        tokens_per_step=draw(st.sampled_from([1e9, 2e9]) | st.floats(1e6, 1e12))
        if stepped
        else np.inf,
        min_steps=draw(st.integers(0, 3)) if stepped else 0,
        extra_steps=draw(st.integers(0, 2)) if stepped else 0,
    )
    return curve, draw(per_token)


def _stack(curves: list[CostCurve]) -> CostCurve:
    """Curves of one min/extra step count as one curve of samples (arrays)."""
    return CostCurve(
        fixed_usd=np.array([c.fixed_usd for c in curves], dtype=np.float64),
        usd_per_token=np.array([c.usd_per_token for c in curves], dtype=np.float64),
        step_usd=np.array([c.step_usd for c in curves], dtype=np.float64),
        tokens_per_step=np.array([c.tokens_per_step for c in curves], dtype=np.float64),
        min_steps=curves[0].min_steps,
        extra_steps=curves[0].extra_steps,
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(stepped_curves(), min_size=1, max_size=4))
def test_break_even_of_samples_is_the_first_volume_where_own_is_cheaper(cases) -> None:
    # Samples share min/extra steps (as a Monte Carlo's do): keep the first case's.
    first = cases[0][0]
    curves = [
        CostCurve(c.fixed_usd, c.usd_per_token, c.step_usd, c.tokens_per_step)
        if not c.stepped or not first.stepped
        else CostCurve(
            c.fixed_usd,
            c.usd_per_token,
            c.step_usd,
            c.tokens_per_step,
            first.min_steps,
            first.extra_steps,
        )
        for c, _ in cases
    ]
    prices = np.array([p for _, p in cases])
    together = first_breakeven(_stack(curves), prices)
    for curve, price, volume in zip(curves, prices, together, strict=True):
        # The same as the curve on its own (a point), and as the first crossing listed.
        alone = first_breakeven(curve, float(price))[0]
        assert (np.isnan(alone) and np.isnan(volume)) or alone == volume
        listed = find_crossings(curve, CostCurve(usd_per_token=float(price))).crossings
        assert (listed[0].tokens_per_month if listed else np.nan) == pytest.approx(
            volume, nan_ok=True
        )

        def gap(v, curve=curve, price=price):
            return curve.cost(v) - price * np.asarray(v)

        # Just above zero (a replica is added past STEP_EPS x its tokens, as CostCurve.steps).
        low = 1.0 + (2e-9 * curve.tokens_per_step if curve.stepped else 0.0)
        if gap(low) <= 1e-3:  # no dearer from the start: it never *becomes* cheaper
            assert np.isnan(volume)
            continue
        # Independently: below the break-even the API is never cheaper by a tenth of a cent:
        # check every segment's right end (d falls inside a segment) and a spread of volumes.
        top = volume if np.isfinite(volume) else 1e15
        probes = np.linspace(0, top, 200)[1:-1]
        if curve.stepped:
            ends = np.arange(1, min(int(top // curve.tokens_per_step), 2_000) + 1)
            probes = np.concatenate((probes, ends * curve.tokens_per_step * (1 - 1e-12)))
        probes = probes[(probes < top * (1 - 1e-9)) & (probes >= low)]
        assert np.all(gap(probes) > -1e-3 - 1e-9 * price * probes)
        if np.isfinite(volume):
            after = volume * (1 + 1e-9) + 1
            assert gap(after) < 1e-6 * max(1.0, float(price) * after)


@settings(max_examples=40, deadline=None)
@given(
    tokens_per_day=st.floats(min_value=1e4, max_value=1e11),
    input_share=st.floats(min_value=0.05, max_value=0.95),
    gpu_price=st.floats(min_value=100, max_value=5000),
)
def test_per_day_times_30_equals_per_month(tokens_per_day, input_share, gpu_price) -> None:
    options = [
        {"name": "api", "api": {"input_per_mtok": 3, "output_per_mtok": 15}},
        {
            "name": "own",
            "self_hosted": {
                "gpu": "a100-80gb-sxm",
                "gpu_count": 2,
                "gpu_monthly_price": gpu_price,
                "ops_monthly": 1000,
            },
        },
    ]
    daily = run(
        {
            "workload": {"tokens_per_day": tokens_per_day, "input_share": input_share},
            "options": options,
        }
    )
    monthly = run(
        {
            "workload": {"tokens_per_month": tokens_per_day * 30, "input_share": input_share},
            "options": options,
        }
    )
    for a, b in zip(daily.options, monthly.options, strict=True):
        assert a.monthly_cost == pytest.approx(b.monthly_cost, rel=1e-9)
    for a, b in zip(daily.breakeven, monthly.breakeven, strict=True):
        assert a.tokens_per_month == pytest.approx(b.tokens_per_month, rel=1e-9)
