"""The capacity model's fitted factors and its out-of-source error band, from the catalog.

``efficiency.yaml`` holds the factors fitted on every published measurement;
``capacity_error.yaml`` holds the distribution of measured / predicted output tokens/s over the
leave-one-publisher-out predictions (both written by ``benchmarks/calibrate_capacity.py``).
Kept apart from the validation code so that evaluating a scenario loads only this.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from llm_tco.catalog.benchmarks import CapacityErrorBand, EfficiencyRow
from llm_tco.catalog.loader import DATA_DIR, Catalog, read_rows
from llm_tco.core.capacity import (
    Efficiency,
    efficiency_key,
    select_efficiency,
    unknown_engine_hint,
)
from llm_tco.errors import CatalogLookupError

ERROR_FILE = "capacity_error.yaml"


def efficiency_from_row(row: EfficiencyRow, band: ErrorBand | None = None) -> Efficiency:
    key = efficiency_key(row.engine, row.gpu_vendor)
    if row.fitted_rows:
        source = (
            f"capacity model, {key} factors fitted on {row.fitted_rows} published measurements "
            f"from {len(row.publishers)} publishers"
        )
    else:
        source = f"capacity model, {key}: shared factors stand in ({row.notes})"
    if band is not None:
        source += f"; typical out-of-source error {band.describe()}"
    return Efficiency(
        engine=row.engine,
        bandwidth_efficiency=row.bandwidth_efficiency,
        compute_efficiency=row.compute_efficiency,
        prefill_compute_efficiency=row.prefill_compute_efficiency,
        link_efficiency=row.link_efficiency,
        max_batch_size=row.max_batch_size,
        allreduce_latency_us=row.allreduce_latency_us,
        step_overhead_ms=row.step_overhead_ms,
        layer_overhead_us=row.layer_overhead_us,
        moe_block_tokens=row.moe_block_tokens,
        moe_layer_overhead_us=row.moe_layer_overhead_us,
        sequence_overhead_us=row.sequence_overhead_us,
        dequant_compute_efficiency=row.dequant_compute_efficiency,
        source=source,
    )


def catalog_efficiencies(catalog: Catalog, moe: bool | None = None) -> dict[str, Efficiency]:
    """Every engine's fitted factors; each one's source names the out-of-source error band of
    the model's class (``moe``: MoE or dense; None: every row), the band the Monte Carlo draws
    from for that model, so a capacity note and the simulation quote the same figures."""
    band = error_band(moe, catalog.data_dir or DATA_DIR)
    return {
        efficiency_key(row.engine, row.gpu_vendor): efficiency_from_row(row, band)
        for row in catalog.efficiency
    }


def engine_efficiency(catalog: Catalog, engine: str, vendor: str, moe: bool | None) -> Efficiency:
    """``engine``'s fitted factors on a ``vendor`` GPU (``catalog_efficiencies``), or
    CatalogLookupError naming the engines that have some."""
    factors = catalog_efficiencies(catalog, moe)
    found = select_efficiency(factors, engine, vendor)
    if found is None:
        raise CatalogLookupError(
            f"no efficiency factors for engine '{engine}'",
            field="engine",
            hint=unknown_engine_hint(engine, factors),
        )
    return found


@dataclass(frozen=True)
class ErrorBand:
    """Out-of-source error of modelled capacity: quantiles of measured / predicted.

    Multiply a modelled tokens/s figure by a draw from :meth:`sample` to carry the model's own
    error into a simulation; ``provenance`` says which validation run produced it.
    """

    group: str  # "all", "dense" or "moe"
    rows: int
    publishers: int
    median_ape_percent: float
    quantiles: dict[float, float]  # probability (0.05 ... 0.95) -> measured / predicted
    provenance: str

    def ratio_at(self, probability: float) -> float:
        probs = sorted(self.quantiles)
        return float(np.interp(probability, probs, [self.quantiles[p] for p in probs]))

    def sample(self, rng: np.random.Generator, size: int) -> npt.NDArray[np.float64]:
        """Draws of measured / predicted: inverse CDF of the stored quantiles, linear between
        them and flat beyond the outermost (no extrapolation past what was observed)."""
        return np.asarray([self.ratio_at(u) for u in rng.uniform(0.0, 1.0, size)], dtype=np.float64)

    def describe(self) -> str:
        low, high = self.ratio_at(0.1), self.ratio_at(0.9)
        return (
            f"median {self.median_ape_percent:.0f}%, 80% of measurements within "
            f"{(low - 1) * 100:+.0f}% / {(high - 1) * 100:+.0f}% of the prediction "
            f"(leave-one-publisher-out over {self.rows} rows, {self.publishers} publishers)"
        )


@functools.lru_cache(maxsize=8)
def _bands(data_dir: Path) -> dict[str, ErrorBand]:
    path = data_dir / ERROR_FILE
    if not path.exists():
        return {}
    out: dict[str, ErrorBand] = {}
    for row in read_rows(path, CapacityErrorBand):
        out[row.group] = ErrorBand(
            group=row.group,
            rows=row.rows,
            publishers=row.publishers,
            median_ape_percent=row.median_ape_percent,
            quantiles={
                int(label.removeprefix("p")) / 100: value
                for label, value in row.measured_over_predicted.items()
            },
            provenance=f"{row.source} (as of {row.as_of})",
        )
    return out


def error_band(moe: bool | None = None, data_dir: Path = DATA_DIR) -> ErrorBand | None:
    """The capacity model's out-of-source error band: for MoE or dense models, else all rows.

    None when the catalog has no validation run (``capacity_error.yaml``).
    """
    bands = _bands(data_dir)
    group = "all" if moe is None else ("moe" if moe else "dense")
    return bands.get(group) or bands.get("all")


def sample_capacity_error(
    rng: np.random.Generator, size: int, moe: bool | None = None, data_dir: Path = DATA_DIR
) -> npt.NDArray[np.float64]:
    """``size`` draws of measured / predicted capacity (ones when no band is stored)."""
    band = error_band(moe, data_dir)
    if band is None:
        return np.ones(size)
    return band.sample(rng, size)
