"""Choose an option from the numbers and the qualitative answers, with a reason for each step.

The rules are the seeds' own, applied to computed numbers rather than their rules of thumb:

* seed "Self-Hosted LLM vs API Cost" - self-hosting wins in five cases only (very high volume:
  "past roughly 50M tokens/day of steady load ... past 100M tokens/day it's clearly ahead";
  strict data residency; fine-tuned models; cost-sensitive bulk "at 70%+ utilization"; models
  no API offers), and six questions: "yes to 4 or more" -> evaluate self-hosting seriously,
  "fewer than 4, default to the API".
* seed "Open Source LLMs as Cost Floor" - "below 60% [utilisation] means you are overpaying";
  bursty usage with idle periods favours the API.
* seed "Open Source vs API: Break-Even Analysis" - "Data privacy requirement: Self-host
  regardless of volume"; sub-100ms first-token latency favours local inference.
* seed "Open-Source LLM ROI" - compare cost per accepted output (the capability tax).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from llm_tco.core.units import format_tokens, format_usd

Kind = Literal["api", "self_hosted", "hybrid"]
VERY_HIGH_TOKENS_PER_DAY = 50e6
CLEARLY_AHEAD_TOKENS_PER_DAY = 100e6
LOW_UTILISATION = 0.6
BULK_UTILISATION = 0.7
CLOSE_CALL_PROBABILITY = 0.7
SIX_QUESTIONS_NEEDED = 4
LOCAL_LATENCY_MS = 100.0


@dataclass(frozen=True)
class OptionFacts:
    name: str
    kind: Kind
    monthly_usd: float
    acceptance_rate: float = 1.0
    open_weight: bool = False
    utilisation_mean: float | None = None
    infeasible: str | None = None  # why it cannot serve the workload as stated
    probability_cheapest: float | None = None
    acceptance_range: tuple[float, float] | None = None  # 95% interval, when measured
    acceptance_source: str | None = None  # where acceptance_rate was measured

    @property
    def usd_per_accepted(self) -> float:
        return self.monthly_usd / self.acceptance_rate


@dataclass(frozen=True)
class BreakevenFacts:
    option: str
    versus: str
    tokens_per_month: float | None


@dataclass(frozen=True)
class Answers:
    data_residency_required: bool | None = None
    fine_tuning_needed: bool | None = None
    gpu_ops_skill: bool | None = None
    open_model_meets_quality: bool | None = None
    quality_bar: str | None = None
    latency_target_ms: float | None = None
    willing_to_rebenchmark: bool | None = None
    model_not_offered_by_apis: bool | None = None
    load_pattern: str | None = None


@dataclass(frozen=True)
class Facts:
    tokens_per_month: float
    hours_per_month: float
    peak_to_mean: float
    options: tuple[OptionFacts, ...]
    breakevens: tuple[BreakevenFacts, ...] = ()
    answers: Answers | None = None
    samples: int | None = None


@dataclass(frozen=True)
class Reason:
    code: str
    text: str
    evidence: str
    weight: str = "supports"  # supports | against | caveat | decides


@dataclass
class Verdict:
    choose: OptionFacts
    reasons: list[Reason] = field(default_factory=list)
    six_yes: int | None = None
    six_answered: int = 0
    five_cases: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        decided = [r.text for r in self.reasons if r.weight == "decides" and r.code != "infeasible"]
        decided += [r.text for r in self.reasons if r.code == "cheapest"]
        head = f"Choose {self.choose.name} ({self.choose.kind.replace('_', '-')})"
        return head + (": " + decided[0] if decided else ".")


def tokens_per_day(facts: Facts) -> float:
    return facts.tokens_per_month / (facts.hours_per_month / 24.0)


def _restrict(
    pool: list[OptionFacts],
    keep: set[Kind],
    code: str,
    text: str,
    evidence: str,
    reasons: list[Reason],
    proprietary_only: bool = False,
) -> list[OptionFacts]:
    kept = [o for o in pool if o.kind in keep and not (proprietary_only and o.open_weight)]
    if kept:
        reasons.append(Reason(code, text, evidence, "decides"))
        return kept
    reasons.append(
        Reason(code, text + ", but no option of that kind is listed: add one", evidence, "caveat")
    )
    return pool


def _constraints(facts: Facts, pool: list[OptionFacts], reasons: list[Reason]) -> list[OptionFacts]:
    a = facts.answers
    if a is None:
        return pool
    if a.data_residency_required:
        return _restrict(
            pool,
            {"self_hosted"},
            "data_residency",
            "data may never leave your infrastructure, so only self-hosted options "
            'qualify ("self-host regardless of volume")',
            "decision.data_residency_required: yes",
            reasons,
        )
    if a.model_not_offered_by_apis:
        return _restrict(
            pool,
            {"self_hosted", "hybrid"},
            "model_not_offered",
            "the model you need is not offered by any API",
            "decision.model_not_offered_by_apis: yes",
            reasons,
        )
    if a.fine_tuning_needed:
        pool = _restrict(
            pool,
            {"self_hosted", "hybrid"},
            "fine_tuning",
            "fine-tuned weights you own mean self-hosting",
            "decision.fine_tuning_needed: yes",
            reasons,
        )
    if a.quality_bar == "frontier" or a.open_model_meets_quality is False:
        evidence = (
            "decision.quality_bar: frontier"
            if a.quality_bar == "frontier"
            else "decision.open_model_meets_quality: no"
        )
        pool = _restrict(
            pool,
            {"api"},
            "quality",
            "open models do not meet your quality bar, so proprietary APIs qualify",
            evidence,
            reasons,
            proprietary_only=True,
        )
    return pool


def _rank(pool: list[OptionFacts]) -> tuple[list[OptionFacts], bool]:
    taxed = any(o.acceptance_rate < 1 for o in pool)
    key = (lambda o: o.usd_per_accepted) if taxed else (lambda o: o.monthly_usd)
    return sorted(pool, key=key), taxed


def six_questions(facts: Facts, chosen_api: OptionFacts | None) -> tuple[int, int, list[str]]:
    """(yes count, answered count, the yes answers) for seed 4's six questions."""
    a = facts.answers or Answers()
    volume_yes = _volume_above_breakeven(facts, chosen_api)
    answers = [
        ("p95 volume above the break-even", volume_yes),
        ("open model good enough on your eval", a.open_model_meets_quality),
        ("fine-tuning needed", a.fine_tuning_needed),
        ("GPU ops skill in-house or budgeted", a.gpu_ops_skill),
        ("data must never leave your infrastructure", a.data_residency_required),
        ("willing to re-benchmark every 6 months", a.willing_to_rebenchmark),
    ]
    yes = [name for name, value in answers if value]
    return len(yes), sum(value is not None for _, value in answers), yes


def _volume_above_breakeven(facts: Facts, api: OptionFacts | None) -> bool | None:
    if api is None:
        return None
    rows = [b for b in facts.breakevens if b.versus == api.name]
    if not rows:
        return None
    return any(
        b.tokens_per_month is not None and facts.tokens_per_month >= b.tokens_per_month
        for b in rows
    )


def recommend(facts: Facts) -> Verdict:
    reasons: list[Reason] = []
    feasible = [o for o in facts.options if o.infeasible is None]
    for o in facts.options:
        if o.infeasible is not None:
            reasons.append(
                Reason(
                    "infeasible",
                    f"{o.name} is left out: it cannot serve this workload as stated",
                    o.infeasible,
                    "decides" if feasible else "caveat",
                )
            )
    pool = _constraints(facts, feasible or list(facts.options), reasons)
    ranked, taxed = _rank(pool)
    choice = ranked[0]
    hard = any(r.weight == "decides" and r.code != "infeasible" for r in reasons)
    apis = [o for o in _rank([o for o in feasible if o.kind == "api"])[0]]
    six_yes, six_answered, yes = six_questions(facts, apis[0] if apis else None)
    if (
        facts.answers is not None
        and not hard
        and choice.kind != "api"
        and apis
        and six_yes < SIX_QUESTIONS_NEEDED
    ):
        saving = apis[0].monthly_usd - choice.monthly_usd
        reasons.append(
            Reason(
                "six_questions",
                f"only {six_yes} of the six self-hosting questions are answered yes (4 needed), so "
                f"default to the API even though {choice.name} looks {format_usd(saving)}/month "
                "cheaper on paper",
                "yes: " + (", ".join(yes) or "none"),
                "decides",
            )
        )
        choice = apis[0]
    verdict = Verdict(choice, reasons, six_yes if facts.answers else None, six_answered)
    _cost_reasons(facts, verdict, ranked, taxed)
    _breakeven_reasons(facts, verdict)
    _soft_reasons(facts, verdict, six_yes, yes)
    return verdict


def _cost_reasons(facts: Facts, v: Verdict, ranked: list[OptionFacts], taxed: bool) -> None:
    c = v.choose
    others = [o for o in facts.options if o.name != c.name and o.infeasible is None]
    if others:
        best = min(others, key=lambda o: o.usd_per_accepted if taxed else o.monthly_usd)
        mine = c.usd_per_accepted if taxed else c.monthly_usd
        theirs = best.usd_per_accepted if taxed else best.monthly_usd
        what = "per accepted output (monthly cost / acceptance rate)" if taxed else "a month"
        if mine <= theirs:
            ratio = theirs / mine if mine > 0 else float("inf")
            than = f"level with {best.name}" if ratio < 1.005 else f"{ratio:.1f}x below {best.name}"
            v.reasons.append(
                Reason(
                    "cheapest",
                    f"{c.name} is the cheapest option, {than} {what}",
                    f"{format_usd(mine)} vs {format_usd(theirs)}",
                )
            )
        else:
            v.reasons.append(
                Reason(
                    "not_cheapest",
                    f"{best.name} would cost less ({format_usd(theirs)} vs "
                    f"{format_usd(mine)} {what})",
                    f"{format_usd(theirs)} vs {format_usd(mine)}",
                    "against",
                )
            )
    if taxed:
        v.reasons.append(
            Reason(
                "capability_tax",
                "ranked by cost per accepted output, not per token (retries and "
                "rejected outputs are paid for)",
                "; ".join(f"{o.name} {o.acceptance_rate:.0%} accepted" for o in facts.options),
            )
        )
    _measured_reason(facts, v)
    if c.probability_cheapest is not None and facts.samples:
        p = c.probability_cheapest
        weight = "supports" if p >= CLOSE_CALL_PROBABILITY else "caveat"
        text = f"{c.name} is cheapest in {p:.0%} of {facts.samples:,} simulated months" + (
            "" if p >= CLOSE_CALL_PROBABILITY else ": a close call within your ranges"
        )
        v.reasons.append(Reason("probability", text, f"P(cheapest) = {p:.3f}", weight))


def _measured_reason(facts: Facts, v: Verdict) -> None:
    """Cite acceptance rates measured on the user's prompts, and say when their intervals
    overlap the chosen option's (the sample cannot tell those options apart)."""
    measured = [o for o in facts.options if o.acceptance_source is not None]
    if not measured:
        return

    def cite(o: OptionFacts) -> str:
        low, high = o.acceptance_range or (o.acceptance_rate, o.acceptance_rate)
        return f"{o.name} {o.acceptance_rate:.1%} (95% interval {low:.1%}-{high:.1%})"

    mine = v.choose.acceptance_range
    overlap = [
        o.name
        for o in measured
        if o.name != v.choose.name
        and mine is not None
        and o.acceptance_range is not None
        and o.acceptance_range[0] <= mine[1]
        and mine[0] <= o.acceptance_range[1]
    ]
    text = "acceptance rates measured on your own prompts: " + "; ".join(cite(o) for o in measured)
    if overlap:
        text += f"; {v.choose.name}'s interval overlaps {', '.join(overlap)}'s"
    v.reasons.append(
        Reason(
            "measured_acceptance",
            text,
            "; ".join(f"{o.name}: {o.acceptance_source}" for o in measured),
            "caveat" if overlap else "supports",
        )
    )


def _breakeven_reasons(facts: Facts, v: Verdict) -> None:
    volume = facts.tokens_per_month
    # A break-even with an option that cannot serve as stated cannot argue against the choice:
    # it stays as a caveat (what the volume would favour if that option could serve).
    left_out = {o.name for o in facts.options if o.infeasible is not None}
    for b in facts.breakevens:
        if v.choose.name not in (b.option, b.versus):
            continue
        moot = bool({b.option, b.versus} & left_out)
        if b.tokens_per_month is None:
            v.reasons.append(
                Reason(
                    "breakeven",
                    f"{b.option} never becomes cheaper than {b.versus} at any volume",
                    f"break-even {b.option} vs {b.versus}: never",
                    "caveat" if moot else "supports" if v.choose.name == b.versus else "against",
                )
            )
            continue
        ratio = volume / b.tokens_per_month
        above = volume >= b.tokens_per_month
        side = "above" if above else "below"
        favours = b.option if above else b.versus
        v.reasons.append(
            Reason(
                "breakeven",
                f"your {format_tokens(volume)} tokens/month is {side} the "
                f"{format_tokens(b.tokens_per_month)} break-even of {b.option} vs {b.versus} "
                f"({ratio:.2f}x), which favours {favours}"
                + (" if it could serve as stated" if moot else ""),
                f"volume {format_tokens(volume)} / break-even {format_tokens(b.tokens_per_month)}",
                "caveat" if moot else "supports" if favours == v.choose.name else "against",
            )
        )


def _soft_reasons(facts: Facts, v: Verdict, six_yes: int, yes: list[str]) -> None:
    c, a = v.choose, facts.answers or Answers()
    per_day = tokens_per_day(facts)
    if per_day >= VERY_HIGH_TOKENS_PER_DAY:
        where = (
            "past the 100M/day at which self-hosting is clearly ahead"
            if per_day >= CLEARLY_AHEAD_TOKENS_PER_DAY
            else "past the 50M/day at which the math starts tilting toward self-hosting"
        )
        v.five_cases.append("very high volume")
        v.reasons.append(
            Reason(
                "volume",
                f"{format_tokens(per_day)} tokens/day is {where}, by the rule of thumb in "
                '"Self-Hosted LLM vs API Cost: Break-Even Analysis (2026)"; the computed costs '
                "and break-even above take precedence",
                f"{format_tokens(per_day)} tokens/day",
                "supports" if c.kind != "api" else "caveat",
            )
        )
    for flag, case in (
        (a.data_residency_required, "strict data residency"),
        (a.fine_tuning_needed, "fine-tuned custom model"),
        (a.model_not_offered_by_apis, "model no API offers"),
    ):
        if flag:
            v.five_cases.append(case)
    for o in facts.options:
        if o.kind != "self_hosted" or o.utilisation_mean is None:
            continue
        steady = a.load_pattern == "steady" or facts.peak_to_mean <= 1.5
        if o.utilisation_mean >= BULK_UTILISATION and steady:
            v.five_cases.append(f"cost-sensitive bulk on {o.name}")
        if o.name == c.name and o.utilisation_mean < LOW_UTILISATION:
            v.reasons.append(
                Reason(
                    "utilisation",
                    f"{o.name}'s GPUs would be busy {o.utilisation_mean:.0%} of the "
                    "time on average; below 60% you pay for idle capacity (see the idle choices)",
                    f"utilisation at mean load {o.utilisation_mean:.0%}",
                    "caveat",
                )
            )
    if facts.answers is not None:
        verdict_text = (
            "4 or more: self-hosting is worth evaluating"
            if six_yes >= SIX_QUESTIONS_NEEDED
            else "fewer than 4: default to the API"
        )
        v.reasons.append(
            Reason(
                "six_questions_score",
                f"{six_yes} of the six self-hosting questions answered yes ({verdict_text})",
                "yes: " + (", ".join(yes) or "none"),
                "supports" if (six_yes >= 4) == (c.kind != "api") else "against",
            )
        )
    if c.kind != "api" and a.gpu_ops_skill is False:
        v.reasons.append(
            Reason(
                "gpu_ops",
                "nobody in-house runs GPUs in production: budget the "
                "hidden 3-6 months to learn, or hire (EUR 90-130k/year in "
                '"Self-Hosted LLM vs API Cost: Break-Even Analysis (2026)")',
                "decision.gpu_ops_skill: no",
                "against",
            )
        )
    if c.kind != "api" and a.load_pattern == "bursty":
        v.reasons.append(
            Reason(
                "bursty",
                "bursty load leaves rented GPUs idle between bursts; "
                "consider a hybrid that sends bursts to the API",
                "decision.load_pattern: bursty",
                "caveat",
            )
        )
    if a.latency_target_ms is not None and a.latency_target_ms < LOCAL_LATENCY_MS:
        v.reasons.append(
            Reason(
                "latency",
                f"a {a.latency_target_ms:g} ms first-token target "
                "favours local inference without network round-trips",
                f"decision.latency_target_ms: {a.latency_target_ms:g}",
                "supports" if c.kind != "api" else "against",
            )
        )
