"""A whole quality pilot: sample the prompts, run (or resume) the requests, summarise.

``run_pilot`` is what ``llm-tco quality`` calls; it writes ``state.jsonl`` and ``result.json``
into the run's folder and returns the :class:`QualityResult`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from llm_tco.quality.endpoints import Endpoint
from llm_tco.quality.errors import QualityError
from llm_tco.quality.graders import JUDGE, GraderSpec, bind, check_references
from llm_tco.quality.judge import DEFAULT_RUBRIC, PAIRWISE_PROMPT, JudgePrompt, load_template
from llm_tco.quality.prompts import load_prompts, stratified_sample
from llm_tco.quality.result import JudgeSettings, QualityResult
from llm_tco.quality.runner import Judge, Limits, Pairwise, Plan, Runner
from llm_tco.quality.store import RequestRow, StateFile
from llm_tco.quality.summary import differences, summarise_endpoint
from llm_tco.quality.summary import pairwise as pairwise_summaries

RESULT_FILE = "result.json"
DEFAULT_SAMPLE = 500  # the articles: "Run 500 samples from your actual production workload"


@dataclass
class PilotSettings:
    prompts: Path
    endpoints: list[Endpoint]
    graders: list[GraderSpec]
    folder: Path
    sample: int = DEFAULT_SAMPLE
    seed: int = 0
    max_attempts: int = 1
    judge: Endpoint | None = None
    judge_template: str | None = None
    rubric: str = DEFAULT_RUBRIC
    limits: Limits = field(default_factory=Limits)
    keep_outputs: bool = False
    fresh: bool = False
    pairwise: bool = False


def _check(settings: PilotSettings) -> None:
    names = [e.name for e in settings.endpoints]
    if len(names) < 1:
        raise QualityError("give at least one endpoint (two to compare)", field="--endpoint")
    if len(set(names)) != len(names):
        raise QualityError("endpoint names must be unique", field="--endpoint")
    if not settings.graders:
        raise QualityError("choose at least one grader", field="--grade", hint="e.g. --grade exact")
    uses_judge = any(g.kind == JUDGE for g in settings.graders)
    if uses_judge and settings.judge is None:
        raise QualityError("the judge grader needs --judge NAME=URL,model=...", field="--judge")
    if settings.pairwise and settings.judge is None:
        raise QualityError("--pairwise needs --judge NAME=URL,model=...", field="--judge")
    if settings.pairwise and len(settings.endpoints) < 2:
        raise QualityError("--pairwise compares two or more endpoints", field="--endpoint")
    if settings.judge is not None and not uses_judge and not settings.pairwise:
        raise QualityError(
            "--judge is given but neither --grade judge nor --pairwise uses it", field="--judge"
        )
    if settings.max_attempts < 1:
        raise QualityError("at least one attempt per prompt", field="--max-attempts")


def fingerprint(settings: PilotSettings, ids: list[str], template: str | None) -> str:
    """What makes two runs the same experiment (prices and limits may change between them)."""
    data = {
        "endpoints": [
            e.model_dump(exclude={"input_per_mtok", "output_per_mtok", "key_env"})
            for e in settings.endpoints
        ],
        "graders": [g.label for g in settings.graders],
        "judge": None
        if settings.judge is None
        else [settings.judge.url, settings.judge.model, template, settings.rubric],
        "max_attempts": settings.max_attempts,
        "pairwise": settings.pairwise,
        "prompts": sorted(ids),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _judge_settings(settings: PilotSettings, template: str | None) -> JudgeSettings | None:
    if settings.judge is None:
        return None
    modes: list[Literal["rubric", "pairwise"]] = []
    if template is not None:
        modes.append("rubric")
    if settings.pairwise:
        modes.append("pairwise")
    return JudgeSettings(
        endpoint=settings.judge.name,
        model=settings.judge.model,
        modes=modes,
        rubric=settings.rubric,
        prompt_template=template,
        pairwise_prompt_template=PAIRWISE_PROMPT if settings.pairwise else None,
    )


def run_pilot(
    settings: PilotSettings,
    on_row: Callable[[RequestRow], None] | None = None,
    handle_sigint: bool = True,
) -> QualityResult:
    _check(settings)
    items = stratified_sample(load_prompts(settings.prompts), settings.sample, settings.seed)
    local = [bind(g) for g in settings.graders if g.kind != JUDGE]
    check_references(local, items)
    judge = None
    template = None
    if settings.judge is not None and any(g.kind == JUDGE for g in settings.graders):
        template = load_template(settings.judge_template)
        tasks = {g.task for g in settings.graders if g.kind == JUDGE}
        judge = Judge(
            settings.judge,
            JudgePrompt(template, settings.rubric),
            None if None in tasks else frozenset(t for t in tasks if t is not None),
        )
    pairwise = None
    if settings.pairwise and settings.judge is not None:
        pairwise = Pairwise(settings.judge, settings.rubric)
    plan = Plan(
        settings.endpoints, items, local, settings.max_attempts, judge, settings.limits, pairwise
    )
    state = StateFile(
        settings.folder,
        fingerprint(settings, [i.id for i in items], template),
        settings.keep_outputs,
    )
    state.open(fresh=settings.fresh)
    try:
        state.keep_prompts(items)
        runner = Runner(plan, state, on_row or (lambda row: None))
        stopped = asyncio.run(runner.run(handle_sigint=handle_sigint))
    finally:
        state.close()
    summaries = [
        summarise_endpoint(e, items, state.rows, settings.max_attempts) for e in settings.endpoints
    ]
    result = QualityResult(
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        prompts_file=str(settings.prompts),
        sample_size=len(items),
        seed=settings.seed,
        tasks=dict(sorted(Counter(i.task for i in items).items())),
        graders=[g.label for g in settings.graders],
        max_attempts=settings.max_attempts,
        judge=_judge_settings(settings, template),
        endpoints=summaries,
        differences=differences(summaries),
        pairwise=pairwise_summaries(settings.endpoints, state.rows),
        requests_sent=runner.budget.sent,
        records_kept=len(state.rows),
        stopped=stopped,
        keep_outputs=settings.keep_outputs,
    )
    path = settings.folder / RESULT_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(result.model_dump_json(indent=2), encoding="utf-8")
    tmp.replace(path)
    return result
