"""Predict a measured open-loop level with the batching simulator, from a closed-loop level.

A run at a fixed concurrency gives the per-step times (``calibrate_steps``); the simulator then
replays another level's own send times and output lengths through them (``predict_level``), so
the prediction and the measurement see the same arrivals and differ only by the model.
The fixed-concurrency run also gives the server's own spread of service times
(``service_spread``): each calibration request's TTFT and TPOT over their means. With it the
simulator draws every replayed request's prefill and decode time from that spread (a bootstrap)
and reports the median of each statistic over several draws.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import numpy as np

from llm_tco.bench.result import LevelResult
from llm_tco.core.batchsim import (
    StepTimes,
    bootstrap_scales,
    measured_step_times,
    simulate,
    statistic,
)
from llm_tco.errors import BenchError


def calibrate_steps(level: LevelResult, max_running: int = 1) -> StepTimes:
    """Step times of a server that runs ``max_running`` (1) request at a time, from a
    closed-loop level: the mean TPOT is a decode step. At concurrency 1 the mean TTFT is the
    prompt's prefill; at concurrency 2 or more the server is never idle, so one request's
    service time is 1 / throughput and the prefill is that less the decode steps,
    S - (O - 1) x TPOT (the TTFT there holds a wait). A server kept busy back to back is what
    an open-loop level near load sees: on a shared CPU a process that never sleeps gets only
    its fair share, while one that idles between requests is woken promptly, so calibrating
    at concurrency 2 matches loaded levels better than concurrency 1."""
    done = [r for r in level.requests if r.ok and r.first_token_s is not None]
    tpots = [r.tpot_ms for r in done if r.tpot_ms is not None]
    if not done or not tpots:
        raise BenchError(
            "the level has no completed request with two or more output tokens to calibrate on",
            hint="run a closed-loop level (e.g. --concurrency 2) with --output-len 8 or more",
        )
    prompt = statistics.fmean(r.input_tokens or 1 for r in done)
    tpot_s = statistics.fmean(tpots) / 1e3
    if (level.concurrency or 1) > 1 and max_running == 1:
        service_s = 1 / level.requests_per_second
        outputs = statistics.fmean(r.output_tokens for r in done)
        prefill_s = max(service_s - (outputs - 1) * tpot_s, tpot_s)
    else:
        prefill_s = statistics.fmean(r.ttft_ms or 0.0 for r in done) / 1e3
    return measured_step_times(tpot_s, prefill_s, prompt, max_running=max_running)


@dataclass(frozen=True)
class ServiceSpread:
    """Per-request service-time scales measured at a fixed concurrency, each of mean 1: a
    request's prefill time over the mean prefill, its TPOT over the mean TPOT."""

    prefill_scale: np.ndarray
    decode_scale: np.ndarray


def service_spread(level: LevelResult) -> ServiceSpread:
    """The spread of a closed-loop level's service times. At concurrency 1 a request's TTFT is
    its prefill (nobody waits), so prefill scale = TTFT / mean TTFT; at concurrency 2 or more
    the TTFT holds a wait, so only the decode spread is measured and prefills scale by 1.
    Requests with a single output token (no TPOT) are left out."""
    done = [r for r in level.requests if r.ok and r.first_token_s is not None and r.tpot_ms]
    if not done:
        raise BenchError(
            "the level has no completed request with two or more output tokens to calibrate on",
            hint="run a closed-loop level (e.g. --concurrency 1) with --output-len 8 or more",
        )
    tpot = np.array([r.tpot_ms for r in done], dtype=np.float64)
    ttft = np.array([r.ttft_ms or 0.0 for r in done], dtype=np.float64)
    if (level.concurrency or 1) > 1 or not np.all(ttft > 0):
        prefill = np.ones_like(tpot)
    else:
        prefill = ttft / ttft.mean()
    return ServiceSpread(prefill, tpot / tpot.mean())


@dataclass(frozen=True)
class Comparison:
    """Predicted and measured latencies of one level, milliseconds."""

    label: str
    rate: float | None  # planned requests/s
    requests: int
    utilisation: float  # offered load x mean service time of the calibration
    predicted: dict[str, float]  # ttft_p50, ttft_p99, tpot_mean, tpot_p50
    measured: dict[str, float]

    def error(self, key: str) -> float:
        """(predicted - measured) / measured."""
        return (self.predicted[key] - self.measured[key]) / self.measured[key]


def _stats(ttft_s: np.ndarray, tpot_s: np.ndarray) -> dict[str, float]:
    return {
        "ttft_p50": statistic(ttft_s, 50),
        "ttft_p99": statistic(ttft_s, 99),
        "tpot_mean": statistic(tpot_s, None),
        "tpot_p50": statistic(tpot_s, 50),
    }


@dataclass(frozen=True)
class Segment:
    """One measured open-loop level and the calibration that predicts it: its step times and
    one request's service time alone (for the utilisation)."""

    steps: StepTimes
    level: LevelResult
    service_s: float


@dataclass(frozen=True)
class _Replay:
    arrivals_s: np.ndarray
    prompts: np.ndarray
    outputs: np.ndarray
    measured_ttft_s: np.ndarray
    measured_tpot_s: np.ndarray
    offered_per_s: float


def _replay(level: LevelResult) -> _Replay:
    done = sorted(
        (r for r in level.requests if r.ok and r.first_token_s is not None),
        key=lambda r: r.start_s,
    )
    if not done:
        raise BenchError(f"level {level.label} has no completed request to compare")
    start = np.array([r.start_s for r in done])
    arrivals = start - start[0]
    span = float(arrivals[-1]) if arrivals.size > 1 else 0.0
    return _Replay(
        arrivals_s=arrivals,
        prompts=np.array([r.input_tokens or 1 for r in done], dtype=np.int64),
        outputs=np.array([max(r.output_tokens, 1) for r in done], dtype=np.int64),
        measured_ttft_s=np.array([(r.ttft_ms or 0.0) / 1e3 for r in done]),
        measured_tpot_s=np.array(
            [r.tpot_ms / 1e3 if r.tpot_ms is not None else np.nan for r in done]
        ),
        offered_per_s=(arrivals.size - 1) / span if span > 0 else 0.0,
    )


def predict_segments(
    segments: list[Segment],
    spread: ServiceSpread | None = None,
    draws: int = 50,
    seed: int = 0,
) -> Comparison:
    """Replay each segment's completed requests (their send times, prompt and output lengths)
    through its own step times, and set the latencies of all segments pooled beside the
    measured ones pooled: a p99 over several short levels, each predicted from the calibration
    taken around it, so a drift of the server's speed between segments is in both sides.

    With ``spread`` each of ``draws`` simulations gives every request a (prefill, decode) scale
    pair drawn from it (seeds ``seed``, ``seed + 1``, ...), and each predicted statistic is the
    median over the draws; without it one simulation at the mean step times."""
    if not segments:
        raise BenchError("no measured level to compare")
    replays = [_replay(segment.level) for segment in segments]

    def simulated(draw: int | None) -> dict[str, float]:
        ttft, tpot = [], []
        for index, (segment, replay) in enumerate(zip(segments, replays, strict=True)):
            pre: np.ndarray | None = None
            dec: np.ndarray | None = None
            if spread is not None and draw is not None:
                pre, dec = bootstrap_scales(
                    spread.prefill_scale,
                    spread.decode_scale,
                    replay.arrivals_s.size,
                    seed + draw * len(segments) + index,
                )
            sim = simulate(
                segment.steps,
                replay.arrivals_s,
                replay.prompts,
                replay.outputs,
                prefill_scale=pre,
                decode_scale=dec,
            )
            ttft.append(sim.ttft_s)
            tpot.append(sim.tpot_s)
        return _stats(np.concatenate(ttft), np.concatenate(tpot))

    if spread is None:
        predicted = simulated(None)
    else:
        runs = [simulated(draw) for draw in range(draws)]
        predicted = {key: float(np.median([run[key] for run in runs])) for key in runs[0]}
    counts = np.array([replay.arrivals_s.size for replay in replays], dtype=np.float64)
    loads = np.array(
        [
            replay.offered_per_s * segment.service_s
            for segment, replay in zip(segments, replays, strict=True)
        ]
    )
    rates = [segment.level.rate for segment in segments]
    return Comparison(
        label=segments[0].level.label,
        rate=None if None in rates else statistics.fmean(r for r in rates if r is not None),
        requests=int(counts.sum()),
        utilisation=float(np.average(loads, weights=counts)),
        predicted=predicted,
        measured=_stats(
            np.concatenate([replay.measured_ttft_s for replay in replays]),
            np.concatenate([replay.measured_tpot_s for replay in replays]),
        ),
    )


def predict_level(
    steps: StepTimes,
    level: LevelResult,
    service_s: float,
    spread: ServiceSpread | None = None,
    draws: int = 50,
    seed: int = 0,
) -> Comparison:
    """One level alone: ``predict_segments`` of a single segment."""
    return predict_segments([Segment(steps, level, service_s)], spread, draws, seed)


def service_seconds(steps: StepTimes, prompt_tokens: float, output_tokens: int) -> float:
    """One request alone: its prompt, then a decode step per output token after the first."""
    return steps.seconds(0, prompt_tokens) + (output_tokens - 1) * steps.decode_seconds(1)
