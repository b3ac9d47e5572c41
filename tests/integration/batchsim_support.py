"""The simulator's validation on a real llama.cpp server: calibrate, load, compare.

Shared by ``test_batchsim_llamacpp.py`` and ``benchmarks/batchsim_llamacpp.py``.
llama-cpp-python's server runs one request at a time (a lock around the model), so the
simulator runs with a batch of one. For each load in turn: a closed-loop run at concurrency 1
calibrates the step times (mean TTFT = prefill, mean TPOT = decode step), an open-loop Poisson
run at ``fraction`` x the calibrated saturation rate is measured, and a second calibration run
follows; the two calibrations are pooled, so a drift of the shared machine's speed during the
level is averaged rather than blamed on the model. The simulator replays the level's own send
times, so prediction and measurement see the same arrivals, and draws each request's prefill
and decode time from the pooled calibration requests' own spread (the median of 50 draws);
the prediction at the mean step times is kept beside it (``fixed``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import typer
from typer.testing import CliRunner

from llm_tco.bench import load_result
from llm_tco.bench.cli import register
from llm_tco.bench.predict import (
    Comparison,
    calibrate_steps,
    predict_level,
    service_seconds,
    service_spread,
)

PROMPT_WORDS, OUTPUT_TOKENS = 64, 32
CALIBRATION_REQUESTS = 24
LEVEL_SECONDS = 15.0
WARM_UP_REQUESTS = 12
MIN_LEVEL_REQUESTS = 30


def _bench(url: str, args: str, out: Path) -> object:
    app = typer.Typer()
    register(app)
    command = [
        "bench",
        "--endpoint",
        url,
        "--model",
        "tiny",
        *args.split(),
        "--input-len",
        str(PROMPT_WORDS),
        "--output-len",
        str(OUTPUT_TOKENS),
        "--quiet",
        "-o",
        str(out),
    ]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    return load_result(out)


@dataclass(frozen=True)
class Validation:
    """One level predicted with the calibration's service-time spread and without it."""

    drawn: Comparison
    fixed: Comparison


def validate(url: str, fractions: tuple[float, ...], folder: Path) -> list[Validation]:
    """One validation per load fraction of the calibrated saturation rate."""
    comparisons = []
    # A fresh server's first requests are slower (allocation, page faults, cold caches): run
    # and discard a few so the first calibration measures the server as the levels see it.
    _bench(url, f"--concurrency 1 --requests {WARM_UP_REQUESTS}", folder / "warm-up.json")
    for index, fraction in enumerate(fractions):
        calibrate = f"--concurrency 1 --requests {CALIBRATION_REQUESTS}"
        before = _bench(url, calibrate, folder / f"before-{index}.json").levels[0]  # type: ignore[attr-defined]
        steps = calibrate_steps(before)
        rate = fraction / service_seconds(steps, PROMPT_WORDS, OUTPUT_TOKENS)
        count = max(MIN_LEVEL_REQUESTS, round(rate * LEVEL_SECONDS))
        level = _bench(  # type: ignore[attr-defined]
            url, f"--rate {rate:.4f} --requests {count}", folder / f"level-{index}.json"
        ).levels[0]
        after = _bench(url, calibrate, folder / f"after-{index}.json").levels[0]  # type: ignore[attr-defined]
        pooled = before.model_copy(update={"requests": before.requests + after.requests})
        # Both runs last about as long: the pooled throughput is the mean of the two.
        steps = calibrate_steps(pooled)
        service = service_seconds(steps, PROMPT_WORDS, OUTPUT_TOKENS)
        drawn = predict_level(steps, level, service, service_spread(pooled))
        comparisons.append(Validation(drawn, predict_level(steps, level, service)))
    return comparisons


def pin_cores() -> tuple[set[int] | None, set[int] | None]:
    """(server cores, client cores): one each where the machine has two or more."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return None, None
    return {cores[0]}, set(cores[1:])


def raise_priority(niceness: int = -15) -> bool:
    """Run this process (and the server it starts) ahead of the machine's other work, where
    allowed (root): a latency measurement on a shared CPU otherwise records other people's
    bursts of work as the server's stalls. Returns whether the priority was raised."""
    try:
        os.nice(niceness)
    except (PermissionError, OSError):
        return False
    return True


def table(validations: list[Validation]) -> str:
    rows = [
        "| rate req/s | load | requests | TTFT p50 measured / predicted ms | TTFT p99 measured "
        "/ predicted ms (error) | TTFT p99 at fixed service ms (error) | TPOT mean measured / "
        "predicted ms (error) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for v in validations:
        c, m, p = v.drawn, v.drawn.measured, v.drawn.predicted
        rows.append(
            f"| {c.rate:.2f} | {c.utilisation:.2f} | {c.requests} | {m['ttft_p50']:.1f} / "
            f"{p['ttft_p50']:.1f} | {m['ttft_p99']:.1f} / {p['ttft_p99']:.1f} "
            f"({c.error('ttft_p99'):+.0%}) | {v.fixed.predicted['ttft_p99']:.1f} "
            f"({v.fixed.error('ttft_p99'):+.0%}) | {m['tpot_mean']:.2f} / {p['tpot_mean']:.2f} "
            f"({c.error('tpot_mean'):+.0%}) |"
        )
    return "\n".join(rows)


def as_json(validations: list[Validation]) -> str:
    return json.dumps(
        [{"drawn": v.drawn.__dict__, "fixed": v.fixed.__dict__} for v in validations], indent=2
    )
