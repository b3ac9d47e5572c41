"""Idle cost and how to cut it: autoscaling to an hourly load profile, scale-to-zero with a
cold-start penalty, spot and reserved discounts, and owned hardware amortised over 36 months.

Only the GPU line changes between these choices (ops, engineering and per-token costs stay), so
each is compared with always-on replicas sized for the peak hour. Money is USD per month.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from llm_tco.core.costs import FloatArray, replicas_for
from llm_tco.core.units import SECONDS_PER_HOUR

HOURS_PER_DAY = 24


@dataclass(frozen=True)
class Fleet:
    """One replica's price and capacity, and the load it serves."""

    replica_hourly_usd: float
    capacity_tokens_per_second: float | None  # per replica; None when unknown
    mean_tokens_per_second: float  # including retries
    hours_per_month: float
    current_replicas: int
    min_replicas: int = 1
    max_replicas: int | None = None


@dataclass(frozen=True)
class Choice:
    name: str
    monthly_usd: float
    how: str


def hourly_rates(mean_tokens_per_second: float, profile: list[float]) -> FloatArray:
    """Tokens/s in each hour of the day: the profile rescaled so its mean is the month's mean."""
    shape = np.asarray(profile, dtype=np.float64)
    rates: FloatArray = mean_tokens_per_second * shape / shape.mean()
    return rates


def replicas_per_hour(fleet: Fleet, rates: FloatArray, floor: int) -> tuple[FloatArray, FloatArray]:
    """Replicas each hour (between ``floor`` and max) and the tokens/s left unserved."""
    assert fleet.capacity_tokens_per_second is not None
    needed = replicas_for(rates, fleet.capacity_tokens_per_second, floor)
    needed = np.where(rates > 0, np.maximum(needed, 1), needed)
    if fleet.max_replicas is not None:
        needed = np.minimum(needed, fleet.max_replicas)
    unserved = np.maximum(rates - needed * fleet.capacity_tokens_per_second, 0.0)
    return needed, unserved


def always_on(fleet: Fleet) -> Choice:
    monthly = fleet.current_replicas * fleet.replica_hourly_usd * fleet.hours_per_month
    return Choice(
        "always-on",
        monthly,
        f"{fleet.current_replicas} replica(s) x ${fleet.replica_hourly_usd:.2f}/h x "
        f"{fleet.hours_per_month:g} h",
    )


def autoscaled(
    fleet: Fleet, profile: list[float], scale_to_zero: bool = False, cold_start_minutes: float = 0.0
) -> Choice:
    """Replicas follow the hourly profile; with scale-to-zero, idle hours cost nothing but each
    restart bills ``cold_start_minutes`` of a replica while the model loads."""
    rates = hourly_rates(fleet.mean_tokens_per_second, profile)
    floor = 0 if scale_to_zero else fleet.min_replicas
    replicas, unserved = replicas_per_hour(fleet, rates, floor)
    days = fleet.hours_per_month / HOURS_PER_DAY
    monthly = float(replicas.sum()) * fleet.replica_hourly_usd * days
    starts = 0
    if scale_to_zero:
        running = replicas > 0
        starts = int(np.sum(running & ~np.roll(running, 1)))  # the day wraps around
        monthly += starts * days * cold_start_minutes / 60 * fleet.replica_hourly_usd
    name = "scale-to-zero" if scale_to_zero else "autoscaled"
    how = (
        f"{replicas.min():.0f}-{replicas.max():.0f} replicas following the hourly profile, "
        f"{replicas.sum():.0f} replica-hours/day"
    )
    if scale_to_zero:
        how += f", {starts} cold start(s)/day x {cold_start_minutes:g} min"
    lost = float(unserved.sum()) * SECONDS_PER_HOUR * days
    if lost > 0:
        how += f"; {lost:.3g} tokens/month above max_replicas go unserved"
    return Choice(name, monthly, how)


def discounted(base: Choice, name: str, discount: float, note: str) -> Choice:
    return Choice(
        name,
        base.monthly_usd * (1 - discount),
        f"{base.name} x (1 - {discount:.0%}) {note}".strip(),
    )


def owned(
    fleet: Fleet,
    gpus_per_replica: int,
    price_per_gpu: float,
    amortization_months: float,
    power_monthly_usd_per_gpu: float = 0.0,
) -> Choice:
    gpus = fleet.current_replicas * gpus_per_replica
    per_gpu = price_per_gpu / amortization_months + power_monthly_usd_per_gpu
    how = f"{gpus} GPUs x (${price_per_gpu:,.0f} / {amortization_months:g} months"
    how += f" + ${power_monthly_usd_per_gpu:,.0f} power)" if power_monthly_usd_per_gpu else ")"
    return Choice("owned", gpus * per_gpu, how)


def peak_replicas(fleet: Fleet, profile: list[float] | None, peak_to_mean: float) -> int | None:
    """Replicas an always-on fleet needs for the busiest hour (profile) or the stated peak."""
    if fleet.capacity_tokens_per_second is None:
        return None
    peak = (
        float(hourly_rates(fleet.mean_tokens_per_second, profile).max())
        if profile
        else fleet.mean_tokens_per_second * peak_to_mean
    )
    return int(replicas_for(peak, fleet.capacity_tokens_per_second, fleet.min_replicas))
