"""Size a self-hosted option from the traffic itself: GPUs minute by minute, and the cheapest mix.

``size_trace(scenario, load=...)`` prices the scenario once (``evaluate.price_options``, so the
replica's capacity at the SLO, its GPU price and the API prices are the ones ``evaluate``
uses), sizes every minute of the trace with a ``MinuteSizer`` (by default the mean-latency
capacity; a tail-latency sizing plugs in the same way) and finds the cheapest stack of
always-on, spot, on-demand and API overflow (``core.trace``). Only the GPU and overflow costs
are compared: ops and engineering costs are the same whichever mix serves.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from llm_tco.catalog.loader import Catalog, load_catalog
from llm_tco.core import trace
from llm_tco.core.costs import SelfHostedOption
from llm_tco.core.fleetsize import FleetCapacity
from llm_tco.core.units import SECONDS_PER_HOUR
from llm_tco.core.workload import Workload
from llm_tco.errors import LlmTcoError, ScenarioError
from llm_tco.evaluate import Priced, fleet_at_percentiles, price_options
from llm_tco.scenario import ScalingSpec, Scenario, SelfHostedSpec

MAX_CHART_POINTS = 1440  # a day at one point a minute; longer traces keep each bucket's peak


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TierResult(Model):
    """One kind of capacity in the mix (USD per month, GPU-hours per month)."""

    tier: str = Field(description="always-on, spot, on-demand or api-overflow")
    replicas: int = Field(description="replica slots this tier serves (0 for the API)")
    gpus: int
    usd_per_gpu_hour: float | None
    gpu_hours_per_month: float
    tokens_per_month: float = Field(description="tokens the API takes (api-overflow only)")
    monthly_usd: float
    how: str


class GpuCounts(Model):
    minimum: int
    mean: float
    p95: float
    maximum: int


class ChartPoint(Model):
    minute: int
    series: str
    gpus: float


class FleetRate(Model):
    """Requests/s each replica of a fleet this size carries at the percentile targets."""

    replicas: int
    requests_per_second_per_replica: float


class TraceSizing(Model):
    """The result of ``llm-tco size-trace``: the JSON output is this model."""

    option: str
    gpu: str
    gpus_per_replica: int
    capacity_tokens_per_second_per_replica: float
    capacity_source: str | None
    sizing: str = Field(description="how each minute's replicas were found")
    routing: str | None = Field(
        default=None,
        description="the router the percentile sizing assumes (self_hosted.routing); None "
        "when the capacity is a mean-latency, stated or measured one",
    )
    fleet_rates: list[FleetRate] = Field(
        default_factory=list,
        description="per-replica rate at the percentile targets by simulated fleet size; a "
        "fleet between sizes gets the smaller size's rate",
    )
    source: str = Field(description="where the per-minute traffic came from")
    minutes: int
    gpus_needed: GpuCounts
    gpus_needed_per_minute: list[int]
    gpus_provisioned_per_minute: dict[str, list[float]] = Field(
        description="GPUs each tier of the mix holds each minute (spot: times availability)"
    )
    mix: list[TierResult]
    monthly_usd: float = Field(description="GPU and overflow cost of the cheapest mix")
    always_on_at_peak_monthly_usd: float
    all_api_monthly_usd: float | None
    overflow_option: str | None
    delay_minutes: int
    chart: list[ChartPoint] = Field(description="demand vs provisioned GPUs, for the chart")
    notes: list[str]


def _profile_load(scenario: Scenario, w: Workload, hours: float) -> tuple[trace.MinuteLoad, str]:
    """A typical week from ``workload.weekly_profile``, else a typical day from
    ``workload.hourly_profile``; each minute at its hour's rate, the month's mean overall."""
    weekly, daily = scenario.workload.weekly_profile, scenario.workload.hourly_profile
    profile = weekly or daily
    if profile is None:
        raise ScenarioError(
            "no per-minute traffic: give request logs or an hourly or weekly profile",
            field="workload.hourly_profile",
            hint="pass --logs FILE (per-request logs), or set 24 values in "
            "workload.hourly_profile or 168 in workload.weekly_profile",
        )
    mean = w.total_tokens_per_month / (hours * SECONDS_PER_HOUR)
    load = trace.profile_load(mean, float(w.input_share), w.tokens_per_request, profile)
    if weekly:
        return (
            load,
            "the scenario's weekly_profile: one week from Monday 00:00 UTC, each minute at "
            "its hour's rate",
        )
    return load, "the scenario's hourly_profile: one day, each minute at its hour's rate"


def size_trace(
    scenario: Scenario,
    load: trace.MinuteLoad | None = None,
    *,
    source: str | None = None,
    option: str | None = None,
    overflow: str | None = "auto",
    sizer: trace.MinuteSizer | None = None,
    sizing: str | None = None,
    catalog: Catalog | None = None,
) -> TraceSizing:
    """Size ``option`` (default: the first self-hosted option) for ``load`` (per-minute traffic;
    default: a day from the scenario's ``workload.hourly_profile``). ``overflow`` names the API
    option peaks may go to ("auto": the scenario's cheapest per token; None: none)."""
    catalog = catalog or load_catalog()
    state = price_options(scenario, catalog)
    own = _self_hosted(state.priced, option)
    core = own.core
    assert isinstance(core, SelfHostedOption)
    spec = next(o for o in scenario.options if o.name == own.result.name)
    capacity = core.capacity_tokens_per_second
    if capacity is None or own.never_serves is not None:
        raise ScenarioError(
            own.never_serves or "sizing from a trace needs the capacity of one replica",
            field=f"options[{own.result.name}].self_hosted",
            hint="give tokens_per_second_per_replica, a bench_result or a catalog model",
        )
    notes: list[str] = []
    hours = float(scenario.hours_per_month)
    if load is None:
        load, source = _profile_load(scenario, state.workload, hours)
    retry = float(core.retry_rate)
    fleet = None
    if sizer is None:
        peak = float(load.tokens_per_second.max(initial=0.0)) * (1 + retry)
        fleet = fleet_at_percentiles(spec, own, state.workload, catalog, peak)
    if fleet is not None:
        sizer = fleet_sizer(*fleet, retry)
        sizing = sizing or _fleet_text(fleet[0], retry)
    sizer = sizer or trace.mean_latency_sizer(float(capacity), retry)
    needed = sizer(load)
    tokens = load.tokens
    scaling = spec.scaling or ScalingSpec()
    tiers, how = _tiers(own, core, scaling, hours, catalog, notes)
    api_name, api_per_token = _overflow(state.priced, overflow, notes)
    max_slots = scaling.max_replicas // core.gpus_per_replica if scaling.max_replicas else None
    mix = trace.cheapest_mix(needed, tokens, tiers, api_per_token, max_slots)
    scale = hours * trace.MINUTES_PER_HOUR / needed.shape[0]  # trace -> month
    peak = int(needed.max(initial=0))
    always = trace.mix_cost(needed, tokens, tiers, api_per_token, (peak, *[0] * (len(tiers) - 1)))
    every_api = None
    if api_per_token is not None:
        every_api = trace.mix_cost(needed, tokens, tiers, api_per_token, [0] * len(tiers)).usd
    gpus = needed * core.gpus_per_replica
    rows = _tier_rows(mix, tiers, how, core.gpus_per_replica, scale, api_name, tokens)
    if not np.isfinite(mix.usd):
        notes.append("no mix serves every minute: some minutes need more than max_replicas")
    return TraceSizing(
        option=own.result.name,
        gpu=own.result.deployment.gpu if own.result.deployment else "",
        gpus_per_replica=core.gpus_per_replica,
        capacity_tokens_per_second_per_replica=float(capacity),
        capacity_source=own.result.deployment.capacity_source if own.result.deployment else None,
        sizing=sizing or _sizing_text(spec.self_hosted, retry),
        routing=fleet[0].routing if fleet else None,
        fleet_rates=[
            FleetRate(replicas=n, requests_per_second_per_replica=r)
            for n, r in zip(
                fleet[0].replicas, fleet[0].requests_per_second_per_replica, strict=True
            )
        ]
        if fleet
        else [],
        source=source or "per-minute traffic",
        minutes=int(needed.shape[0]),
        gpus_needed=GpuCounts(
            minimum=int(gpus.min()) if gpus.size else 0,
            mean=float(gpus.mean()) if gpus.size else 0.0,
            p95=float(np.percentile(gpus, 95)) if gpus.size else 0.0,
            maximum=int(gpus.max(initial=0)),
        ),
        gpus_needed_per_minute=[int(g) for g in gpus],
        gpus_provisioned_per_minute={
            tier.name: [float(v) for v in row]
            for tier, row in zip(
                tiers,
                trace.provisioned(needed, tiers, mix.slots) * core.gpus_per_replica,
                strict=True,
            )
        },
        mix=rows,
        monthly_usd=mix.usd * scale,
        always_on_at_peak_monthly_usd=always.usd * scale,
        all_api_monthly_usd=None if every_api is None else every_api * scale,
        overflow_option=api_name,
        delay_minutes=max((t.delay_minutes for t in tiers), default=0),
        chart=_chart(gpus, tiers, mix.slots, needed, core.gpus_per_replica),
        notes=notes,
    )


def fleet_sizer(fleet: FleetCapacity, tokens_per_request: float, retry: float) -> trace.MinuteSizer:
    """Replicas each minute at the percentile targets behind the deployment's router: the
    fewest n whose n x rate(n) carries the minute's requests/s (tokens/s x (1 + retry) over
    the tokens a request serves); none in an empty minute."""

    def size(load: trace.MinuteLoad) -> np.ndarray:
        rate = load.tokens_per_second * (1.0 + retry) / tokens_per_request
        return fleet.replicas_for(rate, min_replicas=0)

    return size


def _fleet_text(fleet: FleetCapacity, retry: float) -> str:
    rates = "; ".join(
        f"{n}: {r:.3g}"
        for n, r in zip(fleet.replicas, fleet.requests_per_second_per_replica, strict=True)
    )
    return (
        "capacity at the percentile SLO (continuous-batching simulator) for a fleet behind a "
        f"{fleet.routing} router: req/s per replica by fleet size {rates} (larger fleets: the "
        f"last); replicas = fewest n with n x rate(n) >= requests/s x {1 + retry:g} each minute"
    )


def _sizing_text(spec: SelfHostedSpec | None, retry: float) -> str:
    percentile = spec is not None and (
        spec.ttft_slo_percentile is not None or spec.tpot_slo_percentile is not None
    )
    how = (
        "capacity at the percentile SLO (continuous-batching simulator, as evaluate sizes it)"
        if percentile
        else "mean-latency capacity at the SLO (as evaluate sizes gpu_count: auto)"
    )
    return f"{how}; replicas = ceil(tokens/s x {1 + retry:g} / capacity) each minute"


def _self_hosted(priced: Sequence[Priced], name: str | None) -> Priced:
    options = [p for p in priced if p.result.kind == "self_hosted"]
    if name is not None:
        options = [p for p in options if p.result.name == name]
    if not options:
        names = ", ".join(p.result.name for p in priced if p.result.kind == "self_hosted")
        raise ScenarioError(
            f"no self-hosted option {name!r}" if name else "no self-hosted option to size",
            field="--option",
            hint=f"one of {names}" if names else "add a self_hosted option to the scenario",
        )
    return options[0]


def _tiers(
    own: Priced,
    core: SelfHostedOption,
    scaling: ScalingSpec,
    hours: float,
    catalog: Catalog,
    notes: list[str],
) -> tuple[list[trace.Tier], dict[str, str]]:
    """Always-on, spot and on-demand at USD per replica-minute, with how each price is made."""
    per_gpu_hour = (float(core.gpu_monthly_usd) + float(core.power_monthly_usd_per_gpu)) / hours
    per_minute = per_gpu_hour * core.gpus_per_replica / trace.MINUTES_PER_HOUR
    delay = round(float(scaling.scale_up_minutes or 0) + float(scaling.cold_start_minutes or 0))
    source = own.result.deployment.gpu_price_source if own.result.deployment else "scenario"
    always = per_minute
    how = {"on-demand": f"${per_gpu_hour:.2f}/GPU-h ({source})"}
    how["always-on"] = f"${per_gpu_hour:.2f}/GPU-h, held every hour ({source})"
    if scaling.reserved_discount is not None:
        always = per_minute * (1 - scaling.reserved_discount)
        how["always-on"] = (
            f"${per_gpu_hour * (1 - scaling.reserved_discount):.2f}/GPU-h committed "
            f"(on-demand x (1 - {scaling.reserved_discount:.0%}) reserved_discount)"
        )
    tiers = [trace.Tier("always-on", always, autoscaled=False)]
    spot = scaling.spot_discount
    if spot is None:
        try:
            spot = catalog.ops_default("spot_discount").value
        except LlmTcoError:
            spot = None
    if spot is not None and scaling.spot_availability is not None:
        tiers.append(
            trace.Tier(
                "spot",
                per_minute * (1 - spot),
                autoscaled=True,
                delay_minutes=delay,
                availability=float(scaling.spot_availability),
            )
        )
        how["spot"] = (
            f"${per_gpu_hour * (1 - spot):.2f}/GPU-h (on-demand x (1 - {spot:.0%})), up "
            f"{scaling.spot_availability:.0%} of the time"
        )
    else:
        notes.append("spot left out: give scaling.spot_availability (share of time up)")
    tiers.append(trace.Tier("on-demand", per_minute, autoscaled=True, delay_minutes=delay))
    if delay:
        how["on-demand"] += f", {delay} min from request to serving, billed"
        if "spot" in how:
            how["spot"] += f", {delay} min from request to serving, billed"
    return tiers, how


def _overflow(
    priced: Sequence[Priced], overflow: str | None, notes: list[str]
) -> tuple[str | None, float | None]:
    apis = [p for p in priced if p.result.kind == "api" and p.never_serves is None]
    if overflow is None or overflow == "none":
        notes.append("no API overflow: every minute is served by GPUs")
        return None, None
    if overflow != "auto":
        chosen = [p for p in apis if p.result.name == overflow]
        if not chosen:
            raise ScenarioError(
                f"no API option {overflow!r} to overflow to",
                field="--overflow",
                hint=", ".join([p.result.name for p in apis] + ["auto", "none"]),
            )
        apis = chosen
    if not apis:
        notes.append("no API option in the scenario: peaks cannot overflow")
        return None, None
    best = min(apis, key=lambda p: float(p.curve.usd_per_token))
    return best.result.name, float(best.curve.usd_per_token)


def _tier_rows(
    mix: trace.Mix,
    tiers: Sequence[trace.Tier],
    how: dict[str, str],
    gpus_per_replica: int,
    scale: float,
    api_name: str | None,
    tokens: np.ndarray,
) -> list[TierResult]:
    """One row per GPU tier (its GPU bill) and one for the API (every token the GPUs do not
    serve: above the stack, during scale-up, while spot is down); the rows sum to the mix."""
    rows = []
    gpu_usd = 0.0
    for j, tier in enumerate(tiers):
        usd = mix.replica_minutes[j] * tier.usd_per_replica_minute
        gpu_usd += usd
        rows.append(
            TierResult(
                tier=tier.name,
                replicas=mix.slots[j],
                gpus=mix.slots[j] * gpus_per_replica,
                usd_per_gpu_hour=tier.usd_per_replica_minute
                * trace.MINUTES_PER_HOUR
                / gpus_per_replica,
                gpu_hours_per_month=mix.replica_minutes[j]
                / trace.MINUTES_PER_HOUR
                * gpus_per_replica
                * scale,
                tokens_per_month=0.0,
                monthly_usd=usd * scale,
                how=how.get(tier.name, ""),
            )
        )
    total = float(tokens.sum())
    share = mix.overflow_tokens / total if total else 0.0
    rows.append(
        TierResult(
            tier="api-overflow",
            replicas=0,
            gpus=0,
            usd_per_gpu_hour=None,
            gpu_hours_per_month=0.0,
            tokens_per_month=mix.overflow_tokens * scale,
            monthly_usd=(mix.usd - gpu_usd) * scale,
            how=f"{share:.1%} of tokens to {api_name}" if api_name else "no API overflow",
        )
    )
    return rows


def _chart(
    gpus: np.ndarray,
    tiers: Sequence[trace.Tier],
    slots: Sequence[int],
    needed: np.ndarray,
    gpus_per_replica: int,
) -> list[ChartPoint]:
    """Demand and GPUs held per tier each minute, at most ``MAX_CHART_POINTS`` points per
    series (a bucket of minutes keeps its peak)."""
    held = trace.provisioned(needed, tiers, slots) * gpus_per_replica
    series = {"needed": gpus.astype(np.float64)}
    for tier, row in zip(tiers, held, strict=True):
        series[tier.name] = row
    width = max(1, -(-gpus.shape[0] // MAX_CHART_POINTS))
    points = []
    for name, values in series.items():
        for start in range(0, values.shape[0], width):
            points.append(
                ChartPoint(
                    minute=start, series=name, gpus=float(values[start : start + width].max())
                )
            )
    return points
