"""Ranges and distributions for scenario inputs, seeded sampling and vectorised summaries.

A scenario number may be a range: ``{low, high}`` (uniform), ``{triangular: [a, mode, b]}`` or
``{lognormal: {median, p90}}``. Deterministic evaluation uses the distribution's point value
(midpoint, mode, median); the Monte Carlo draws every input as a numpy array and computes each
option's monthly cost per sample without a Python loop over samples (the break-even per sample:
:func:`llm_tco.core.breakeven.first_breakeven`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from llm_tco.core.costs import FloatArray

# z such that P(Z <= z) = 0.9 for a standard normal: lognormal sigma = ln(p90 / median) / z.
Z90 = 1.2815515655446004
PERCENTILES = (10.0, 50.0, 90.0)

Kind = Literal["uniform", "triangular", "lognormal"]


@dataclass(frozen=True)
class Distribution:
    """One uncertain input. ``uniform`` uses low/high, ``triangular`` low/mode/high,
    ``lognormal`` mode as the median and high as the 90th percentile."""

    kind: Kind
    low: float
    high: float
    mode: float | None = None

    def __post_init__(self) -> None:
        if self.kind == "lognormal":
            assert self.mode is not None
            if not 0 < self.mode <= self.high:
                raise ValueError("lognormal needs 0 < median <= p90")
        elif self.low > self.high:
            raise ValueError(f"low {self.low:g} is above high {self.high:g}")
        if self.kind == "triangular":
            assert self.mode is not None
            if not self.low <= self.mode <= self.high:
                raise ValueError("triangular needs a <= mode <= b")

    @property
    def point(self) -> float:
        """The value deterministic evaluation uses: midpoint, mode or median."""
        if self.kind == "uniform":
            return self.low if self.low == self.high else (self.low + self.high) / 2
        assert self.mode is not None
        return self.mode

    @property
    def degenerate(self) -> bool:
        if self.kind == "lognormal":
            return self.mode == self.high
        return self.low == self.high

    @property
    def sigma(self) -> float:
        """Log-space standard deviation of a lognormal."""
        assert self.mode is not None
        return math.log(self.high / self.mode) / Z90

    @property
    def bounds(self) -> tuple[float, float]:
        """The low and high ends used by the tornado: the range's ends, or P10/P90."""
        if self.kind == "lognormal":
            assert self.mode is not None
            return self.mode * self.mode / self.high, self.high
        return self.low, self.high

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        if self.degenerate:
            return np.full(size, self.point)
        if self.kind == "uniform":
            return rng.uniform(self.low, self.high, size)
        if self.kind == "triangular":
            assert self.mode is not None
            return rng.triangular(self.low, self.mode, self.high, size)
        assert self.mode is not None
        return self.mode * np.exp(self.sigma * rng.standard_normal(size))

    def describe(self) -> str:
        if self.kind == "uniform":
            return f"uniform {self.low:g}..{self.high:g}"
        if self.kind == "triangular":
            return f"triangular {self.low:g}/{self.mode:g}/{self.high:g}"
        return f"lognormal median {self.mode:g}, p90 {self.high:g}"


def draw(
    distributions: dict[str, Distribution], samples: int, seed: int | None
) -> dict[str, FloatArray]:
    """Seeded draws, one array per input, in sorted input order so a seed means one result."""
    rng = np.random.default_rng(seed)
    return {path: distributions[path].sample(rng, samples) for path in sorted(distributions)}


# --- summaries --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    """P10 / P50 / P90 of a sampled quantity."""

    p10: float
    p50: float
    p90: float
    mean: float


def band(values: FloatArray) -> Band:
    p10, p50, p90 = np.percentile(values, PERCENTILES)
    return Band(float(p10), float(p50), float(p90), float(np.mean(values)))


def probability_cheapest(
    costs: dict[str, FloatArray], feasible: dict[str, NDArray[np.bool_]] | None = None
) -> dict[str, float]:
    """Share of samples in which each option costs least among those that can serve that
    sample (``feasible``, default all) at a finite cost; ties go to the first listed. A sample
    no option can serve counts for none."""
    names = list(costs)
    table = np.vstack([costs[name] for name in names])
    ok = np.isfinite(table)
    if feasible is not None:
        ok &= np.vstack([np.broadcast_to(feasible[name], table.shape[1]) for name in names])
    ranked = np.where(ok, table, np.inf)
    winners = np.argmin(ranked, axis=0)
    counted = ok.any(axis=0)
    counts = np.bincount(winners[counted], minlength=len(names))
    return {name: float(counts[i]) / table.shape[1] for i, name in enumerate(names)}


@dataclass(frozen=True)
class BreakevenBand:
    """Break-even volume across samples: its percentiles among samples where it exists."""

    band: Band | None
    share_never: float


def breakeven_band(volumes: FloatArray) -> BreakevenBand:
    """``volumes`` holds NaN where the fixed-cost option never becomes cheaper."""
    found = volumes[np.isfinite(volumes)]
    never = 1.0 - len(found) / len(volumes) if len(volumes) else 1.0
    return BreakevenBand(band(found) if len(found) else None, never)
