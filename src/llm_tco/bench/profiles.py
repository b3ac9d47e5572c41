"""Load profiles: how requests are offered to the server within one level, and which levels to run.

* closed loop (``concurrency``): N workers, each sends its next request when the last one ends;
* open loop (``constant`` / ``poisson`` arrival rate): requests arrive on a schedule whatever the
  server does, up to ``max_in_flight`` outstanding;
* replay: arrivals at the offsets logged in production;
* sweep and goodput search: a series of closed-loop levels, chosen by :func:`next_concurrency`.

Every level is bounded twice: at most ``max_requests`` requests and at most ``max_duration_s``
seconds (plus ``grace_s`` for the requests in flight, which are then cancelled and recorded as
``cancelled``). A set ``stop`` event (Ctrl-C) ends the level the same way at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from llm_tco.bench.metrics import RequestRecord
from llm_tco.bench.prompts import PromptSpec

Arrival = Literal["closed", "constant", "poisson", "replay"]
Send = Callable[[PromptSpec], Awaitable[RequestRecord]]
OnRecord = Callable[[RequestRecord], None]
Clock = Callable[[], float]


@dataclass(frozen=True)
class LevelPlan:
    """One level's load: a concurrency (closed loop) or an arrival rate (open loop)."""

    arrival: Arrival = "closed"
    concurrency: int | None = None
    rate: float | None = None  # requests/s; for replay, a speed-up factor on the logged times


@dataclass(frozen=True)
class Limits:
    """Bounds on one level: request count, seconds, and in-flight requests for open loops."""

    max_requests: int = 100
    max_duration_s: float = 300.0
    grace_s: float = 30.0
    max_in_flight: int = 512


async def _send_safely(send: Send, prompt: PromptSpec, clock: Clock) -> RequestRecord:
    """``send(prompt)``, or an ``other`` record if it raised: a sent request is never lost,
    and a worker never dies of one bad reply (the client already records every failure it
    knows; this catches a failure nobody foresaw)."""
    start = clock()
    try:
        return await send(prompt)
    except Exception as exc:
        now = clock()
        return RequestRecord(
            start_s=start,
            end_s=now,
            error_kind="other",
            error_detail=f"{type(exc).__name__}: {str(exc)[:160]}",
        )


async def _finish(
    tasks: Sequence[asyncio.Task[None]], hard_deadline: float, stop: asyncio.Event
) -> None:
    """Wait for ``tasks`` until done, the hard deadline, or ``stop``; then cancel what is left."""
    loop = asyncio.get_running_loop()
    pending = {t for t in tasks if not t.done()}
    stopper = asyncio.ensure_future(stop.wait())
    try:
        while pending and not stop.is_set():
            remaining = hard_deadline - loop.time()
            if remaining <= 0:
                break
            done, _ = await asyncio.wait(
                pending | {stopper}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
            )
            pending -= done
    finally:
        stopper.cancel()
    for task in pending:
        task.cancel()
    # The client turns a cancelled request into a record, so the tasks end normally; anything
    # else a task raised is a bug, and is raised here rather than dropped.
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            raise outcome


async def run_closed(
    send: Send,
    prompts: Sequence[PromptSpec],
    concurrency: int,
    limits: Limits,
    stop: asyncio.Event,
    on_record: OnRecord,
    clock: Clock = time.perf_counter,
) -> list[RequestRecord]:
    """``concurrency`` workers, each sending its next prompt as soon as its last reply ends."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limits.max_duration_s
    counter = itertools.count()
    records: list[RequestRecord] = []

    async def worker() -> None:
        while not stop.is_set() and loop.time() < deadline:
            index = next(counter)
            if index >= limits.max_requests:
                return
            record = await _send_safely(send, prompts[index % len(prompts)], clock)
            records.append(record)
            on_record(record)

    tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
    await _finish(tasks, deadline + limits.grace_s, stop)
    return records


def arrival_offsets(
    plan: LevelPlan, prompts: Sequence[PromptSpec], count: int, seed: int = 0
) -> list[float]:
    """Seconds from the level's start at which each request is sent."""
    if plan.arrival == "replay":
        speed = plan.rate or 1.0
        return [(p.arrival_s or 0.0) / speed for p in prompts[:count]]
    if not plan.rate:
        raise ValueError("an open-loop level needs a rate")
    if plan.arrival == "constant":
        return [i / plan.rate for i in range(count)]
    rng = random.Random(seed)
    # Poisson arrivals: exponential gaps with mean 1/rate; the first request goes at once.
    gaps = [0.0] + [rng.expovariate(plan.rate) for _ in range(count - 1)]
    return list(itertools.accumulate(gaps))


async def run_open(
    send: Send,
    prompts: Sequence[PromptSpec],
    plan: LevelPlan,
    limits: Limits,
    stop: asyncio.Event,
    on_record: OnRecord,
    seed: int = 0,
    clock: Clock = time.perf_counter,
) -> list[RequestRecord]:
    """Send on a schedule (constant, Poisson or replayed), whatever the server's pace."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    deadline = start + limits.max_duration_s
    count = (
        min(limits.max_requests, len(prompts)) if plan.arrival == "replay" else limits.max_requests
    )
    offsets = arrival_offsets(plan, prompts, count, seed)
    slots = asyncio.Semaphore(limits.max_in_flight)
    records: list[RequestRecord] = []
    tasks: list[asyncio.Task[None]] = []

    async def one(prompt: PromptSpec) -> None:
        try:
            record = await _send_safely(send, prompt, clock)
        finally:
            slots.release()
        records.append(record)
        on_record(record)

    for index, offset in enumerate(offsets):
        when = start + offset
        if when > deadline or stop.is_set():
            break
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=max(0.0, when - loop.time()))
        if stop.is_set():
            break
        await slots.acquire()  # bounded: an over-saturated server cannot pile up requests
        tasks.append(asyncio.create_task(one(prompts[index % len(prompts)])))
    await _finish(tasks, deadline + limits.grace_s, stop)
    return records


async def run_level(
    send: Send,
    prompts: Sequence[PromptSpec],
    plan: LevelPlan,
    limits: Limits,
    stop: asyncio.Event,
    on_record: OnRecord,
    clock: Clock = time.perf_counter,
) -> list[RequestRecord]:
    """One level's records: one per request sent, whatever the server did."""
    if plan.arrival == "closed":
        concurrency = plan.concurrency or 1
        return await run_closed(send, prompts, concurrency, limits, stop, on_record, clock)
    return await run_open(send, prompts, plan, limits, stop, on_record, clock=clock)


def next_concurrency(
    tried: Sequence[tuple[int, bool, float]],
    max_concurrency: int,
    saturation_gain: float = 0.05,
) -> int | None:
    """The next concurrency to try in a sweep or goodput search, or None to stop.

    ``tried`` holds (concurrency, met the SLO, output tokens/s) of each level run so far.
    Doubles while levels meet the SLO; bisects between the best passing and the first failing
    level; stops when the lightest load already fails, or when throughput grew by less than
    ``saturation_gain`` over the best earlier level (the server is saturated: more load only
    adds queueing delay).
    """
    if not tried:
        return 1
    seen = {c for c, _, _ in tried}
    passing = [c for c, ok, _ in tried if ok]
    if not passing:
        return None
    low = max(passing)
    high = min((c for c, ok, _ in tried if not ok and c > low), default=None)
    if high is None:
        *earlier, (_, _, last_tps) = tried
        if earlier and last_tps < max(tps for _, _, tps in earlier) * (1 + saturation_gain):
            return None
        step = min(low * 2, max_concurrency)
        return step if step not in seen else None
    middle = (low + high) // 2
    return middle if middle not in seen else None
