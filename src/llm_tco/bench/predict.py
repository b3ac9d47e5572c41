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

import math
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


def _compare(
    levels: list[tuple[LevelResult, float]], replays: list[_Replay], predicted: dict[str, float]
) -> Comparison:
    """The predicted statistics beside the measured ones of the levels pooled; each level
    comes with one request's service time alone (its load is offered rate x that)."""
    counts = np.array([replay.arrivals_s.size for replay in replays], dtype=np.float64)
    loads = np.array(
        [
            replay.offered_per_s * service_s
            for (_, service_s), replay in zip(levels, replays, strict=True)
        ]
    )
    rates = [level.rate for level, _ in levels]
    return Comparison(
        label=levels[0][0].label,
        rate=None if None in rates else statistics.fmean(r for r in rates if r is not None),
        requests=int(counts.sum()),
        utilisation=float(np.average(loads, weights=counts)),
        predicted=predicted,
        measured=_stats(
            np.concatenate([replay.measured_ttft_s for replay in replays]),
            np.concatenate([replay.measured_tpot_s for replay in replays]),
        ),
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
    return _compare(
        [(segment.level, segment.service_s) for segment in segments], replays, predicted
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


# --- a one-at-a-time server whose service depends on how a request finds it --------------------


MIN_PREFILL_S = 1e-4


def fcfs_service(level: LevelResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(prefill s, decode step s, queued) of each completed request of a server that runs one
    request at a time. Requests are taken in the order the server served them (of their first
    tokens: two sent within a millisecond may be served either way round); a request's service
    starts when it arrives or when the one served before it ends, whichever is later, so its
    prefill is its first token's time less that start, and it was queued when it arrived
    before that one ended. Requests with a single output token (no decode step) are left out.

    A request's end is when its last byte reached the client, a millisecond or so after the
    server let go of it, so a queued request's first token can come in just before the one
    ahead ends (3 of 2,188 queued requests in one validation run, by up to 3.5 ms): its prefill
    is floored at ``MIN_PREFILL_S``."""
    done = sorted(
        (r for r in level.requests if r.ok and r.first_token_s is not None),
        key=lambda r: r.first_token_s or 0.0,
    )
    prefill, decode, queued = [], [], []
    previous_end = -math.inf
    for r in done:
        assert r.first_token_s is not None
        if r.tpot_ms is not None:
            prefill.append(max(r.first_token_s - max(r.start_s, previous_end), MIN_PREFILL_S))
            decode.append(r.tpot_ms / 1e3)
            queued.append(r.start_s < previous_end)
        previous_end = r.end_s
    return np.array(prefill), np.array(decode), np.array(queued, dtype=bool)


@dataclass(frozen=True)
class ArrivalService:
    """Measured per-request service of a one-at-a-time server, by how the request found it:
    ``idle`` (it arrived after the one before ended: from a run whose requests are spaced
    apart) or ``queued`` (it waited behind another: from a closed loop at concurrency 2, where
    each request is sent while the other runs). Each is (prefill s, decode step s) per request.

    The two differ on a server whose front end (HTTP parsing, tokenisation) runs beside the
    model: a queued request is read while the one ahead runs and starts its prompt at once,
    while an arrival at an idle server pays its front end, and the process's wake-up, in full
    (on llama-cpp-python's server with the test suite's tiny model: ~18 against ~9 ms to the
    first token, benchmarks/batchsim_results.md)."""

    idle_prefill_s: np.ndarray
    idle_decode_s: np.ndarray
    queued_prefill_s: np.ndarray
    queued_decode_s: np.ndarray

    @classmethod
    def measure(cls, idle: list[LevelResult], queued: list[LevelResult]) -> ArrivalService:
        """From spaced-apart runs (``idle``) and concurrency-2 runs (``queued``); each class
        keeps only the requests that found the server as its name says."""
        arrays: dict[bool, tuple[np.ndarray, np.ndarray]] = {}
        for want, levels, name, flag in (
            (False, idle, "idle", "spaced-apart"),
            (True, queued, "queued", "--concurrency 2"),
        ):
            measured = [fcfs_service(level) for level in levels]
            pre = [p[q == want] for p, _, q in measured]
            dec = [d[q == want] for _, d, q in measured]
            if sum(p.size for p in pre) == 0:
                raise BenchError(
                    f"no {name} request to measure the {name} service on",
                    hint=f"run a {flag} level with --output-len 8 or more",
                )
            arrays[want] = (np.concatenate(pre), np.concatenate(dec))
        return cls(*arrays[False], *arrays[True])

    def means(self) -> tuple[float, float, float, float]:
        return (
            float(self.idle_prefill_s.mean()),
            float(self.idle_decode_s.mean()),
            float(self.queued_prefill_s.mean()),
            float(self.queued_decode_s.mean()),
        )


@dataclass(frozen=True)
class ArrivalSegment:
    """One measured open-loop level, the arrival service measured around it (its means set the
    level's speed) and one request's service time alone (for the utilisation)."""

    service: ArrivalService
    level: LevelResult
    service_s: float


# A request's class depends on the simulated finish of the one before it, which depends on the
# classes: the simulation is repeated until no request changes class (a handful of passes).
MAX_CLASS_PASSES = 50


def predict_by_arrival(
    segments: list[ArrivalSegment],
    spread: ArrivalService,
    draws: int = 50,
    seed: int = 0,
) -> Comparison:
    """Replay each segment's requests (send times, lengths) through a one-at-a-time server
    whose every request draws its (prefill, decode step) from the class it finds the server in:
    idle or queued (``ArrivalService``). A draw takes each class's per-request spread from
    ``spread`` (every calibration of the load pooled, each request's times over its class
    mean) at the segment's own class means (the calibrations around it), so a request slow
    in its prompt stays slow in its decode, and the machine's drift between segments is
    followed. Whether a request finds the server busy is decided by the simulation itself,
    repeated until no request changes class. Each statistic is the median over ``draws``."""
    if not segments:
        raise BenchError("no measured level to compare")
    replays = [_replay(segment.level) for segment in segments]
    i_pre, i_dec, q_pre, q_dec = spread.means()
    scales = (
        (spread.idle_prefill_s / i_pre, spread.idle_decode_s / i_dec),
        (spread.queued_prefill_s / q_pre, spread.queued_decode_s / q_dec),
    )

    def simulated(draw: int) -> dict[str, float]:
        ttft, tpot = [], []
        for index, (segment, replay) in enumerate(zip(segments, replays, strict=True)):
            n = replay.arrivals_s.size
            rng = np.random.default_rng(seed + draw * len(segments) + index)
            means = segment.service.means()
            # per request: (prefill, decode) if it finds the server idle, and if queued
            drawn = []
            for (pre_scale, dec_scale), mean_pre, mean_dec in zip(
                scales, means[0::2], means[1::2], strict=True
            ):
                pick = rng.integers(0, pre_scale.size, n)
                drawn.append((mean_pre * pre_scale[pick], mean_dec * dec_scale[pick]))
            (idle_pre, idle_dec), (queued_pre, queued_dec) = drawn
            steps = measured_step_times(1.0, 1.0, float(np.mean(replay.prompts)))
            prompt_s = np.array([steps.seconds(0, p) for p in replay.prompts])
            queued = np.zeros(n, dtype=bool)
            for _ in range(MAX_CLASS_PASSES):
                sim = simulate(
                    steps,
                    replay.arrivals_s,
                    replay.prompts,
                    replay.outputs,
                    prefill_scale=np.where(queued, queued_pre, idle_pre) / prompt_s,
                    decode_scale=np.where(queued, queued_dec, idle_dec),
                )
                now = np.zeros(n, dtype=bool)
                now[1:] = replay.arrivals_s[1:] < np.maximum.accumulate(sim.finish_s)[:-1]
                if np.array_equal(now, queued):
                    break
                queued = now
            ttft.append(sim.ttft_s)
            tpot.append(sim.tpot_s)
        return _stats(np.concatenate(ttft), np.concatenate(tpot))

    runs = [simulated(draw) for draw in range(draws)]
    predicted = {key: float(np.median([run[key] for run in runs])) for key in runs[0]}
    return _compare(
        [(segment.level, segment.service_s) for segment in segments], replays, predicted
    )
