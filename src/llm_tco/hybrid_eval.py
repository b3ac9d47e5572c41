"""Price the scenario's hybrid options from their priced self-hosted and API parts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from llm_tco.core.costs import CostCurve, FloatArray
from llm_tco.core.hybrid import (
    Split,
    max_share,
    optimal_shares,
    optimise_share,
    split_cost,
    split_curve,
    split_tokens,
)
from llm_tco.core.units import format_tokens, format_usd, usd_per_mtok
from llm_tco.core.workload import Workload
from llm_tco.result import HybridInfo, LineItem, OptionResult, SplitPoint
from llm_tco.scenario import HybridSpec, OptionSpec, Scenario

if TYPE_CHECKING:
    from llm_tco.catalog.loader import Catalog
    from llm_tco.evaluate import Priced
    from llm_tco.resolve import Notes


@dataclass(frozen=True)
class HybridCurve(CostCurve):
    """Cost of a hybrid over volume, at a fixed share or at the best share for each volume.

    Not piecewise linear in the CostCurve sense: only the sweep uses it, never the break-even.
    """

    split: Split | None = None
    share: float = 0.0
    upper_share: float = 1.0
    optimise: bool = False

    def cost(self, tokens_per_month: ArrayLike) -> FloatArray:
        assert self.split is not None
        volumes = np.atleast_1d(np.asarray(tokens_per_month, dtype=np.float64))
        if not self.optimise:
            return split_cost(self.split, volumes, self.share)
        return optimal_shares(self.split, volumes, self.upper_share).monthly_usd


def split_for(own: Priced, api: Priced, spec: HybridSpec, fixed_usd: float = 0.0) -> Split:
    """``fixed_usd``: the hybrid's own monthly items; the API option's come with its curve."""
    capacity = own.capacity_tokens_per_month
    if own.never_serves is not None:
        capacity = 0.0  # a deployment that cannot hold its model serves nothing: all overflows
    return Split(
        own=own.curve,
        api_usd_per_token=np.array([api.curve.usd_per_token]),
        capacity_tokens_per_month=np.array([math.inf if capacity is None else capacity]),
        fallback_rate=spec.fallback_rate,
        routing_monthly_usd=spec.routing_monthly,
        fixed_usd=fixed_usd,
        api_fixed_usd=float(api.curve.fixed_usd),
    )


def _quality(option: OptionSpec) -> float:
    return option.quality if option.quality is not None else option.acceptance_rate


def price_hybrids(
    scenario: Scenario,
    priced: list[Priced],
    workload: Workload,
    notes: Notes,
    catalog: Catalog | None = None,
) -> list[Priced]:
    """``priced`` plus one entry per hybrid option, in the scenario's option order."""
    from llm_tco.catalog.loader import load_catalog
    from llm_tco.evaluate import Priced
    from llm_tco.resolve import ops_items

    catalog = catalog or load_catalog()

    by_name = {p.result.name: p for p in priced}
    specs = {o.name: o for o in scenario.options}
    out: list[Priced] = []
    for option in scenario.options:
        if option.hybrid is None:
            out.append(by_name[option.name])
            continue
        spec = option.hybrid
        own, api = by_name[spec.self_hosted], by_name[spec.api]
        fixed = ops_items(option.name, spec, catalog, notes, kind="hybrid")
        split = split_for(own, api, spec, float(fixed.monthly_usd))
        upper = max_share(
            _quality(specs[spec.self_hosted]),
            _quality(specs[spec.api]),
            spec.quality_floor,
            spec.fallback_rate,
        )
        if upper < 0:
            notes.warn(
                "quality_floor_unmet",
                f"even the API alone misses the quality floor "
                f"{spec.quality_floor:g}: the split is all-API",
                option.name,
            )
            upper = 0.0
        volume = workload.total_tokens_per_month
        optimise = not isinstance(spec.self_hosted_share, float)
        if optimise:
            share, _ = optimise_share(split, volume, upper)
        else:
            assert isinstance(spec.self_hosted_share, float)
            share = spec.self_hosted_share
            if share > upper + 1e-12:
                notes.warn(
                    "quality_floor_unmet",
                    f"self_hosted_share {share:.0%} is above the "
                    f"{upper:.0%} the quality floor allows",
                    option.name,
                )
        result = _hybrid_result(option, spec, split, share, upper, optimise, own, api, workload)
        if fixed.lines:
            from llm_tco.evaluate import _fixed_lines

            lines = result.line_items + _fixed_lines(fixed, {x.name for x in result.line_items})
            breakdown = {line.name: line.monthly_usd for line in lines}
            result = result.model_copy(update={"line_items": lines, "breakdown": breakdown})
        curve = HybridCurve(split=split, share=share, upper_share=upper, optimise=optimise)
        out.append(Priced(result=result, curve=curve))
    return out


def _line_items(split: Split, volume: float, share: float) -> dict[str, float]:
    tokens = split_tokens(split, volume, share)
    served = float(tokens.served[0])
    price = float(split.api_usd_per_token[0])
    api_tokens = float(tokens.api) + float(tokens.overflow[0]) + float(tokens.fallback[0])
    return {
        "self_hosted": float(split.own.cost(np.array([served]))[0]) if share > 0 else 0.0,
        "api": price * float(tokens.api),
        "overflow_to_api": price * float(tokens.overflow[0]),
        "fallback_to_api": price * float(tokens.fallback[0]),
        "routing": float(split.routing_monthly_usd) if 0 < share < 1 else 0.0,
        "api_monthly_items": float(split.api_fixed_usd) if api_tokens > 0 else 0.0,
    }


def _hybrid_result(
    option: OptionSpec,
    spec: HybridSpec,
    split: Split,
    share: float,
    upper: float,
    optimise: bool,
    own: Priced,
    api: Priced,
    workload: Workload,
) -> OptionResult:
    volume = workload.total_tokens_per_month
    items = _line_items(split, volume, share)
    tokens = split_tokens(split, volume, share)
    own_tokens, served = float(tokens.own), float(tokens.served[0])
    carried = served / volume if volume > 0 else 0.0  # the share it carries, after overflow
    formulas = {
        "self_hosted": f"{own.result.name} carrying {format_tokens(served)} tokens "
        f"({carried:.0%} of traffic"
        + (f"; {share:.0%} is routed to it, the rest overflows)" if served < own_tokens else ")"),
        "api": f"{api.result.name}: {format_tokens(float(tokens.api))} tokens",
        "overflow_to_api": f"{format_tokens(own_tokens - served)} tokens above the self-hosted "
        "capacity",
        "fallback_to_api": f"{float(split.fallback_rate):.0%} of {format_tokens(served)} "
        "self-hosted tokens re-sent",
        "routing": f"router upkeep {format_usd(float(split.routing_monthly_usd))}/month",
        "api_monthly_items": f"{api.result.name}'s monthly items (it carries traffic)",
    }
    lines = [
        LineItem(name=k, monthly_usd=v, formula=formulas[k], source="scenario")
        for k, v in items.items()
        if v != 0 or k in ("self_hosted", "api")
    ]
    # One formula for the total (the line items break it down), so sampled and point costs agree.
    monthly = float(split_cost(split, volume, share)[0])
    shares, costs = split_curve(split, volume)
    q_api, q_own = api.result.acceptance_rate, own.result.acceptance_rate
    capacity = float(split.capacity_tokens_per_month[0])
    info = HybridInfo(
        self_hosted=own.result.name,
        api=api.result.name,
        self_hosted_share=share,
        optimised=optimise,
        max_share=upper,
        fallback_rate=spec.fallback_rate,
        capacity_tokens_per_month=capacity if math.isfinite(capacity) else None,
        overflow_tokens_per_month=own_tokens - served,
        split_curve=[
            SplitPoint(
                share=float(s), monthly_usd=float(c), meets_quality_floor=bool(s <= upper + 1e-12)
            )
            for s, c in zip(shares, costs, strict=True)
        ],
    )
    accepted_share = share * q_own + (1 - share) * q_api
    per_request = None
    if workload.requests_per_month:
        per_request = monthly / (workload.requests_per_month * accepted_share)
    return OptionResult(
        name=option.name,
        kind="hybrid",
        label=f"hybrid {carried:.0%} self-hosted",
        monthly_cost=monthly,
        cost_per_mtok=usd_per_mtok(monthly, volume),
        breakdown={line.name: line.monthly_usd for line in lines},
        line_items=lines,
        retry_rate=option.retry_rate,
        acceptance_rate=accepted_share,
        cost_per_accepted_request=per_request,
        cost_per_accepted_mtok=usd_per_mtok(monthly, volume * accepted_share),
        hybrid=info,
    )
