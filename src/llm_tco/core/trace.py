"""Sizing from a trace: replicas needed minute by minute, and the cheapest mix of capacity.

Demand: ``needed[t]`` replicas in minute t (from a per-minute sizing function, ``MinuteSizer``,
so a tail-latency simulator can replace the mean-latency capacity), carrying ``tokens[t]``
tokens, spread evenly over the replicas needed.

Supply is stacked in replica *slots* from the bottom: slot k (0-based) is needed in minute t
when ``needed[t] > k``. Each slot is served by one tier, and the tiers are stacked in a fixed
order, bottom first: always-on (owned or committed, held every minute), spot, on-demand (both
autoscaled), then API overflow (no GPU). A mix is the number of slots of each GPU tier.

An autoscaled slot is held exactly in the minutes it is needed (a reactive autoscaler asking
for the replicas the current minute needs) and serves only once it has been held for
``delay_minutes`` (scale-up delay plus cold start: provisioning, image pull, model load),
which it is billed for. A slot that is needed but not serving sends its share of the minute's
tokens to the API. The trace is a typical period that repeats: the minute before the first is
the last (as ``elasticity.autoscaled`` wraps the day). Spot slots are available a share
``availability`` of the time, in expectation: they bill and serve that share of their minutes
and the rest overflows. Without an API to overflow to, a mix that leaves demand unserved costs
infinity (it does not meet the SLO).

Because a slot's cost depends only on its own tier and demand, the total is a sum over slots,
and the cheapest stacked mix is a shortest path over (slot, tier) with the tier never going
down as k rises: exact, O(slots x tiers x minutes). Money is USD; prices are per replica-minute.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from llm_tco.core.costs import FloatArray, replicas_for

IntArray = NDArray[np.int64]
SECONDS_PER_MINUTE = 60.0
MINUTES_PER_HOUR = 60
HOURS_PER_DAY = 24


@dataclass(frozen=True)
class MinuteLoad:
    """Traffic per minute: requests and tokens (arrays of one length, one entry a minute)."""

    requests: FloatArray
    input_tokens: FloatArray
    output_tokens: FloatArray

    @property
    def tokens(self) -> FloatArray:
        result: FloatArray = self.input_tokens + self.output_tokens
        return result

    @property
    def tokens_per_second(self) -> FloatArray:
        result: FloatArray = self.tokens / SECONDS_PER_MINUTE
        return result


# The per-minute sizing: replicas each minute needs at the SLO.
MinuteSizer = Callable[[MinuteLoad], IntArray]


def mean_latency_sizer(capacity_tokens_per_second: float, retry_rate: float = 0.0) -> MinuteSizer:
    """Replicas whose capacity at the SLO (total tokens/s per replica, as ``evaluate`` finds
    it) covers each minute's mean rate, retries included: ``replicas_for`` (the one replica
    round-up), none in an empty minute."""

    def size(load: MinuteLoad) -> IntArray:
        needed = replicas_for(
            load.tokens_per_second * (1.0 + retry_rate), capacity_tokens_per_second
        )
        return np.asarray(needed, dtype=np.int64)

    return size


def profile_load(
    mean_tokens_per_second: float,
    input_share: float,
    tokens_per_request: float | None,
    profile: Sequence[float],
    days: int = 1,
) -> MinuteLoad:
    """A typical period from an hourly profile (24 values: a day; 168: a week, hour 0 =
    Monday 00:00): every minute of hour h carries ``mean x profile[h] / mean(profile)``
    tokens/s, so the period's mean is the month's; ``days`` repeats it."""
    shape = np.asarray(profile, dtype=np.float64)
    per_hour = mean_tokens_per_second * shape / shape.mean()
    per_minute = np.repeat(per_hour, MINUTES_PER_HOUR) * SECONDS_PER_MINUTE
    tokens = np.tile(per_minute, days)
    requests = tokens / tokens_per_request if tokens_per_request else np.zeros_like(tokens)
    return MinuteLoad(requests, tokens * input_share, tokens * (1 - input_share))


@dataclass(frozen=True)
class Tier:
    """One kind of GPU capacity. ``usd_per_replica_minute`` is billed while a slot is held."""

    name: str
    usd_per_replica_minute: float
    autoscaled: bool
    delay_minutes: int = 0
    availability: float = 1.0

    def __post_init__(self) -> None:
        # An availability within float rounding of 1 (e.g. 1 - 1e-16 from a computed share) is
        # 1: otherwise its 1e-16 of unserved traffic would need the API, or with no API make the
        # tier unable to serve at all.
        if 1.0 - AVAILABILITY_ROUNDING < self.availability < 1.0:
            object.__setattr__(self, "availability", 1.0)


AVAILABILITY_ROUNDING = 1e-9


@dataclass(frozen=True)
class SlotCosts:
    """Per slot (rows) and tier (columns, the tiers then the API): USD over the trace, GPU
    replica-minutes billed and tokens sent to the API."""

    usd: FloatArray
    replica_minutes: FloatArray
    overflow_tokens: FloatArray


def serving(held: NDArray[np.bool_], delay_minutes: int) -> NDArray[np.bool_]:
    """Minutes a slot serves: held in this minute and the ``delay_minutes`` before it (the
    trace wraps around)."""
    result = held.copy()
    for lag in range(1, min(delay_minutes, held.shape[-1]) + 1):
        result &= np.roll(held, lag, axis=-1)
    if delay_minutes >= held.shape[-1]:
        result &= held.all(axis=-1, keepdims=True)
    return result


def slot_costs(
    needed: IntArray,
    tokens: FloatArray,
    tiers: Sequence[Tier],
    overflow_usd_per_token: float | None,
) -> SlotCosts:
    """Cost of serving each slot with each tier (and with the API alone, last column)."""
    slots = int(needed.max(initial=0))
    minutes = needed.shape[0]
    need = needed[None, :] > np.arange(slots)[:, None]  # slot x minute
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(needed > 0, tokens / np.maximum(needed, 1), 0.0)  # tokens per slot
    api = np.inf if overflow_usd_per_token is None else overflow_usd_per_token
    usd = np.zeros((slots, len(tiers) + 1))
    replica_minutes = np.zeros_like(usd)
    overflow = np.zeros_like(usd)
    for j, tier in enumerate(tiers):
        if tier.autoscaled:
            held = need
            served = serving(need, tier.delay_minutes)
        else:
            held = np.ones_like(need)
            served = need
        billed = held.sum(axis=1) * tier.availability
        lost = ((need & ~served) * share).sum(axis=1) + (1 - tier.availability) * (
            served * share
        ).sum(axis=1)
        replica_minutes[:, j] = billed
        overflow[:, j] = lost
        usd[:, j] = billed * tier.usd_per_replica_minute + _api_cost(lost, api)
    overflow[:, -1] = (need * share).sum(axis=1)
    usd[:, -1] = _api_cost(overflow[:, -1], api)
    assert minutes == tokens.shape[0]
    return SlotCosts(usd, replica_minutes, overflow)


def _api_cost(tokens: FloatArray, usd_per_token: float) -> FloatArray:
    """Tokens at the API price; with no API (inf), any token unserved costs infinity."""
    with np.errstate(invalid="ignore"):  # 0 tokens x inf is 0 here, not nan
        result: FloatArray = np.where(tokens > 0, tokens * usd_per_token, 0.0)
    return result


@dataclass(frozen=True)
class Mix:
    """Slots per tier (in the order given, then the API), cost over the trace (USD), GPU
    replica-minutes billed per tier, and tokens sent to the API."""

    slots: tuple[int, ...]
    usd: float
    usd_per_tier: tuple[float, ...]
    replica_minutes: tuple[float, ...]
    overflow_tokens: float


def cheapest_mix(
    needed: IntArray,
    tokens: FloatArray,
    tiers: Sequence[Tier],
    overflow_usd_per_token: float | None,
    max_slots: int | None = None,
) -> Mix:
    """The stacked mix of least cost (see the module docstring); ``max_slots`` caps the GPU
    slots (slots above it go to the API)."""
    costs = slot_costs(needed, tokens, tiers, overflow_usd_per_token)
    slots, options = costs.usd.shape
    usd = costs.usd.copy()
    if max_slots is not None and slots > max_slots:
        usd[max_slots:, :-1] = np.inf
    # best[k, j]: least cost of slots k.. with slot k in tier j or a later one.
    best = np.zeros((slots + 1, options))
    for k in range(slots - 1, -1, -1):
        here = usd[k] + best[k + 1]
        best[k] = np.minimum.accumulate(here[::-1])[::-1]
    chosen = []
    j = 0
    for k in range(slots):
        here = usd[k, j:] + best[k + 1, j:]
        j += int(np.argmin(here))
        chosen.append(j)
    picks = np.asarray(chosen, dtype=np.int64)
    return _mix_of(costs, picks, options)


def mix_cost(
    needed: IntArray,
    tokens: FloatArray,
    tiers: Sequence[Tier],
    overflow_usd_per_token: float | None,
    slots: Sequence[int],
) -> Mix:
    """The cost of a given stack (slots per tier, bottom first; the rest to the API)."""
    costs = slot_costs(needed, tokens, tiers, overflow_usd_per_token)
    bounds = np.cumsum(slots)
    picks = np.searchsorted(bounds, np.arange(costs.usd.shape[0]), side="right")
    return _mix_of(costs, np.minimum(picks, len(tiers)).astype(np.int64), costs.usd.shape[1])


def _mix_of(costs: SlotCosts, picks: IntArray, options: int) -> Mix:
    rows = np.arange(picks.shape[0])
    usd = costs.usd[rows, picks]
    per_tier = tuple(float(usd[picks == j].sum()) for j in range(options))
    minutes = costs.replica_minutes[rows, picks]
    return Mix(
        slots=tuple(int((picks == j).sum()) for j in range(options - 1)),
        usd=float(usd.sum()),
        usd_per_tier=per_tier,
        replica_minutes=tuple(float(minutes[picks == j].sum()) for j in range(options - 1)),
        overflow_tokens=float(costs.overflow_tokens[rows, picks].sum()),
    )


def provisioned(needed: IntArray, tiers: Sequence[Tier], slots: Sequence[int]) -> FloatArray:
    """Replicas held per tier and minute (tiers x minutes) for a stack of ``slots``."""
    rows = []
    base = 0
    for tier, count in zip(tiers, slots, strict=True):
        if tier.autoscaled:
            held = np.clip(needed - base, 0, count).astype(np.float64) * tier.availability
        else:
            held = np.full(needed.shape, float(count))
        rows.append(held)
        base += count
    return np.asarray(rows, dtype=np.float64).reshape(len(tiers), needed.shape[0])
