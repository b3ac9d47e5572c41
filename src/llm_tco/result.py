"""The result of evaluating a scenario: plain data every interface renders.

Stable fields (see DESIGN.md): ``options[].name``, ``options[].monthly_cost`` (USD),
``options[].cost_per_mtok``, ``options[].breakdown``, ``options[].gpus``, ``breakeven[]`` with
``option``, ``versus``, ``tokens_per_month`` (null when never) and ``requests_per_month``,
``sweep[]`` rows with ``tokens_per_month``, ``costs`` and ``cheapest``, and ``warnings[]``.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict

SCHEMA_VERSION = 1


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LineItem(Model):
    """One monthly cost line with the formula that produced it."""

    name: str
    monthly_usd: float
    formula: str
    source: str | None = None


class Assumption(Model):
    """An input the result depends on, with where it came from."""

    name: str
    value: str
    source: str
    as_of: dt.date | None = None


class Warning(Model):
    """Something the user should know: an input that cannot hold, a stale price, ..."""

    code: str
    message: str
    option: str | None = None


class WorkloadInfo(Model):
    input_tokens_per_month: float
    output_tokens_per_month: float
    total_tokens_per_month: float
    requests_per_month: float | None
    input_tokens_per_request: float | None
    output_tokens_per_request: float | None
    peak_to_mean: float
    cached_input_share: float
    batch_share: float
    mean_tokens_per_second: float
    peak_tokens_per_second: float
    source: str


class MemoryInfo(Model):
    """Memory plan of one replica, GB (1e9 bytes)."""

    weights_gb: float
    kv_cache_gb: float
    overhead_gb: float
    available_gb: float
    fits: bool
    max_concurrent_sequences: int | None = None
    context_tokens: int | None = None
    min_gpus_to_fit: int | None = None


class Deployment(Model):
    """GPUs behind a self-hosted option and how busy they are."""

    gpu: str
    gpu_name: str
    model: str | None
    precision: str
    gpus_per_replica: int
    replicas: int
    redundancy_replicas: int
    gpu_monthly_usd: float
    gpu_price_source: str
    capacity_tokens_per_second_per_replica: float | None
    capacity_source: str | None
    capacity_tokens_per_month: float | None
    replicas_needed_at_peak: int | None
    utilisation_at_peak: float | None
    utilisation_at_mean: float | None
    # With a percentile latency target: the replicas the peak would need were every target
    # read as a mean (the steady-state sizing), to show what the tail costs.
    replicas_needed_mean_latency: int | None = None


class ApiPriceInfo(Model):
    input_per_mtok: float
    output_per_mtok: float
    cached_input_per_mtok: float
    batch_discount: float
    model: str | None
    provider: str | None
    source: str
    as_of: dt.date | None = None
    tier: str = "standard"
    cache_write_per_mtok: float | None = None  # at the scenario's cache TTL
    # Rates for every token of a request over ``long_context_threshold_tokens`` of prompt.
    long_context_threshold_tokens: int | None = None
    long_input_per_mtok: float | None = None
    long_output_per_mtok: float | None = None
    long_cached_input_per_mtok: float | None = None
    long_cache_write_per_mtok: float | None = None


class SplitPoint(Model):
    share: float
    monthly_usd: float
    meets_quality_floor: bool = True


class HybridInfo(Model):
    """How a hybrid option splits its traffic, and the cost of every split."""

    self_hosted: str
    api: str
    self_hosted_share: float
    optimised: bool
    max_share: float
    fallback_rate: float
    capacity_tokens_per_month: float | None
    overflow_tokens_per_month: float
    split_curve: list[SplitPoint]


class ToServe(Model):
    """What a fixed-size deployment that cannot serve would cost with the GPU count
    ``gpu_count: auto`` chooses for this workload."""

    gpus: int
    gpus_per_replica: int
    replicas: int
    monthly_cost: float
    cost_per_mtok: float | None
    note: str


class ProvisionedInfo(Model):
    """Reserved API throughput units behind a provisioned option and how busy they are."""

    offer: str | None
    provider: str | None
    model: str | None
    unit: str  # PTU, model unit, GSU
    units: int
    units_needed_at_peak: int
    unit_monthly_usd: float
    tokens_per_minute_per_unit: float  # input-equivalent tokens
    output_token_weight: float
    cached_input_counts: bool
    min_units: int
    unit_increment: int
    capacity_tokens_per_month: float  # workload tokens the units carry at this shape and peak
    utilisation_at_peak: float
    source: str
    price_source: str


class OptionResult(Model):
    name: str
    kind: Literal["api", "self_hosted", "hybrid", "provisioned"]
    label: str
    monthly_cost: float
    cost_per_mtok: float | None
    breakdown: dict[str, float]
    line_items: list[LineItem]
    gpus: int | None = None
    deployment: Deployment | None = None
    memory: MemoryInfo | None = None
    price: ApiPriceInfo | None = None
    retry_rate: float
    acceptance_rate: float
    cost_per_accepted_request: float | None = None
    cost_per_accepted_mtok: float | None = None
    hybrid: HybridInfo | None = None
    feasible: bool = True  # False when the deployment cannot hold the model or carry the load
    infeasible_reason: str | None = None
    to_serve: ToServe | None = None  # a fixed-size deployment that cannot serve, sized by auto
    chosen_by_search: str | None = None  # gpu/precision auto: what the search chose and why
    provisioned: ProvisionedInfo | None = None


class CrossingInfo(Model):
    tokens_per_month: float
    requests_per_month: float | None = None
    cheaper_above: str
    feasible: bool = True  # False when the fixed-cost option cannot serve this volume


class Breakeven(Model):
    """Where a fixed-cost option and a per-token option cost the same."""

    option: str
    versus: str
    tokens_per_month: float | None  # None when never, or when the option cannot serve there
    requests_per_month: float | None = None
    crossings: list[CrossingInfo] = []
    note: str
    # Where the cost curves first cross in the option's favour, even beyond what it can serve;
    # ``feasible`` False (and ``tokens_per_month`` None) when it cannot serve that volume.
    crossing_tokens_per_month: float | None = None
    feasible: bool = True
    infeasible_reason: str | None = None


class SweepRow(Model):
    tokens_per_month: float
    requests_per_month: float | None = None
    costs: dict[str, float]
    cheapest: str | None  # None when no option can serve this volume
    verdict: str
    over_capacity: list[str] = []
    feasible: dict[str, bool] = {}  # option -> can it serve this volume
    infeasible_reasons: dict[str, str] = {}  # option -> why not, for those that cannot


class Result(Model):
    schema_version: int = SCHEMA_VERSION
    name: str
    description: str | None = None
    hours_per_month: float
    workload: WorkloadInfo
    options: list[OptionResult]
    cheapest: str | None  # the cheapest option that can serve; None when none can
    breakeven: list[Breakeven]
    sweep: list[SweepRow]
    warnings: list[Warning]
    assumptions: list[Assumption]
    simulation: Simulation | None = None  # with `--samples N`
    # Ways to serve a self-hosted option's open model that the scenario did not list (marked
    # ``suggestion: true``; they take part in no break-even, sweep or cheapest).
    suggestions: list[Suggestion] = []
    ways_to_serve: list[WaysToServe] = []  # the deployment search behind the suggestions

    def option(self, name: str) -> OptionResult:
        for option in self.options:
            if option.name == name:
                return option
        raise KeyError(name)


# The decision models build on ``Model`` above, so they are imported after it.
from llm_tco.decide_result import Simulation  # noqa: E402
from llm_tco.plan.model import Suggestion, WaysToServe  # noqa: E402

Result.model_rebuild()
