"""API prices from the ``genai-prices`` package's data, as plain quotes.

genai-prices ships thousands of models with input, output, cache-read and cache-write (5 minute
and 1 hour) prices, long-context tiers (a higher rate for every token of a request whose prompt
passes a threshold, 200k tokens for Claude and Gemini Pro), request-context variants (OpenAI and
Gemini service tiers ``flex``/``priority``, ``processing: batch``) and the dates they took effect.
We read its bundled data, or the newer copy `llm-tco catalog refresh-prices` saved (see
:mod:`llm_tco.catalog.price_refresh`), and turn a model into an :class:`ApiPriceQuote`.
Time-of-day windows (off-peak hours): the rate in force for most hours of the day.
"""

from __future__ import annotations

import copy
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

# The request context genai-prices selects price variants by, for each service tier.
TIER_CONTEXT: dict[str, dict[str, str]] = {
    "flex": {"service_tier": "flex"},
    "priority": {"service_tier": "priority"},
    "batch": {"processing": "batch"},
}


class LongContextPrices(BaseModel):
    """Rates for every token of a request whose prompt is over ``threshold_tokens``
    (USD per 1M tokens; None where the data has no long-context rate for that class)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    threshold_tokens: int
    input_per_mtok: float
    output_per_mtok: float | None = None
    cached_input_per_mtok: float | None = None
    cache_write_per_mtok: float | None = None
    cache_write_1h_per_mtok: float | None = None


class PriceDisagreement(BaseModel):
    """A second source's figures for the same model (USD per 1M tokens)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input_per_mtok: float
    output_per_mtok: float
    source: str
    as_of: dt.date | None = None


class ApiPriceQuote(BaseModel):
    """One API model's price in USD per 1M tokens, with where it came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    provider: str
    input_per_mtok: float
    output_per_mtok: float
    cached_input_per_mtok: float | None = None
    cache_write_per_mtok: float | None = None  # 5-minute cache TTL (Anthropic's default)
    cache_write_1h_per_mtok: float | None = None
    long_context: LongContextPrices | None = None
    batch_discount: float | None = None
    # The service tier these prices are for; ``tier_found`` False when the data has no price
    # for the tier asked for and these are the standard rates.
    tier: str = "standard"
    tier_found: bool = True
    # The data-residency region asked for; ``region_found`` False when the data has no regional
    # price for it and these are the global rates.
    region: str | None = None
    region_found: bool = True
    source: str
    as_of: dt.date | None = None
    # The date the source last checked this price, where it says (genai-prices'
    # ``prices_checked``; a row of ours: its as_of).
    checked_on: dt.date | None = None
    open_weight: bool = False
    notes: str | None = None
    disagreement: PriceDisagreement | None = None

    @classmethod
    def from_row(cls, row: ApiPrice, batch_discount: float | None) -> ApiPriceQuote:
        return cls(
            model=row.id,
            provider=row.provider,
            input_per_mtok=row.input_per_mtok,
            output_per_mtok=row.output_per_mtok,
            cached_input_per_mtok=row.cached_input_per_mtok,
            cache_write_per_mtok=row.cache_write_per_mtok,
            batch_discount=batch_discount,
            source=row.source,
            as_of=row.as_of,
            checked_on=row.as_of,
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


def _first_tier(value: Any) -> tuple[int, float] | None:
    """(threshold tokens, rate) of a tiered price's first tier above its base."""
    tiers = getattr(value, "tiers", None)
    if not tiers:
        return None
    first = min(tiers, key=lambda t: t.start)
    return int(first.start), float(first.price)


def _long_context(prices: Any) -> LongContextPrices | None:
    """The long-context rates of a price set whose input price is tiered (genai-prices'
    "cliff" model: passing the threshold puts every token of the request on the tier rate)."""
    tier = _first_tier(getattr(prices, "input_mtok", None))
    if tier is None:
        return None
    threshold, input_rate = tier

    def rate(key: str) -> float | None:
        found = _first_tier(getattr(prices, key, None))
        if found is not None:
            return found[1]
        return _number(getattr(prices, key, None))

    return LongContextPrices(
        threshold_tokens=threshold,
        input_per_mtok=input_rate,
        output_per_mtok=rate("output_mtok"),
        cached_input_per_mtok=rate("cache_read_mtok"),
        cache_write_per_mtok=rate("cache_write_mtok"),
        cache_write_1h_per_mtok=rate("cache_write_1h_mtok"),
    )


def _with_variant(
    model: Any, prices: Any, context: dict[str, str] | None, today: dt.date
) -> tuple[Any, bool]:
    """The price set with the model's request-context variants for ``context`` applied, as
    genai-prices' ``ModelInfo.get_prices`` does (first matching variant wins per price key;
    a variant with a start date counts from that date); and whether any variant matched."""
    if not context:
        return prices, True
    overrides: dict[str, Any] = {}
    for variant in getattr(model, "price_variants", None) or ():
        start = getattr(variant.constraint, "start_date", None)
        if start is not None and start > today:
            continue
        if not all(context.get(key) == value for key, value in variant.when.items()):
            continue
        for key, price in variant.prices.__dict__.items():
            if price is not None and not key.startswith("_"):
                overrides.setdefault(key, price)
    if not overrides:
        return prices, False
    resolved = copy.copy(prices)
    resolved.__dict__.update(overrides)
    return resolved, True


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


CHECKED_FILE = Path(__file__).parent / "genai_prices_checked.yaml"


@functools.cache
def _checked_dates() -> dict[str, dict[str, dt.date]]:
    """provider -> model -> the date genai-prices last checked its price."""
    import yaml

    data = yaml.safe_load(CHECKED_FILE.read_text(encoding="utf-8")) if CHECKED_FILE.exists() else {}
    checked = (data or {}).get("checked") or {}
    return {str(p): {str(m): d for m, d in rows.items()} for p, rows in checked.items()}


def _file_stamp(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}-{stat.st_mtime_ns}"


def _data_stamp(data_file: Path | None = None) -> str:
    """Identifies the price data in use without importing it (which costs ~0.1 s): the size
    and modification time of the refreshed data file, else of genai-prices' data module."""
    if data_file is not None:
        return "refreshed-" + _file_stamp(data_file)
    spec = importlib.util.find_spec("genai_prices")
    if spec is None or spec.origin is None:
        return "none"
    return _file_stamp(Path(spec.origin).parent / "data.py")


class GenaiPriceIndex:
    """Lazy view of the genai-prices data (loading it costs ~0.2 s, so only when asked).

    ``data_file``: a copy of genai-prices' published data (``data.json``, as
    `llm-tco catalog refresh-prices` saves it) to read instead of the package's bundled
    snapshot; by default the saved copy when there is one.
    """

    def __init__(self, data_file: Path | bool | None = True) -> None:
        if data_file is True:
            from llm_tco.catalog.price_refresh import saved_data_file

            data_file = saved_data_file()
        self.data_file: Path | None = data_file if isinstance(data_file, Path) else None
        # (day, query) -> the quote as JSON data (None: no such model): the disk memo's answers
        # this index has read or made.
        self._answers: dict[tuple[dt.date, str], dict[str, Any] | None] = {}

    @functools.cached_property
    def _snapshot(self) -> Any:
        from genai_prices import data_snapshot

        if self.data_file is not None:
            from llm_tco.catalog.price_refresh import read_snapshot

            return read_snapshot(self.data_file)
        return data_snapshot.get_snapshot()

    @functools.cached_property
    def version(self) -> str:
        return version("genai-prices")

    @property
    def label(self) -> str:
        """Which data is in use, for sources and messages."""
        if self.data_file is not None:
            from llm_tco.catalog.price_refresh import saved_on

            return f"genai-prices data refreshed {saved_on(self.data_file)}"
        return f"genai-prices {self.version} data"

    @functools.cached_property
    def data_date(self) -> dt.date | None:
        """The newest dated price change in the data: the data is current at least to this
        day, so it is the as-of date of every price that carries no date of its own.
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
        self,
        name: str,
        provider: str | None,
        today: dt.date | None = None,
        tier: str = "standard",
        region: str | None = None,
    ) -> ApiPriceQuote | None:
        """The quote for ``name`` at service ``tier`` (standard, flex, priority, batch) and
        ``region`` (a price variant genai-prices keys by that value, e.g. ``mistral/eu``);
        answers are memoised on disk per data version and day, since loading the snapshot
        costs more than the rest of an evaluation."""
        day = today or dt.date.today()
        key = f"{provider or ''}/{name}/{tier}/{region or ''}"
        # In memory first: a server answers every edit without touching its disk.
        if (day, key) in self._answers:
            found = self._answers[(day, key)]
            return None if found is None else ApiPriceQuote.model_validate(found)
        stamp = _data_stamp(self.data_file)
        memo = cache_dir() / f"api-prices-genai-3-{stamp}-{day.isoformat()}.json"
        answers = _read_memo(memo)
        if key in answers:
            found = self._answers[(day, key)] = answers[key]
            return None if found is None else ApiPriceQuote.model_validate(found)
        quote = self._find(name, provider, day, tier, region)
        answers[key] = None if quote is None else quote.model_dump(mode="json")
        self._answers[(day, key)] = answers[key]
        _write_memo(memo, answers)
        return quote

    def _find(
        self, name: str, provider: str | None, today: dt.date, tier: str, region: str | None
    ) -> ApiPriceQuote | None:
        candidates = [name, name.replace(".", "-")]
        for ref in dict.fromkeys(candidates):
            try:
                found_provider, model = self._snapshot.find_provider_model(
                    ref, None, provider, None
                )
            except LookupError:
                continue
            return self._quote(found_provider, model, today, tier, region)
        return None

    def _quote(
        self,
        provider: Any,
        model: Any,
        today: dt.date,
        tier: str = "standard",
        region: str | None = None,
    ) -> ApiPriceQuote | None:
        prices, start, note = _current_prices(model, today)
        prices, tier_found = _with_variant(model, prices, TIER_CONTEXT.get(tier), today)
        region_found = region is None
        if region is not None:
            regional = [
                v.when
                for v in getattr(model, "price_variants", None) or ()
                if region in v.when.values()
            ]
            if regional:
                prices, region_found = _with_variant(model, prices, regional[0], today)
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
            cache_write_per_mtok=_number(getattr(prices, "cache_write_mtok", None)),
            cache_write_1h_per_mtok=_number(getattr(prices, "cache_write_1h_mtok", None)),
            long_context=_long_context(prices),
            tier=tier,
            tier_found=tier_found,
            region=region,
            region_found=region_found,
            source=f"{self.label}; {url}".rstrip("; "),
            as_of=start or self.data_date,
            checked_on=_checked_dates().get(provider.id, {}).get(model.id),
            notes=note,
        )
