"""Drift watch: re-evaluate saved scenarios against today's prices and offers and say what
changed since the last look (a price, the verdict, a break-even that moved).

Each scenario's last result is kept as a small JSON snapshot (by default in the cache folder,
one file per scenario path); the first look records it. A verdict flip is a change of the
cheapest option that can serve the workload.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import tempfile
from pathlib import Path

from pydantic import ValidationError

from llm_tco.cache import cache_dir
from llm_tco.catalog import Catalog
from llm_tco.evaluate import evaluate
from llm_tco.result import Model, Result
from llm_tco.scenario import load_scenario

DEFAULT_THRESHOLD = 0.10  # a break-even moving more than 10% is reported
PRICE_TOLERANCE = 1e-9


class Snapshot(Model):
    """What a look at one scenario found."""

    scenario: str
    evaluated_on: dt.date
    cheapest: str | None
    monthly_usd: dict[str, float]
    prices: dict[str, tuple[float, float]]  # API option -> (input, output) USD per MTok
    breakeven_tokens: dict[str, float | None]  # "option vs versus" -> tokens/month


class Change(Model):
    scenario: str
    kind: str  # "verdict", "price", "breakeven", "cost", "baseline"
    subject: str
    before: str
    now: str


class WatchReport(Model):
    scenarios: int
    changes: list[Change]
    verdict_flips: int
    threshold: float
    baselines_written: bool


def snapshot(result: Result, scenario: str, today: dt.date | None = None) -> Snapshot:
    prices = {
        o.name: (o.price.input_per_mtok, o.price.output_per_mtok)
        for o in result.options
        if o.price is not None
    }
    return Snapshot(
        scenario=scenario,
        evaluated_on=today or dt.date.today(),
        cheapest=result.cheapest,
        monthly_usd={o.name: o.monthly_cost for o in result.options},
        prices=prices,
        breakeven_tokens={
            f"{b.option} vs {b.versus}": b.tokens_per_month for b in result.breakeven
        },
    )


def _tokens(value: float | None) -> str:
    from llm_tco.core.units import format_tokens

    return "never" if value is None else format_tokens(value)


def compare(before: Snapshot, now: Snapshot, threshold: float) -> list[Change]:
    """What moved between two looks at the same scenario."""
    name = now.scenario
    changes = []
    if before.cheapest != now.cheapest:
        changes.append(
            Change(
                scenario=name,
                kind="verdict",
                subject="cheapest",
                before=before.cheapest or "none can serve",
                now=now.cheapest or "none can serve",
            )
        )
    for option, (inp, out) in now.prices.items():
        listed = before.prices.get(option)
        if listed is not None and (
            abs(listed[0] - inp) > PRICE_TOLERANCE or abs(listed[1] - out) > PRICE_TOLERANCE
        ):
            changes.append(
                Change(
                    scenario=name,
                    kind="price",
                    subject=option,
                    before=f"${listed[0]:g}/${listed[1]:g} per MTok",
                    now=f"${inp:g}/${out:g} per MTok",
                )
            )
    for pair, tokens in now.breakeven_tokens.items():
        if pair not in before.breakeven_tokens:
            continue
        was = before.breakeven_tokens[pair]
        moved = (was is None) != (tokens is None) or (
            was is not None
            and tokens is not None
            and abs(tokens - was) > threshold * max(abs(was), 1.0)
        )
        if moved:
            changes.append(
                Change(
                    scenario=name,
                    kind="breakeven",
                    subject=pair,
                    before=_tokens(was),
                    now=_tokens(tokens),
                )
            )
    return changes


def state_path(scenario: Path, folder: Path | None) -> Path:
    """One snapshot file per scenario, named by its absolute path."""
    key = hashlib.sha256(str(scenario.resolve()).encode()).hexdigest()[:16]
    return (folder or cache_dir() / "watch") / f"{scenario.stem}-{key}.json"


def _read(path: Path) -> Snapshot | None:
    try:
        return Snapshot.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, ValidationError):
        return None  # none yet, or unreadable: this look becomes the baseline


def _write(path: Path, snap: Snapshot) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, suffix=".tmp", delete=False, encoding="utf-8"
    ) as handle:
        handle.write(snap.model_dump_json(indent=2))
    os.replace(handle.name, path)


def watch(
    scenarios: list[Path],
    catalog: Catalog,
    state: Path | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    update: bool = True,
) -> WatchReport:
    """Evaluate every scenario, compare it with its last snapshot, and (``update``) keep the
    new one. Scenarios are all read before anything is written."""
    looks = []
    for file in scenarios:
        result = evaluate(load_scenario(file), catalog, volumes=[])
        looks.append((file, snapshot(result, str(file))))
    changes: list[Change] = []
    for file, now in looks:
        before = _read(state_path(file, state))
        if before is None:
            changes.append(
                Change(
                    scenario=str(file),
                    kind="baseline",
                    subject="cheapest",
                    before="-",
                    now=now.cheapest or "none can serve",
                )
            )
        else:
            changes += compare(before, now, threshold)
    if update:
        for file, now in looks:
            _write(state_path(file, state), now)
    return WatchReport(
        scenarios=len(scenarios),
        changes=changes,
        verdict_flips=sum(c.kind == "verdict" for c in changes),
        threshold=threshold,
        baselines_written=update,
    )


def with_price_file(catalog: Catalog, prices: Path) -> Catalog:
    """The catalog pricing APIs from a genai-prices data file instead (checked first)."""
    from llm_tco.catalog.price_refresh import _providers
    from llm_tco.catalog.prices import GenaiPriceIndex
    from llm_tco.errors import LlmTcoError

    try:
        raw = json.loads(prices.read_bytes())
    except OSError as exc:
        raise LlmTcoError(f"cannot read {prices}: {exc.strerror}", field="--prices") from None
    except ValueError:
        raise LlmTcoError(f"{prices} is not JSON", field="--prices") from None
    _providers(raw, str(prices))
    return dataclasses.replace(catalog, genai=GenaiPriceIndex(prices))
