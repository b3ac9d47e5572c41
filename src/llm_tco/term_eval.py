"""The decision over the whole term: each option's cost month by month for ``term_months``,
the month each pulls ahead, full TCO against marginal (owned hardware sunk), and with ranges
the probability each is cheapest over the term.

The monthly figures come from the one pricing path (``evaluate`` at point values, the
Monte Carlo's ``sample_costs`` with draws); the term arithmetic is :mod:`llm_tco.core.term`.
Term rates are read through :class:`llm_tco.resolve.Inputs` by path (``term.<field>``), so a
range on one is sampled like any other input.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from llm_tco.catalog import Catalog, load_catalog
from llm_tco.catalog.loader import DATA_DIR, read_rows
from llm_tco.catalog.schema import Row
from llm_tco.core import term as core
from llm_tco.core.uncertainty import Distribution, band, draw, probability_cheapest
from llm_tco.evaluate import PricedScenario, evaluate, price_options
from llm_tco.resolve import Inputs, Value
from llm_tco.result import Assumption, Model, OptionResult, Result, Warning
from llm_tco.scenario import Scenario, TermSpec

DEFAULTS_FILE = "term_defaults.yaml"
# Sampled from the catalog's range when the scenario leaves them out.
DEFAULTED = ("api_price_change_per_year", "gpu_price_change_per_year")
# An API option's line items billed per token (core.costs.api_line_items).
TOKEN_ITEMS = frozenset(
    {"input", "cached_input", "output", "cache_write", "long_context", "batch_discount", "retries"}
)


class TermDefault(Row):
    """A sourced default range for a term rate (per year)."""

    key: str
    low: float
    mode: float
    high: float


def term_defaults(data_dir: Path = DATA_DIR) -> dict[str, TermDefault]:
    return {row.key: row for row in read_rows(data_dir / DEFAULTS_FILE, TermDefault)}


class TermOption(Model):
    name: str
    kind: str
    feasible: bool
    monthly_cost_today: float
    total_full_usd: float
    total_marginal_usd: float
    owns_gpus: bool
    capex_usd: float
    resale_usd: float
    # Month by month over the term (full view), and the running total.
    monthly_usd: list[float]
    cumulative_usd: list[float]
    cumulative_marginal_usd: list[float]
    # First month whose running total is at most the other option's (None: not in the term).
    pulls_ahead_month: dict[str, int | None]


class TermBand(Model):
    name: str
    total_full_p10: float
    total_full_p50: float
    total_full_p90: float
    probability_cheapest_full: float
    probability_cheapest_marginal: float


class TermSimulation(Model):
    samples: int
    seed: int | None
    options: list[TermBand]
    sampled: list[str]  # term rates drawn from a range


class TermResult(Model):
    name: str
    term_months: int
    rates: dict[str, float]  # the point rates used
    options: list[TermOption]
    cheapest_today: str | None
    cheapest_full: str | None
    cheapest_marginal: str | None
    assumptions: list[Assumption]
    warnings: list[Warning]
    simulation: TermSimulation | None = None


@dataclass(frozen=True)
class _Shape:
    """What of an option's point line items moves with API and GPU prices, and owned GPUs."""

    api_share: float
    rent_share: float
    amortisation_share: float
    amortisation_months: float


def _own_shape(spec: Any, result: OptionResult, catalog: Catalog) -> _Shape:
    monthly = result.monthly_cost
    gpu_lines = result.breakdown.get("gpus", 0.0) + result.breakdown.get("redundancy", 0.0)
    share = gpu_lines / monthly if monthly > 0 else 0.0
    purchase = spec.purchase
    if purchase is None:
        return _Shape(0.0, share, 0.0, 1.0)
    price = purchase.price_per_gpu
    if price is None:
        price = catalog.gpu(spec.gpu).purchase_price_usd or 0.0
    amortised = price / purchase.amortization_months
    part = amortised / (amortised + purchase.hosting_monthly_per_gpu) if amortised > 0 else 0.0
    return _Shape(0.0, 0.0, share * part, purchase.amortization_months)


def _shapes(scenario: Scenario, point: Result, catalog: Catalog) -> dict[str, _Shape]:
    specs = {o.name: o for o in scenario.options}
    shapes: dict[str, _Shape] = {}
    for result in point.options:
        spec = specs[result.name]
        if spec.api is not None:
            # Token charges move with API prices; fixed monthly items (gateway, support,
            # engineering) do not.
            tokens = sum(v for k, v in result.breakdown.items() if k in TOKEN_ITEMS)
            monthly = result.monthly_cost
            shapes[result.name] = _Shape(tokens / monthly if monthly > 0 else 1.0, 0.0, 0.0, 1.0)
        elif spec.self_hosted is not None:
            shapes[result.name] = _own_shape(spec.self_hosted, result, catalog)
        elif spec.provisioned is not None:
            # Reserved API throughput is the API provider's price for the same tokens: its
            # unit price moves with API prices.
            shapes[result.name] = _Shape(1.0, 0.0, 0.0, 1.0)
    for result in point.options:
        spec = specs[result.name]
        if spec.hybrid is None:
            continue
        monthly = result.monthly_cost
        api = sum(v for k, v in result.breakdown.items() if "api" in k)
        own = shapes[spec.hybrid.self_hosted]
        own_part = result.breakdown.get("self_hosted", 0.0) / monthly if monthly > 0 else 0.0
        shapes[result.name] = _Shape(
            api / monthly if monthly > 0 else 0.0,
            own.rent_share * own_part,
            own.amortisation_share * own_part,
            own.amortisation_months,
        )
    return shapes


def _flows(shape: _Shape, monthly: Value) -> core.OptionFlows:
    amortisation = np.asarray(monthly) * shape.amortisation_share
    return core.OptionFlows(
        monthly_usd=monthly,
        api_usd=np.asarray(monthly) * shape.api_share,
        rent_usd=np.asarray(monthly) * shape.rent_share,
        amortisation_usd=amortisation,
        capex_usd=amortisation * shape.amortisation_months,
    )


def _rates(
    term: TermSpec, months: int, defaults: dict[str, TermDefault], inputs: Inputs
) -> core.TermRates:
    def rate(name: str) -> Value:
        given = getattr(term, name)
        fallback = defaults[name].mode if name in defaults else 0.0
        return inputs.get(f"term.{name}", given if given is not None else fallback)

    if term.resale_value_share is not None:
        resale = inputs.get("term.resale_value_share", term.resale_value_share)
    else:
        resale = core.resale_share(rate("hardware_depreciation_per_year"), months)
    return core.TermRates(
        months=months,
        api_change_per_year=rate("api_price_change_per_year"),
        gpu_change_per_year=rate("gpu_price_change_per_year"),
        discount_rate_per_year=rate("discount_rate_per_year"),
        capital_charge_per_year=rate("capital_charge_per_year"),
        resale_share=resale,
    )


def _assumptions(term: TermSpec, defaults: dict[str, TermDefault]) -> list[Assumption]:
    found = []
    for key in (*DEFAULTED, "hardware_depreciation_per_year"):
        row = defaults.get(key)
        if getattr(term, key) is None and row is not None:
            if key == "hardware_depreciation_per_year" and term.resale_value_share is not None:
                continue
            found.append(
                Assumption(
                    name=key,
                    value=f"{row.mode:+.1%} (range {row.low:+.0%} to {row.high:+.0%})",
                    source=row.source,
                    as_of=row.as_of,
                )
            )
    return found


def _cheapest(totals: dict[str, float], feasible: dict[str, bool]) -> str | None:
    candidates = {n: v for n, v in totals.items() if feasible[n] and np.isfinite(v)}
    return min(candidates, key=lambda n: candidates[n]) if candidates else None


def _month(value: Value) -> int | None:
    number = float(np.asarray(value))
    return None if np.isnan(number) else int(number)


def evaluate_term(
    scenario: Scenario,
    catalog: Catalog | None = None,
    months: int | None = None,
    samples: int = 0,
    seed: int | None = None,
    state: PricedScenario | None = None,
) -> TermResult:
    """Cost of every option over ``months`` (default the scenario's ``term_months``)."""
    catalog = catalog or load_catalog()
    months = months or scenario.term_months
    term = scenario.term or TermSpec()
    defaults = term_defaults(catalog.data_dir or DATA_DIR)
    state = state or price_options(scenario, catalog)
    point = evaluate(scenario, catalog, volumes=[], state=state)
    shapes = _shapes(scenario, point, catalog)
    rates = _rates(term, months, defaults, Inputs())
    options = []
    paths: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for result in point.options:
        flows = _flows(shapes[result.name], result.monthly_cost)
        full = core.monthly_costs(flows, rates, "full")
        marginal = core.monthly_costs(flows, rates, "marginal")
        paths[result.name] = (core.cumulative(full), core.cumulative(marginal))
        capex = float(np.asarray(flows.capex_usd))
        options.append(
            TermOption(
                name=result.name,
                kind=result.kind,
                feasible=result.feasible,
                monthly_cost_today=result.monthly_cost,
                total_full_usd=float(core.total(full)),
                total_marginal_usd=float(core.total(marginal)),
                owns_gpus=capex > 0,
                capex_usd=capex,
                resale_usd=capex * float(np.asarray(rates.resale_share)),
                monthly_usd=full.tolist(),
                cumulative_usd=paths[result.name][0].tolist(),
                cumulative_marginal_usd=paths[result.name][1].tolist(),
                pulls_ahead_month={},
            )
        )
    for option in options:
        for other in options:
            if other.name != option.name:
                found = core.pulls_ahead_month(paths[option.name][0], paths[other.name][0])
                option.pulls_ahead_month[other.name] = _month(found)
    feasible = {o.name: o.feasible for o in options}
    warnings = list(point.warnings)
    if any(o.kind == "hybrid" for o in options):
        warnings.append(
            Warning(
                code="term_hybrid_split_fixed",
                message="hybrids keep today's split over the term: their API part moves with "
                "API prices and their GPU part with GPU prices",
            )
        )
    answer = TermResult(
        name=scenario.name,
        term_months=months,
        rates={
            "api_price_change_per_year": float(np.asarray(rates.api_change_per_year)),
            "gpu_price_change_per_year": float(np.asarray(rates.gpu_change_per_year)),
            "discount_rate_per_year": float(np.asarray(rates.discount_rate_per_year)),
            "capital_charge_per_year": float(np.asarray(rates.capital_charge_per_year)),
            "resale_value_share": float(np.asarray(rates.resale_share)),
        },
        options=options,
        cheapest_today=point.cheapest,
        cheapest_full=_cheapest({o.name: o.total_full_usd for o in options}, feasible),
        cheapest_marginal=_cheapest({o.name: o.total_marginal_usd for o in options}, feasible),
        assumptions=_assumptions(term, defaults),
        warnings=warnings,
    )
    if samples:
        simulation = _simulate(
            scenario, catalog, state, shapes, term, months, defaults, samples, seed
        )
        answer = answer.model_copy(update={"simulation": simulation})
    return answer


def _simulate(
    scenario: Scenario,
    catalog: Catalog,
    state: PricedScenario,
    shapes: dict[str, _Shape],
    term: TermSpec,
    months: int,
    defaults: dict[str, TermDefault],
    samples: int,
    seed: int | None,
) -> TermSimulation:
    """P(cheapest over the term): each sample's monthly costs (the Monte Carlo's one pricing
    path) carried over the term at that sample's rates."""
    from llm_tco.simulate import sample_costs

    distributions: dict[str, Distribution] = dict(scenario.uncertain)
    for key in (*DEFAULTED, "hardware_depreciation_per_year"):
        path = f"term.{key}"
        row = defaults.get(key)
        if row is not None and getattr(term, key) is None and path not in distributions:
            distributions[path] = Distribution("triangular", row.low, row.high, row.mode)
    draws = draw(distributions, samples, seed)
    if not any(not p.startswith("term.") for p in draws):
        draws["hours_per_month"] = np.full(samples, scenario.hours_per_month)
    sampled = sample_costs(
        scenario, {p: v for p, v in draws.items() if not p.startswith("term.")}, catalog, state
    )
    rates = _rates(term, months, defaults, Inputs(draws=draws))
    full: dict[str, np.ndarray] = {}
    marginal: dict[str, np.ndarray] = {}
    for name, monthly in sampled.monthly_usd.items():
        flows = _flows(shapes[name], np.broadcast_to(monthly, (samples,)).astype(np.float64))
        full[name] = np.asarray(core.total(core.monthly_costs(flows, rates, "full")))
        marginal[name] = np.asarray(core.total(core.monthly_costs(flows, rates, "marginal")))
    p_full = probability_cheapest(full, sampled.feasible)
    p_marginal = probability_cheapest(marginal, sampled.feasible)
    bands = []
    for name in full:
        b = band(full[name])
        bands.append(
            TermBand(
                name=name,
                total_full_p10=b.p10,
                total_full_p50=b.p50,
                total_full_p90=b.p90,
                probability_cheapest_full=p_full.get(name, 0.0),
                probability_cheapest_marginal=p_marginal.get(name, 0.0),
            )
        )
    return TermSimulation(
        samples=samples,
        seed=seed,
        options=bands,
        sampled=sorted(p for p in draws if p.startswith("term.")),
    )
