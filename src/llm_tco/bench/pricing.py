"""What the benchmarked deployment costs per hour: from ``--hourly`` or a catalog offer."""

from __future__ import annotations

from llm_tco.bench.result import Pricing
from llm_tco.errors import BenchError, CatalogLookupError

# Monthly list prices are spread over the same 720 hours a month the scenarios use by default.
HOURS_PER_MONTH = 720.0


def resolve_pricing(
    *, hourly: float | None, gpu: str | None, count: int, offer: str | None
) -> Pricing | None:
    """A :class:`Pricing` for the whole deployment (``count`` GPUs), or None when no price given.

    ``hourly`` is per GPU, as rental prices are quoted; ``offer`` names a catalog offer (or a
    provider with an offer for ``gpu``) whose instance price is divided by its GPU count.
    """
    if hourly is not None and offer is not None:
        raise BenchError("give --hourly or --offer, not both", field="hourly")
    gpu_id = _gpu_id(gpu) if gpu else None
    if hourly is not None:
        if hourly < 0:
            raise BenchError("an hourly price cannot be negative", field="hourly")
        return Pricing(hourly_usd=hourly * count, gpu=gpu_id, gpu_count=count, source="--hourly")
    if offer is None:
        return None
    if gpu_id is None:
        raise BenchError("--offer needs --gpu to know which GPU it prices", field="offer")
    from llm_tco.catalog import load_catalog

    row = load_catalog().offer(offer, gpu_id)
    if row.currency != "USD":
        raise BenchError(
            f"offer {row.id} is priced in {row.currency}",
            field="offer",
            hint="give --hourly in USD",
        )
    instance_hourly = row.price if row.price_unit == "hour" else row.price / HOURS_PER_MONTH
    per_gpu = instance_hourly / row.gpu_count
    return Pricing(
        hourly_usd=per_gpu * count,
        gpu=gpu_id,
        gpu_count=count,
        offer=row.id,
        source=f"{row.source} (as of {row.as_of})",
    )


def _gpu_id(name: str) -> str:
    """The catalog id for a GPU name; the name as given when the catalog lists no GPUs."""
    from llm_tco.catalog import load_catalog

    catalog = load_catalog()
    if not catalog.gpus:
        return name
    try:
        return catalog.gpu(name).id
    except CatalogLookupError as exc:
        raise BenchError(exc.message, field="gpu", hint=exc.hint) from exc
