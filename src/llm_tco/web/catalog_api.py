"""Catalog listings for ``GET /api/catalog/{kind}``: the rows `llm-tco catalog ...` shows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel

from llm_tco.catalog.loader import Catalog, normalise_name
from llm_tco.catalog.prices import ApiPriceQuote


def _matches(search: str | None, *fields: str | None) -> bool:
    if not search:
        return True
    key = normalise_name(search)
    return any(key in normalise_name(f) for f in fields if f)


# Catalog rows are not hashable, so the (slow to build) API quote list is kept per catalog id.
_QUOTES: dict[int, tuple[Catalog, tuple[ApiPriceQuote, ...]]] = {}


def _api_quotes(catalog: Catalog) -> tuple[ApiPriceQuote, ...]:
    cached = _QUOTES.get(id(catalog))
    if cached is None or cached[0] is not catalog:
        own = [
            ApiPriceQuote.from_row(r, catalog.batch_discount(r.provider))
            for r in catalog.api_prices
        ]
        cached = (catalog, (*own, *catalog.genai.all_quotes()))
        _QUOTES[id(catalog)] = cached
    return cached[1]


def _apis(catalog: Catalog, search: str | None) -> Sequence[BaseModel]:
    return [q for q in _api_quotes(catalog) if _matches(search, q.model, q.provider)]


def _gpus(catalog: Catalog, search: str | None) -> Sequence[BaseModel]:
    return [g for g in catalog.gpus if _matches(search, g.id, g.name, *g.aliases)]


def _offers(catalog: Catalog, search: str | None) -> Sequence[BaseModel]:
    return [o for o in catalog.offers if _matches(search, o.id, o.gpu, o.provider)]


def _models(catalog: Catalog, search: str | None) -> Sequence[BaseModel]:
    return [m for m in catalog.models if _matches(search, m.id, m.name, *m.aliases)]


LISTINGS: dict[str, Callable[[Catalog, str | None], Sequence[BaseModel]]] = {
    "apis": _apis,
    "gpus": _gpus,
    "offers": _offers,
    "models": _models,
}


def listing(catalog: Catalog, kind: str, search: str | None, limit: int) -> dict[str, Any]:
    """Rows of one catalog table whose names contain ``search``, each with source and as-of."""
    rows = LISTINGS[kind](catalog, search)
    return {
        "ok": True,
        "kind": kind,
        "count": len(rows),
        "truncated": len(rows) > limit,
        "rows": [row.model_dump(mode="json", exclude_none=True) for row in rows[:limit]],
    }
