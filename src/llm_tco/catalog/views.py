"""Catalog listings for `llm-tco catalog ...`: rich tables or JSON, every row with its source."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table
from rich.text import Text

from llm_tco.catalog.loader import load_catalog, normalise_name


def _matches(search: str | None, *fields: str | None) -> bool:
    if not search:
        return True
    key = normalise_name(search)
    return any(key in normalise_name(f) for f in fields if f)


def _show(
    rows: Sequence[BaseModel],
    columns: list[tuple[str, str]],
    output: str,
    console: Console,
    title: str,
) -> None:
    if output == "json":
        payload = [row.model_dump(mode="json", exclude_none=True) for row in rows]
        print(json.dumps(payload, indent=2))
        return
    table = Table(title=f"{title} ({len(rows)})", title_justify="left")
    for header, _ in columns:
        if header == "source":
            table.add_column(header, overflow="ellipsis", no_wrap=True, max_width=48)
        else:
            table.add_column(header, no_wrap=True)
    for row in rows:
        cells: list[Any] = []
        for _, attr in columns:
            value = getattr(row, attr)
            cells.append(
                Text(
                    ""
                    if value is None
                    else f"{value:g}"
                    if isinstance(value, float)
                    else str(value)
                )
            )
        table.add_row(*cells)
    console.print(table)


def show_gpus(search: str | None, output: str, console: Console) -> None:
    rows = [g for g in load_catalog().gpus if _matches(search, g.id, g.name, *g.aliases)]
    _show(
        rows,
        [
            ("id", "id"),
            ("memory GB", "memory_gb"),
            ("GB/s", "memory_bandwidth_gb_per_s"),
            ("bf16 TFLOP/s", "bf16_dense_tflops"),
            ("fp8 TFLOP/s", "fp8_dense_tflops"),
            ("int8 TOP/s", "int8_dense_tops"),
            ("as of", "as_of"),
            ("source", "source"),
        ],
        output,
        console,
        "GPUs (dense figures)",
    )


def show_offers(search: str | None, output: str, console: Console) -> None:
    rows = [o for o in load_catalog().offers if _matches(search, o.id, o.gpu, o.provider)]
    _show(
        rows,
        [
            ("id", "id"),
            ("provider", "provider"),
            ("gpu", "gpu"),
            ("count", "gpu_count"),
            ("price", "price"),
            ("per", "price_unit"),
            ("cur.", "currency"),
            ("billing", "billing"),
            ("as of", "as_of"),
            ("source", "source"),
        ],
        output,
        console,
        "GPU rental offers",
    )


def show_models(search: str | None, output: str, console: Console) -> None:
    rows = [m for m in load_catalog().models if _matches(search, m.id, m.name, *m.aliases)]
    _show(
        rows,
        [
            ("id", "id"),
            ("total B", "total_params_b"),
            ("active B", "active_params_b"),
            ("layers", "layers"),
            ("kv heads", "kv_heads"),
            ("head dim", "head_dim"),
            ("experts", "experts"),
            ("context", "context_length"),
            ("as of", "as_of"),
            ("source", "source"),
        ],
        output,
        console,
        "open-weight models",
    )


def show_apis(search: str | None, output: str, console: Console) -> None:
    catalog = load_catalog()
    quotes = [q for q in catalog.genai.all_quotes() if _matches(search, q.model, q.provider)]
    own = [r for r in catalog.api_prices if _matches(search, r.id, r.provider, *r.aliases)]
    from llm_tco.catalog.prices import ApiPriceQuote

    rows = [ApiPriceQuote.from_row(r, catalog.batch_discount(r.provider)) for r in own] + quotes
    _show(
        rows,
        [
            ("model", "model"),
            ("provider", "provider"),
            ("in $/MTok", "input_per_mtok"),
            ("out $/MTok", "output_per_mtok"),
            ("cached in", "cached_input_per_mtok"),
            ("as of", "as_of"),
            ("source", "source"),
        ],
        output,
        console,
        "API prices, USD per 1M tokens",
    )
