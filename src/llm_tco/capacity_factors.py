"""The capacity model's efficiency factors, from the catalog's ``efficiency.yaml``.

Kept apart from the validation code so that evaluating a scenario loads only this.
"""

from __future__ import annotations

from llm_tco.catalog.benchmarks import EfficiencyRow
from llm_tco.catalog.loader import Catalog
from llm_tco.core.capacity import Efficiency, efficiency_key


def efficiency_from_row(row: EfficiencyRow) -> Efficiency:
    return Efficiency(
        engine=row.engine,
        bandwidth_efficiency=row.bandwidth_efficiency,
        compute_efficiency=row.compute_efficiency,
        prefill_compute_efficiency=row.prefill_compute_efficiency,
        link_efficiency=row.link_efficiency,
        max_batch_size=row.max_batch_size,
        allreduce_latency_us=row.allreduce_latency_us,
        source=(
            f"capacity model, {efficiency_key(row.engine, row.gpu_vendor)} efficiency "
            f"(calibrated on {len(row.calibration_rows)} rows)"
            if row.calibration_rows
            else f"capacity model, {row.engine} efficiency (stand-in: {row.notes})"
        ),
    )


def catalog_efficiencies(catalog: Catalog) -> dict[str, Efficiency]:
    return {
        efficiency_key(row.engine, row.gpu_vendor): efficiency_from_row(row)
        for row in catalog.efficiency
    }
