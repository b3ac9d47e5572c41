"""Cost over a term of months: prices that move, hardware that keeps a resale value, money
that costs something.

Every function takes floats or arrays of samples (any trailing shape) and returns arrays whose
first axis is the month of the term (month 1 first). Month ``m`` (0-based) of an option costs

    monthly + api_usd * (api_index[m] - 1) + rent_usd * (gpu_index[m] - 1) - amortisation_usd
    index[m] = (1 + change_per_year) ** (m / 12)

plus, in the full view, the purchase of owned GPUs at month 0, a capital charge of
``capex * capital_charge_per_year / 12`` each month and the resale value credited in the last
month. The marginal view treats owned hardware as sunk: no purchase, no charge, no resale
(and no amortisation either, in both views: the full view pays the purchase itself).
Each month is discounted by ``(1 + discount_rate_per_year) ** (-m / 12)`` (paid at the start of
the month, so month 1 is not discounted). With every rate zero and no owned hardware, each
month costs exactly ``monthly``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
Value = float | FloatArray
View = Literal["full", "marginal"]
MONTHS_PER_YEAR = 12.0


@dataclass(frozen=True)
class TermRates:
    """The term and the rates that move its prices (per year; -0.1 is 10% lower a year on)."""

    months: int
    api_change_per_year: Value = 0.0
    gpu_change_per_year: Value = 0.0
    discount_rate_per_year: Value = 0.0
    capital_charge_per_year: Value = 0.0
    resale_share: Value = 0.0  # resale value at the end of the term / purchase price


@dataclass(frozen=True)
class OptionFlows:
    """One option's month-1 cost (USD) and the parts of it that move.

    ``api_usd``: the part billed at API prices; ``rent_usd``: rented GPUs; ``amortisation_usd``:
    the purchase of owned GPUs spread over months in the monthly figure (replaced here by the
    cash: ``capex_usd`` at month 0, less the resale value at the end)."""

    monthly_usd: Value
    api_usd: Value = 0.0
    rent_usd: Value = 0.0
    amortisation_usd: Value = 0.0
    capex_usd: Value = 0.0


def _months(rates: TermRates, like: Value) -> FloatArray:
    """Month indices 0 .. months-1, shaped to broadcast against ``like``'s sample axes."""
    shape = (rates.months,) + (1,) * np.ndim(like)
    return np.arange(rates.months, dtype=np.float64).reshape(shape)


def _index(change_per_year: Value, months: FloatArray) -> FloatArray:
    """(1 + change) ** (m / 12); exactly 1.0 every month when the change is zero."""
    result: FloatArray = np.power(1.0 + np.asarray(change_per_year), months / MONTHS_PER_YEAR)
    return result


def monthly_costs(flows: OptionFlows, rates: TermRates, view: View = "full") -> FloatArray:
    """USD paid in each month of the term (discounted), first axis the month."""
    values = (
        flows.monthly_usd,
        flows.api_usd,
        flows.rent_usd,
        flows.amortisation_usd,
        flows.capex_usd,
        rates.api_change_per_year,
        rates.gpu_change_per_year,
        rates.discount_rate_per_year,
        rates.capital_charge_per_year,
        rates.resale_share,
    )
    like = np.broadcast(*[np.asarray(v) for v in values])
    m = _months(rates, np.zeros(like.shape))
    cost = (
        np.asarray(flows.monthly_usd)
        + np.asarray(flows.api_usd) * (_index(rates.api_change_per_year, m) - 1.0)
        + np.asarray(flows.rent_usd) * (_index(rates.gpu_change_per_year, m) - 1.0)
        - np.asarray(flows.amortisation_usd)
    ) + np.zeros_like(m)
    if view == "full":
        capex = np.asarray(flows.capex_usd)
        charge = capex * np.asarray(rates.capital_charge_per_year) / MONTHS_PER_YEAR
        cost = cost + charge
        cost[0] = cost[0] + capex
        cost[-1] = cost[-1] - capex * np.asarray(rates.resale_share)
    discount = np.power(1.0 + np.asarray(rates.discount_rate_per_year), -m / MONTHS_PER_YEAR)
    result: FloatArray = cost * discount
    return result


def cumulative(costs: FloatArray) -> FloatArray:
    """Running total of :func:`monthly_costs` (month n holds months 1..n)."""
    result: FloatArray = np.cumsum(costs, axis=0)
    return result


def total(costs: FloatArray) -> Value:
    """The term's total. One option at point values is summed exactly (math.fsum), so a term
    of n equal months is exactly n times the month."""
    if costs.ndim == 1:
        return math.fsum(costs.tolist())
    result: FloatArray = costs.sum(axis=0)
    return result


def pulls_ahead_month(own: FloatArray, other: FloatArray) -> Value:
    """First month (1-based) at whose end ``own``'s cumulative cost is at most ``other``'s:
    when an option pulls ahead (its payback against ``other``); NaN where it never does within
    the term. Arguments are :func:`cumulative` arrays of the same shape."""
    ahead = own <= other
    found = np.any(ahead, axis=0)
    first = np.argmax(ahead, axis=0).astype(np.float64) + 1.0
    result = np.where(found, first, np.nan)
    if np.ndim(result) == 0:
        return float(result)
    out: FloatArray = result
    return out


def resale_share(depreciation_per_year: Value, months: int) -> Value:
    """Share of the purchase price a GPU fetches after ``months``: (1 - d) ** (months / 12)."""
    result = np.power(1.0 - np.asarray(depreciation_per_year), months / MONTHS_PER_YEAR)
    if np.ndim(result) == 0:
        return float(result)
    out: FloatArray = result
    return out
