"""From the requests kept in the state file to the result's figures (one place for each)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from llm_tco.bench.metrics import Percentiles
from llm_tco.quality.endpoints import Endpoint
from llm_tco.quality.prompts import PromptItem
from llm_tco.quality.result import (
    Difference,
    EndpointSummary,
    PairwiseSummary,
    Rate,
    TaskSummary,
)
from llm_tco.quality.stats import mean_interval, newcombe_difference, wilson
from llm_tco.quality.store import RequestRow


def rate(accepted: int, graded: int) -> Rate:
    low, high = wilson(accepted, graded)
    return Rate(
        accepted=accepted,
        graded=graded,
        rate=accepted / graded if graded else None,
        low=low,
        high=high,
    )


@dataclass
class _Outcome:
    attempts: int = 0
    accepted: bool = False


def _sum_cost(rows: list[RequestRow]) -> float | None:
    costs = [r.cost_usd for r in rows]
    return None if any(c is None for c in costs) else sum(c for c in costs if c is not None)


def summarise_endpoint(
    endpoint: Endpoint, items: list[PromptItem], rows: list[RequestRow], max_attempts: int
) -> EndpointSummary:
    """The endpoint's figures over the sampled prompts. A prompt is finished once accepted or
    after ``max_attempts`` answers; acceptance, attempts and retries count finished prompts
    only, while tokens, cost and latency count every request sent."""
    mine = [r for r in rows if r.endpoint == endpoint.name]
    answers = [r for r in mine if r.role == "answer"]
    outcomes: dict[str, _Outcome] = defaultdict(_Outcome)
    for row in answers:
        if row.counts_as_attempt:
            outcome = outcomes[row.prompt_id]
            outcome.attempts += 1
            outcome.accepted = outcome.accepted or bool(row.accepted)
    tasks = {item.id: item.task for item in items}
    finished = {
        pid: o
        for pid, o in outcomes.items()
        if pid in tasks and (o.accepted or o.attempts >= max_attempts)
    }
    accepted = sum(o.accepted for o in finished.values())
    by_task = []
    for task in sorted(set(tasks.values())):
        done = [o for pid, o in finished.items() if tasks[pid] == task]
        by_task.append(
            TaskSummary(task=task, acceptance=rate(sum(o.accepted for o in done), len(done)))
        )
    attempts = sum(o.attempts for o in finished.values())
    extra = [float(o.attempts - 1) for o in finished.values()]
    retry, retry_low, retry_high = mean_interval(extra)
    answered = [r for r in answers if r.error_kind is None]
    cost = _sum_cost(answers) if endpoint.priced else None
    judged = [r for r in rows if r.role == "judge" and r.endpoint == f"judge:{endpoint.name}"]
    return EndpointSummary(
        name=endpoint.name,
        model=endpoint.model,
        input_per_mtok=endpoint.input_per_mtok,
        output_per_mtok=endpoint.output_per_mtok,
        prompts_finished=len(finished),
        prompts_pending=len(items) - len(finished),
        acceptance=rate(accepted, len(finished)),
        by_task=by_task,
        attempts=attempts,
        attempts_per_accepted=attempts / accepted if accepted else None,
        retry_rate=retry,
        retry_rate_low=max(0.0, retry_low),
        retry_rate_high=min(float(max_attempts - 1), retry_high),
        latency_ms=Percentiles.of([r.latency_ms for r in answered]),
        input_tokens=sum(r.input_tokens for r in answers),
        output_tokens=sum(r.output_tokens for r in answers),
        tokens_estimated=any(r.tokens_source == "estimate" for r in answers),
        cost_usd=cost,
        cost_per_accepted_usd=cost / accepted if cost is not None and accepted else None,
        judge_cost_usd=_sum_cost(judged) if judged else None,
        errors=dict(Counter(r.error_kind for r in answers if r.error_kind is not None)),
        rate_limited=sum(r.error_kind == "rate_limited" for r in mine),
        waited_s=sum(r.waited_s for r in mine),
    )


def differences(summaries: list[EndpointSummary]) -> list[Difference]:
    """Each endpoint against the first (the baseline), over all tasks and per task."""
    if len(summaries) < 2:
        return []
    base = summaries[0]
    rows = []
    for other in summaries[1:]:
        pairs: list[tuple[str | None, Rate, Rate]] = [(None, other.acceptance, base.acceptance)]
        base_tasks = {t.task: t.acceptance for t in base.by_task}
        pairs += [
            (t.task, t.acceptance, base_tasks[t.task])
            for t in other.by_task
            if t.task in base_tasks
        ]
        for task, a, b in pairs:
            if not a.graded or not b.graded:
                continue
            diff, low, high = newcombe_difference(a.accepted, a.graded, b.accepted, b.graded)
            rows.append(
                Difference(
                    endpoint=other.name,
                    versus=base.name,
                    task=task,
                    difference=diff,
                    low=low,
                    high=high,
                )
            )
    return rows


def pairwise(endpoints: list[Endpoint], rows: list[RequestRow]) -> list[PairwiseSummary]:
    """Each endpoint's pairwise verdicts against the baseline (the first endpoint)."""
    summaries = []
    for endpoint in endpoints[1:]:
        mine = [
            r for r in rows if r.role == "pairwise" and r.endpoint == f"pairwise:{endpoint.name}"
        ]
        if not mine:
            continue
        counts = Counter(r.preference for r in mine if r.error_kind is None)
        judged = counts["win"] + counts["tie"] + counts["loss"]
        summaries.append(
            PairwiseSummary(
                endpoint=endpoint.name,
                versus=endpoints[0].name,
                compared=judged,
                wins=counts["win"],
                ties=counts["tie"],
                losses=counts["loss"],
                no_verdict=counts[None],
                win=rate(counts["win"], judged),
                at_least_as_good=rate(counts["win"] + counts["tie"], judged),
                judge_cost_usd=_sum_cost(mine),
            )
        )
    return summaries
