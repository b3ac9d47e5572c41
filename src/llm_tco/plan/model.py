"""What a deployment search returns: plain data every interface renders.

Money is USD per month; latencies are milliseconds at the scenario's peak load; capacities are
total (input + output) tokens per second of one replica.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict

DropReason = Literal[
    "does_not_fit", "misses_slo", "no_offer", "no_engine", "capacity_exceeded", "superseded_offer"
]


class PlanModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlannedDeployment(PlanModel):
    """One way to self-host the model that can serve the workload at its peak and SLO."""

    gpu: str
    gpu_name: str
    precision: str
    kv_precision: str
    gpus_per_replica: int
    engine: str
    offer: str  # offer id, or "purchase" for bought GPUs
    provider: str
    billing: str
    replicas: int  # replicas serving the peak (plus spares, when the option asks for N+1)
    gpus: int
    gpu_monthly_usd: float
    monthly_cost: float  # GPUs + the option's ops, variable and spare costs
    cost_per_mtok: float | None
    capacity_tokens_per_second_per_replica: float
    utilisation_at_peak: float
    ttft_ms_at_load: float  # at the peak load one replica carries
    tpot_ms_at_load: float
    concurrency_at_load: int
    gpu_price_formula: str
    gpu_price_source: str
    capacity_source: str
    quality_note: str | None = None
    pareto: bool = False  # on the front of monthly cost against TTFT and TPOT at load


class HostedApi(PlanModel):
    """A hosted API that serves the same open-weight model, priced for the workload."""

    provider: str
    model: str
    input_per_mtok: float
    output_per_mtok: float
    cached_input_per_mtok: float | None
    monthly_cost: float
    cost_per_mtok: float | None
    source: str
    as_of: dt.date | None = None


class Dropped(PlanModel):
    """Candidates left out, one row per deployment (or offer) and why."""

    reason: DropReason
    gpu: str
    precision: str | None = None
    gpus_per_replica: int | None = None
    engine: str | None = None
    offer: str | None = None
    detail: str


class PlanResult(PlanModel):
    """The ranked ways to serve one model for one workload."""

    model: str
    model_name: str
    option: str | None  # the scenario option the search stands in for (None: --model)
    total_tokens_per_month: float
    peak_tokens_per_second: float
    input_tokens_per_request: float
    output_tokens_per_request: float
    ttft_slo_ms: float | None
    tpot_slo_ms: float | None
    searched: int  # candidates (deployment x offer) considered
    feasible: int
    cheapest: PlannedDeployment | None
    why: str  # one sentence: what was chosen and why, or why nothing can serve
    deployments: list[PlannedDeployment]  # feasible, cheapest first (all, or the kept few)
    pareto: list[PlannedDeployment]  # cost vs latency front, cheapest first
    hosted_apis: list[HostedApi]  # cheapest first
    hosted_note: str
    dropped: list[Dropped]
    dropped_counts: dict[str, int]
    notes: list[str]  # quality notes per precision, assumptions
    search_seconds: float


class Suggestion(PlanModel):
    """A way to serve an option's open model that the scenario did not list: the cheapest
    hosted API serving the same model, or the cheapest feasible self-hosted deployment. Not one
    of the user's options: it takes part in no break-even, sweep or choice of cheapest."""

    for_option: str  # the self-hosted option whose model it serves
    kind: Literal["hosted_api", "self_hosted"]
    name: str  # "provider/model", or the deployment in words
    monthly_cost: float
    cost_per_mtok: float | None
    cheaper_than_option: bool  # cheaper than the option it is suggested for
    note: str
    source: str | None = None
    suggestion: Literal[True] = True


class WaysToServe(PlanModel):
    """For one self-hosted option's model: the cheapest deployments and the cost vs latency
    front of the search (``chosen`` is the cheapest), and the hosted APIs serving it."""

    for_option: str
    model: str
    chosen: PlannedDeployment | None
    why: str
    deployments: list[PlannedDeployment]  # the cheapest few, then the rest of the front
    hosted_apis: list[HostedApi]
    feasible: int
    searched: int
