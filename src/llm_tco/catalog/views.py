"""Catalog listings for `llm-tco catalog ...`: rich tables or JSON, every row with its source."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from rich.console import Console

from llm_tco.catalog.loader import load_catalog, normalise_name, suggest
from llm_tco.catalog.schema import RentalOffer
from llm_tco.errors import CatalogLookupError
from llm_tco.report.terminal import Col, one_line, print_table


def _matches(search: str | None, *fields: str | None) -> bool:
    if not search:
        return True
    key = normalise_name(search)
    return any(key in normalise_name(f) for f in fields if f)


def number(value: float) -> str:
    """A catalog number in full: up to 6 significant digits, never an exponent."""
    text = f"{value:.6g}"
    if "e" in text:
        text = f"{value:.12f}".rstrip("0").rstrip(".")
    return text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return number(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _show(
    rows: Sequence[BaseModel],
    columns: list[tuple[Col, str]],
    output: str,
    console: Console,
    title: str,
    wide: bool = False,
) -> None:
    """One catalog listing in the chosen format; every row keeps its source and date."""
    if output == "json":
        payload = [row.model_dump(mode="json", exclude_none=True) for row in rows]
        print(json.dumps(payload, indent=2))
        return
    if output == "csv":
        dumped = [row.model_dump(mode="json") for row in rows]
        fields = list(dict.fromkeys(k for d in dumped for k in d))
        writer = csv.DictWriter(sys.stdout, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: ("" if d.get(k) is None else d[k]) for k in fields} for d in dumped)
        return
    cells = [[_cell(getattr(row, attr)) for _, attr in columns] for row in rows]
    cols = [col for col, _ in columns]
    if output == "markdown":
        sys.stdout.write(markdown_table(f"{title} ({len(rows)})", cols, cells))
        return
    print_table(console, f"{title} ({len(rows)})", cols, cells, wide=wide)


def markdown_table(title: str, cols: Sequence[Col], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table with every column in full."""
    from llm_tco.report.markdown import md_text

    head = [one_line(c.header) for c in cols]
    lines = [f"## {md_text(title)}", ""]
    lines.append("| " + " | ".join(md_text(h) for h in head) + " |")
    lines.append("|" + "|".join("---:" if c.align_right else "---" for c in cols) + "|")
    lines += ["| " + " | ".join(md_text(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def show_gpus(search: str | None, output: str, console: Console, wide: bool = False) -> None:
    rows = [g for g in load_catalog().gpus if _matches(search, g.id, g.name, *g.aliases)]
    _show(
        rows,
        [
            (Col("id", "id"), "id"),
            (Col("memory\nGB", "num"), "memory_gb"),
            (Col("mem.\nGB/s", "num"), "memory_bandwidth_gb_per_s"),
            (Col("bf16\nTFLOP/s", "num"), "bf16_dense_tflops"),
            (Col("fp8\nTFLOP/s", "num", drop=1), "fp8_dense_tflops"),
            (Col("fp4\nTFLOP/s", "num", drop=2), "fp4_dense_tflops"),
            (Col("int8\nTOP/s", "num", drop=3), "int8_dense_tops"),
            (Col("as of", "id"), "as_of"),
            (Col("source", "note"), "source"),
        ],
        output,
        console,
        "GPUs (dense figures)",
        wide,
    )


BILLINGS = ("on-demand", "spot", "reserved-1y", "reserved-3y", "monthly")


def select_offers(
    offers: Sequence[RentalOffer],
    *,
    search: str | None = None,
    gpu: str | None = None,
    provider: str | None = None,
    billing: str | None = None,
) -> list[RentalOffer]:
    """The offers that pass every filter given.

    ``gpu``: a GPU id or alias (only that GPU), a family (``h100``: every H100 part), or part of
    an id.
    ``provider``: a provider name, exactly. ``billing``: one of ``BILLINGS``. A filter that
    matches nothing in the catalog raises ``CatalogLookupError`` naming what it does hold.
    """
    rows = [o for o in offers if _matches(search, o.id, o.gpu, o.provider)]
    if gpu is not None:
        rows = [o for o in rows if o.gpu in _gpu_ids(offers, gpu)]
    if provider is not None:
        key = normalise_name(provider)
        known = sorted({normalise_name(o.provider) for o in offers})
        if key not in known:
            close = suggest(provider, known)
            hint = (
                f"did you mean {', '.join(close)}?" if close else f"providers: {', '.join(known)}"
            )
            raise CatalogLookupError(f"no offers from provider '{provider}'", hint=hint)
        rows = [o for o in rows if normalise_name(o.provider) == key]
    if billing is not None:
        if billing not in BILLINGS:
            raise CatalogLookupError(
                f"unknown billing '{billing}'", hint=f"one of: {', '.join(BILLINGS)}"
            )
        rows = [o for o in rows if o.billing == billing]
    return rows


def _gpu_ids(offers: Sequence[RentalOffer], gpu: str) -> set[str]:
    """The GPU ids a ``--gpu`` filter means: an id or alias exactly, else ids containing it."""
    catalog = load_catalog()
    key = normalise_name(gpu)
    for spec in catalog.gpus:
        if key == spec.id or key in (normalise_name(a) for a in spec.aliases):
            return {spec.id}
    offered = {o.gpu for o in offers}
    # A family name as people say it (h100: every H100 part), else any id containing it.
    found = {g for g in offered if g.startswith(key + "-")} or {g for g in offered if key in g}
    if not found:
        close = suggest(gpu, offered)
        hint = f"did you mean {', '.join(close)}?" if close else "see `llm-tco catalog gpus`"
        raise CatalogLookupError(f"no offers for GPU '{gpu}'", hint=hint)
    return found


def show_offers(
    search: str | None,
    output: str,
    console: Console,
    wide: bool = False,
    *,
    gpu: str | None = None,
    provider: str | None = None,
    billing: str | None = None,
) -> None:
    rows = select_offers(
        load_catalog().offers, search=search, gpu=gpu, provider=provider, billing=billing
    )
    _show(
        rows,
        [
            (Col("id", "id"), "id"),
            (Col("provider", "id", drop=4, into_note=True), "provider"),
            (Col("gpu", "id", drop=3, into_note=True), "gpu"),
            (Col("GPUs", "num"), "gpu_count"),
            (Col("price", "num"), "price"),
            (Col("unit", "id"), "unit_label"),
            (Col("per\nGPU", "num", drop=2), "price_per_gpu"),
            (Col("billing", "id", drop=1, into_note=True), "billing"),
            (Col("as of", "id"), "as_of"),
            (Col("source", "note"), "source"),
        ],
        output,
        console,
        "GPU rental offers",
        wide,
    )


def show_models(search: str | None, output: str, console: Console, wide: bool = False) -> None:
    rows = [m for m in load_catalog().models if _matches(search, m.id, m.name, *m.aliases)]
    _show(
        rows,
        [
            (Col("id", "id"), "id"),
            (Col("total\nB", "num"), "total_params_b"),
            (Col("active\nB", "num"), "active_params_b"),
            (Col("layers", "num", drop=2), "layers"),
            (Col("kv\nheads", "num", drop=3), "kv_heads"),
            (Col("head\ndim", "num", drop=3), "head_dim"),
            (Col("experts", "num", drop=1), "experts"),
            (Col("context", "num"), "context_length"),
            (Col("as of", "id"), "as_of"),
            (Col("source", "note"), "source"),
        ],
        output,
        console,
        "open-weight models",
        wide,
    )


def show_apis(search: str | None, output: str, console: Console, wide: bool = False) -> None:
    catalog = load_catalog()
    quotes = [q for q in catalog.genai.all_quotes() if _matches(search, q.model, q.provider)]
    own = [r for r in catalog.api_prices if _matches(search, r.id, r.provider, *r.aliases)]
    from llm_tco.catalog.prices import ApiPriceQuote

    rows = [ApiPriceQuote.from_row(r, catalog.batch_discount(r.provider)) for r in own] + quotes
    _show(
        rows,
        [
            (Col("model", "id"), "model"),
            (Col("provider", "id", drop=2, into_note=True), "provider"),
            (Col("in\n$/MTok", "num"), "input_per_mtok"),
            (Col("out\n$/MTok", "num"), "output_per_mtok"),
            (Col("cached\nin", "num", drop=3), "cached_input_per_mtok"),
            (Col("as of", "id", drop=4, into_note=True), "as_of"),
            (Col("source", "note"), "source"),
        ],
        output,
        console,
        "API prices, USD per 1M tokens",
        wide,
    )


def show_rate_limits(search: str | None, output: str, console: Console, wide: bool = False) -> None:
    rows = [
        r
        for r in load_catalog().rate_limits
        if _matches(search, r.id, r.provider, r.tier, *r.models)
    ]
    _show(
        rows,
        [
            (Col("provider", "id"), "provider"),
            (Col("tier", "id"), "tier"),
            (Col("models", "text", drop=3), "models"),
            (Col("RPM", "num"), "requests_per_minute"),
            (Col("TPM", "num", drop=2), "tokens_per_minute"),
            (Col("ITPM", "num", drop=2), "input_tokens_per_minute"),
            (Col("OTPM", "num", drop=2), "output_tokens_per_minute"),
            (Col("as of", "id"), "as_of"),
            (Col("source", "note"), "source"),
        ],
        output,
        console,
        "API rate limits per minute",
        wide,
    )


def show_provisioned(search: str | None, output: str, console: Console, wide: bool = False) -> None:
    rows = [r for r in load_catalog().provisioned if _matches(search, r.id, r.provider, *r.models)]
    _show(
        rows,
        [
            (Col("id", "id"), "id"),
            (Col("TPM/unit", "num"), "tokens_per_minute_per_unit"),
            (Col("out x", "num", drop=3), "output_token_weight"),
            (Col("min", "num", drop=2), "min_units"),
            (Col("step", "num", drop=2), "unit_increment"),
            (Col("$/h", "num", drop=1), "unit_price_hourly"),
            (Col("$/month", "num", drop=1), "unit_price_monthly"),
            (Col("as of", "id"), "as_of"),
            (Col("source", "note"), "source"),
        ],
        output,
        console,
        "Provisioned API throughput (per unit)",
        wide,
    )
