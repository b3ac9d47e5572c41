"""Results of deciding under uncertainty: simulation bands, sensitivity, idle-cost choices and
the recommendation. Plain data that every interface renders (like :mod:`llm_tco.result`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Model(BaseModel):
    # The same base as llm_tco.result.Model, defined here: result.py imports this module, so
    # importing it back would fail whenever this module is imported first.
    model_config = ConfigDict(extra="forbid")


class InputRange(Model):
    path: str
    distribution: str
    point: float
    low: float
    high: float


class Percentiles(Model):
    p10: float
    p50: float
    p90: float
    mean: float


class OptionBand(Model):
    name: str
    deterministic_usd: float
    monthly_usd: Percentiles
    probability_cheapest: float  # among the options that can serve each sample's volume
    probability_can_serve: float = 1.0  # share of samples whose volume it can serve
    utilisation_mean_p50: float | None = None


class BreakevenBand(Model):
    option: str
    versus: str
    deterministic_tokens_per_month: float | None
    tokens_per_month: Percentiles | None
    share_never: float  # samples with no break-even, including those in share_cannot_serve
    share_cannot_serve: float = 0.0  # samples whose crossing lies beyond what it can serve


class Simulation(Model):
    """Monte Carlo over the scenario's ranges."""

    samples: int
    seed: int | None
    inputs: list[InputRange]
    options: list[OptionBand]
    breakeven: list[BreakevenBand]
    held_at_point: list[str] = Field(default_factory=list)


class TornadoRow(Model):
    """How far one input moves the cost gap between two options across its range."""

    path: str
    low: float
    high: float
    gap_at_low_usd: float
    gap_at_high_usd: float
    swing_usd: float
    flips_at: float | None = None
    flip_within_range: bool = False


class Sensitivity(Model):
    option: str
    versus: str
    gap_usd: float  # option minus versus at the point values (negative: option cheaper)
    rows: list[TornadoRow]
    chart: dict[str, Any] | None = None  # Vega-Lite spec of the tornado


class TaxShift(Model):
    """Break-even with and without the capability tax (retries, acceptance)."""

    option: str
    versus: str
    without_tax_tokens_per_month: float | None
    with_tax_tokens_per_month: float | None
    accepted_with_tax_tokens_per_month: float | None
    shift: float | None
    explanation: str


class IdleChoice(Model):
    choice: str
    monthly_usd: float
    saving_vs_always_on_usd: float
    how: str


class IdleReport(Model):
    option: str
    choices: list[IdleChoice]


class Reason(Model):
    code: str
    text: str
    evidence: str
    weight: str = "supports"  # supports | against | caveat | decides


class Recommendation(Model):
    choose: str
    kind: str
    summary: str
    reasons: list[Reason]
    six_questions_yes: int | None = None
    six_questions_answered: int = 0
    five_cases: list[str] = Field(default_factory=list)
    capability_tax: list[TaxShift] = Field(default_factory=list)
    idle: list[IdleReport] = Field(default_factory=list)
    simulation: Simulation | None = None
