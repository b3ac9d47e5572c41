"""An API option's rate limits (its account's tier in the catalog, or limits it states) checked
against the workload's peak minute, with the remedies when the peak is over them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from llm_tco.catalog.loader import Catalog
from llm_tco.catalog.schema import RateLimitRow
from llm_tco.core.api_limits import LIMIT_LABELS, MinuteLimits, check_limits
from llm_tco.core.costs import STEP_EPS, Value
from llm_tco.core.units import format_tokens
from llm_tco.core.workload import Workload
from llm_tco.errors import LlmTcoError, ScenarioError
from llm_tco.result import ApiPriceInfo
from llm_tco.scenario import ApiSpec, OptionSpec

if TYPE_CHECKING:
    from llm_tco.resolve import Inputs, Notes

REMEDIES = (
    "a higher tier{better}, more regions or accounts, a larger batch share (batch traffic has "
    "its own limits) or provisioned throughput (a `provisioned` option)"
)


@dataclass(frozen=True)
class ResolvedLimits:
    limits: MinuteLimits
    label: str  # "anthropic tier-2 limits for claude-haiku-4-5" or "the stated limits"
    row: RateLimitRow | None
    remedies: bool


def _tier(text: str) -> str:
    """'4', 'Tier 4', 'tier_4' -> 'tier-4'."""
    key = re.sub(r"[\s_]+", "-", text.strip().lower())
    return f"tier-{key}" if key.isdigit() else key


def resolve_limits(
    option: OptionSpec, spec: ApiSpec, price: ApiPriceInfo, catalog: Catalog
) -> ResolvedLimits | None:
    given = spec.rate_limits
    if given is None:
        return None
    field = f"options[{option.name}].api.rate_limits"
    row = None
    provider, model = price.provider or spec.provider, price.model or spec.model
    if given.tier is not None:
        if provider is None or model is None:
            raise ScenarioError(
                "a tier needs the option's catalog model and provider",
                field=f"{field}.tier",
                hint="give the account's limits (tokens_per_minute ...) instead",
            )
        try:
            row = catalog.rate_limit(provider, model, _tier(given.tier))
        except LlmTcoError as exc:
            exc.field = f"{field}.tier"
            raise
    values = {}
    for name in LIMIT_LABELS:
        stated = getattr(given, name)
        values[name] = stated if stated is not None else getattr(row, name, None)
    if all(v is None for v in values.values()):
        raise ScenarioError(
            "no limit given", field=field, hint="give a tier or the limits per minute"
        )
    cached = given.cached_input_counts
    if cached is None:
        cached = row.cached_input_counts if row is not None else True
    limits = MinuteLimits(cached_input_counts=cached, **values)
    if row is not None:
        label = f"{provider} {row.tier} limits for {model} ({row.source}, as of {row.as_of})"
    else:
        label = "the stated limits"
    return ResolvedLimits(limits, label, row, given.remedies)


def _describe(name: str, value: float) -> str:
    return f"{format_tokens(value)} {LIMIT_LABELS[name]}"


def _higher_tier(
    resolved: ResolvedLimits,
    workload: Workload,
    retry_rate: float,
    hours: float,
    catalog: Catalog,
) -> str:
    """' (tier-3 serves this peak)' when a listed higher tier's limits carry it."""
    row = resolved.row
    if row is None:
        return ""
    tiers = catalog.rate_limit_tiers(row.provider, row.models[0])
    later = tiers[[t.id for t in tiers].index(row.id) + 1 :]
    volume = workload.total_tokens_per_month
    for tier in later:
        limits = MinuteLimits(
            tier.requests_per_minute,
            tier.tokens_per_minute,
            tier.input_tokens_per_minute,
            tier.output_tokens_per_minute,
            tier.cached_input_counts,
        )
        if volume <= check_limits(limits, workload, retry_rate, hours).capacity_tokens_per_month:
            return f" ({tier.tier} carries this peak)"
    return ""


def check_rate_limits(
    option: OptionSpec,
    spec: ApiSpec,
    price: ApiPriceInfo,
    workload: Workload,
    hours: float,
    catalog: Catalog,
    notes: Notes,
) -> tuple[ResolvedLimits | None, float | None, str | None]:
    """The option's limits, the monthly volume they allow when no remedy is allowed (else
    None: a remedy lifts them) and the reason beyond it; warns when the peak is over them."""
    resolved = resolve_limits(option, spec, price, catalog)
    if resolved is None:
        return None, None, None
    name = option.name
    row = resolved.row
    if row is not None:
        values = ", ".join(_describe(k, v) for k, v in resolved.limits.items())
        notes.assume(f"{name}: rate limits", f"{row.tier}: {values}", row.source, row.as_of)
    check = check_limits(resolved.limits, workload, option.retry_rate, hours)
    volume = workload.total_tokens_per_month
    over = [k for k, allowed in check.by_limit.items() if volume > float(allowed) * (1 + STEP_EPS)]
    capacity = float(check.capacity_tokens_per_month)
    binding = min(check.by_limit, key=lambda k: float(check.by_limit[k]), default=None)
    reason = None
    if binding is not None:
        limit = dict(resolved.limits.items())[binding]
        reason = (
            f"beyond its rate limits ({_describe(binding, limit)}, {resolved.label}): "
            f"at most {format_tokens(capacity)} tokens/month at this peak"
        )
    if over:
        demand = "; ".join(
            f"{_describe(k, float(check.demand_per_minute[k]))} needed, over "
            f"{_describe(k, dict(resolved.limits.items())[k])}"
            for k in over
        )
        better = _higher_tier(resolved, workload, option.retry_rate, hours, catalog)
        remedies = REMEDIES.format(better=better)
        text = f"the peak minute is over {resolved.label}: {demand}"
        if resolved.remedies:
            notes.warn("rate_limit_exceeded", f"{text}; remedies: {remedies}", name)
        else:
            notes.warn(
                "rate_limited",
                f"{text}, and the scenario allows no remedy (rate_limits.remedies: false; "
                f"otherwise {remedies}): it cannot serve this volume",
                name,
            )
    if resolved.remedies:
        return resolved, None, None
    return resolved, capacity, reason


def sampled_capacity(
    option: OptionSpec, resolved: ResolvedLimits, workload: Workload, hours: Value, inputs: Inputs
) -> Value:
    """The monthly volume the limits allow per sample (sampled shape, retries and hours)."""
    retry = inputs.get(f"options[{option.name}].retry_rate", option.retry_rate)
    capacity = check_limits(resolved.limits, workload, retry, hours).capacity_tokens_per_month
    return np.asarray(capacity, dtype=np.float64)
