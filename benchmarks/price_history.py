"""How one model's API list price changed, from genai-prices' dated price changes.

For every model whose price list in the installed genai-prices data has an undated first price
and later dated prices, the relative change of its blended price (input + output per MTok)
from the first price to the latest one in force today; resellers and routers are left out
(their prices follow the model owner's). Prints the 10th, 50th and 90th percentiles, which
``src/llm_tco/catalog/term_defaults.yaml`` quotes as the default range of the yearly API price
change (most dated changes in the data fall within a year of the first price).

    PYTHONPATH=src python benchmarks/price_history.py
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from genai_prices import data_snapshot

RESELLERS = ("openrouter", "quicksilverpro", "avian", "arcee", "github-copilot", "cursor")


def _rate(value: object) -> float | None:
    if value is None:
        return None
    return float(getattr(value, "base", value))  # tiered prices: the base rate


def changes(today: dt.date) -> list[float]:
    found = []
    for provider in data_snapshot.get_snapshot().providers:
        if provider.id.startswith(RESELLERS) or provider.id.startswith("huggingface"):
            continue
        for model in provider.models:
            if not isinstance(model.prices, list) or model.prices[0].constraint is not None:
                continue
            dated = [
                c
                for c in model.prices
                if getattr(c.constraint, "start_date", None) is not None
                and c.constraint.start_date <= today
            ]
            if not dated:
                continue
            first, last = model.prices[0].prices, dated[-1].prices
            rates = [
                _rate(getattr(p, k, None))
                for p in (first, last)
                for k in ("input_mtok", "output_mtok")
            ]
            if any(r is None for r in rates) or rates[0] + rates[1] <= 0:
                continue
            found.append((rates[2] + rates[3]) / (rates[0] + rates[1]) - 1)
    return found


if __name__ == "__main__":
    values = np.asarray(changes(dt.date.today()))
    p10, p50, p90 = np.percentile(values, [10, 50, 90])
    print(f"{values.size} models with a dated price change")
    print(f"P10 {p10:+.2f}  P50 {p50:+.2f}  P90 {p90:+.2f}")
