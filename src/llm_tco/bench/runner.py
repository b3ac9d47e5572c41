"""Run a benchmark: levels one after another, live progress, Ctrl-C keeps what was measured."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from llm_tco.bench.client import ClientConfig, StreamingClient
from llm_tco.bench.metrics import RequestRecord
from llm_tco.bench.profiles import LevelPlan, Limits, next_concurrency, run_level
from llm_tco.bench.prompts import PromptSpec
from llm_tco.bench.result import BenchResult, LevelResult, Slo

ProfileName = Literal["concurrency", "rate", "replay", "sweep", "goodput"]


class Progress(Protocol):
    """What the runner tells the terminal (or nothing, in tests)."""

    def start_level(self, label: str, total: int) -> None: ...
    def record(self, record: RequestRecord) -> None: ...
    def end_level(self, level: LevelResult) -> None: ...


class QuietProgress:
    def start_level(self, label: str, total: int) -> None:
        return None

    def record(self, record: RequestRecord) -> None:
        return None

    def end_level(self, level: LevelResult) -> None:
        return None


@dataclass
class BenchPlan:
    """What to run: a profile and its levels, bounds, and the SLO for search and attainment."""

    profile: ProfileName = "concurrency"
    levels: Sequence[LevelPlan] = (LevelPlan(concurrency=1),)
    limits: Limits = field(default_factory=Limits)
    slo: Slo | None = None
    max_concurrency: int = 256
    max_levels: int = 10


def _planned_levels(plan: BenchPlan, done: list[LevelResult]) -> LevelPlan | None:
    """The next level: the listed ones in order, or the search's next concurrency."""
    if plan.profile not in ("sweep", "goodput"):
        return plan.levels[len(done)] if len(done) < len(plan.levels) else None
    if len(done) >= plan.max_levels:
        return None
    slo = plan.slo if plan.profile == "goodput" else None
    tried = [
        (
            lv.concurrency or 1,
            slo is None or lv.meets(slo.ttft_ms, slo.tpot_ms, slo.attainment),
            lv.output_tokens_per_second,
        )
        for lv in done
    ]
    nxt = next_concurrency(tried, plan.max_concurrency)
    return LevelPlan(concurrency=nxt) if nxt is not None else None


async def run_benchmark(
    config: ClientConfig,
    plan: BenchPlan,
    prompts: Sequence[PromptSpec],
    *,
    progress: Progress | None = None,
    stop: asyncio.Event | None = None,
    handle_sigint: bool = True,
    on_level: Callable[[BenchResult], None] | None = None,
) -> BenchResult:
    """Run every level of ``plan``; a SIGINT (or ``stop``) ends the run with a partial result."""
    progress = progress or QuietProgress()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    if handle_sigint:
        loop.add_signal_handler(signal.SIGINT, stop.set)
    result = BenchResult(
        endpoint=config.endpoint,
        model=config.model,
        api=config.api,
        profile=plan.profile,
        slo=plan.slo,
    )
    levels: list[LevelResult] = []
    try:
        async with StreamingClient(config) as client:
            while not stop.is_set():
                level_plan = _planned_levels(plan, levels)
                if level_plan is None:
                    break
                level = await _run_one(client, level_plan, plan, prompts, progress, stop)
                levels.append(level)
                progress.end_level(level)
                if on_level is not None:
                    on_level(result.model_copy(update={"levels": list(levels)}))
    finally:
        if handle_sigint:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(signal.SIGINT)
    return result.model_copy(update={"levels": levels, "interrupted": stop.is_set()})


async def _run_one(
    client: StreamingClient,
    level_plan: LevelPlan,
    plan: BenchPlan,
    prompts: Sequence[PromptSpec],
    progress: Progress,
    stop: asyncio.Event,
) -> LevelResult:
    label = (
        f"concurrency {level_plan.concurrency}"
        if level_plan.arrival == "closed"
        else f"{level_plan.arrival} {level_plan.rate or 1:g}"
    )
    total = plan.limits.max_requests
    if level_plan.arrival == "replay":
        total = min(total, len(prompts))
    progress.start_level(label, total)
    records = await run_level(
        client.send, prompts, level_plan, plan.limits, stop, progress.record, client.clock
    )
    records.sort(key=lambda r: r.start_s)
    return LevelResult(
        concurrency=level_plan.concurrency if level_plan.arrival == "closed" else None,
        rate=level_plan.rate if level_plan.arrival != "closed" else None,
        arrival=level_plan.arrival,
        requests=records,
        slo=plan.slo,
    )
