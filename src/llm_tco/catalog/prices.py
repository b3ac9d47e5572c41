"""API prices from the ``genai-prices`` package's offline snapshot, as plain quotes.

genai-prices ships thousands of models with input, output and cache-read prices and the dates
they took effect. We read its bundled data (no network) and turn a model into an
:class:`ApiPriceQuote`. Time-of-day discounts (e.g. off-peak hours) are ignored: the quote is the
standard rate.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.util
import json
import os
import tempfile
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from llm_tco.cache import cache_dir
from llm_tco.catalog.schema import ApiPrice


class ApiPriceQuote(BaseModel):
    """One API model's price in USD per 1M tokens, with where it came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    provider: str
    input_per_mtok: float
    output_per_mtok: float
    cached_input_per_mtok: float | None = None
    batch_discount: float | None = None
    source: str
    as_of: dt.date | None = None
    open_weight: bool = False
    notes: str | None = None

    @classmethod
    def from_row(cls, row: ApiPrice, batch_discount: float | None) -> ApiPriceQuote:
        return cls(
            model=row.id,
            provider=row.provider,
            input_per_mtok=row.input_per_mtok,
            output_per_mtok=row.output_per_mtok,
            cached_input_per_mtok=row.cached_input_per_mtok,
            batch_discount=batch_discount,
            source=row.source,
            as_of=row.as_of,
            open_weight=row.open_weight,
            notes=row.notes,
        )


def _number(value: Any) -> float | None:
    """A price field as float; tiered prices give their base (first-tier) price."""
    if value is None:
        return None
    if isinstance(value, Decimal | int | float):
        return float(value)
    base = getattr(value, "base", None)
    return float(base) if base is not None else None


def _window_hours(constraint: Any) -> float:
    """Hours a day a time-of-day price window covers (it may wrap past midnight)."""
    start, end = constraint.start_time, constraint.end_time
    minutes: int = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    return (minutes % (24 * 60)) / 60


def _current_prices(model: Any, today: dt.date) -> tuple[Any, dt.date | None, str | None]:
    """The model's price set in force today, its start date, and a note on time-of-day prices.

    Dated changes: the latest that has started. Time-of-day windows (off-peak discounts): the
    price in force for the most hours of the day, since a month of traffic spans all hours.
    """
    prices = model.prices
    if not isinstance(prices, list):
        return prices, None, None
    dated = [c for c in prices if getattr(c.constraint, "start_date", None) is not None]
    windows = [c for c in prices if getattr(c.constraint, "start_time", None) is not None]
    plain = [c for c in prices if c.constraint is None]
    chosen, chosen_date = None, None
    for conditional in dated:
        start = conditional.constraint.start_date
        if start <= today and (chosen_date is None or start >= chosen_date):
            chosen, chosen_date = conditional.prices, start
    if chosen is not None:
        return chosen, chosen_date, None
    if windows:
        covered = {id(c): _window_hours(c.constraint) for c in windows}
        rest = 24 - sum(covered.values())
        best = max(windows, key=lambda c: covered[id(c)])
        if plain and rest > covered[id(best)]:
            best = plain[0]
        note = "time-of-day prices: the rate in force for most hours of the day is used"
        return best.prices, None, note
    return (plain or prices)[0].prices, None, None


def _read_memo(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_memo(path: Path, answers: dict[str, Any]) -> None:
    """Write atomically; a cache that cannot be written only costs speed."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=path.parent, suffix=".tmp", delete=False, encoding="utf-8"
        ) as handle:
            json.dump(answers, handle)
        os.replace(handle.name, path)
    except OSError:
        pass


def _data_stamp() -> str:
    """Identifies the installed genai-prices data without importing it (which costs ~0.1 s):
    the size and modification time of its data module."""
    spec = importlib.util.find_spec("genai_prices")
    if spec is None or spec.origin is None:
        return "none"
    stat = (Path(spec.origin).parent / "data.py").stat()
    return f"{stat.st_size}-{stat.st_mtime_ns}"


class GenaiPriceIndex:
    """Lazy view of the genai-prices snapshot (loading it costs ~0.2 s, so only when asked)."""

    @functools.cached_property
    def _snapshot(self) -> Any:
        from genai_prices import data_snapshot

        return data_snapshot.get_snapshot()

    @functools.cached_property
    def version(self) -> str:
        return version("genai-prices")

    @functools.cached_property
    def data_date(self) -> dt.date | None:
        """The newest dated price change in the installed data: the data is current at least
        to this day, so it is the as-of date of every price that carries no date of its own.
        Changes scheduled after today do not count."""
        today = dt.date.today()
        dates = [
            change.constraint.start_date
            for provider in self._snapshot.providers
            for model in provider.models
            if isinstance(model.prices, list)
            for change in model.prices
            if getattr(change.constraint, "start_date", None) is not None
        ]
        return max((d for d in dates if d <= today), default=None)

    def names(self) -> list[str]:
        return [m.id for p in self._snapshot.providers for m in p.models]

    def all_quotes(self, today: dt.date | None = None) -> list[ApiPriceQuote]:
        quotes = []
        for provider in self._snapshot.providers:
            for model in provider.models:
                quote = self._quote(provider, model, today or dt.date.today())
                if quote is not None:
                    quotes.append(quote)
        return quotes

    def find(
        self, name: str, provider: str | None, today: dt.date | None = None
    ) -> ApiPriceQuote | None:
        """The quote for ``name``; answers are memoised on disk per genai-prices version and
        day, since loading its snapshot costs more than the rest of an evaluation."""
        day = today or dt.date.today()
        memo = cache_dir() / f"api-prices-genai-2-{_data_stamp()}-{day.isoformat()}.json"
        key = f"{provider or ''}/{name}"
        answers = _read_memo(memo)
        if key in answers:
            found = answers[key]
            return None if found is None else ApiPriceQuote.model_validate(found)
        quote = self._find(name, provider, day)
        answers[key] = None if quote is None else quote.model_dump(mode="json")
        _write_memo(memo, answers)
        return quote

    def _find(self, name: str, provider: str | None, today: dt.date) -> ApiPriceQuote | None:
        candidates = [name, name.replace(".", "-")]
        for ref in dict.fromkeys(candidates):
            try:
                found_provider, model = self._snapshot.find_provider_model(
                    ref, None, provider, None
                )
            except LookupError:
                continue
            return self._quote(found_provider, model, today)
        return None

    def _quote(self, provider: Any, model: Any, today: dt.date) -> ApiPriceQuote | None:
        prices, start, note = _current_prices(model, today)
        input_price = _number(getattr(prices, "input_mtok", None))
        output_price = _number(getattr(prices, "output_mtok", None))
        if input_price is None or output_price is None:
            return None
        url = (provider.pricing_urls or [""])[0]
        return ApiPriceQuote(
            model=model.id,
            provider=provider.id,
            input_per_mtok=input_price,
            output_per_mtok=output_price,
            cached_input_per_mtok=_number(getattr(prices, "cache_read_mtok", None)),
            source=f"genai-prices {self.version} data; {url}".rstrip("; "),
            as_of=start or self.data_date,
            notes=note,
        )
