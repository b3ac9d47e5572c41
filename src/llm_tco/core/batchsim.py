"""Continuous-batching simulator: TTFT and TPOT distributions of one replica at a request rate.

The capacity model (``llm_tco.core.capacity``) gives a replica's steady state at a fixed
concurrency, which is what a mean-latency target needs. Tail targets (p95, p99) depend on
queueing: requests arrive at random, bunch up, and wait for a batch slot or for the prompts
ahead of them. This module plays the arrivals through a scheduler like vLLM's:

- first come, first served; a request is admitted at a step boundary when the batch has a slot
  (at most ``max_running`` sequences, the KV-cache / engine limit of ``capacity.limits``) and,
  when ``kv_tokens`` is set, when the prompt + output tokens of all running sequences fit it;
- each step carries one token for every decoding sequence plus prompt tokens of admitted
  requests, oldest first, up to the step's token budget (chunked prefill);
- the step that processes the last chunk of a prompt emits its first token; every later step
  emits one more, so a request of O output tokens finishes O - 1 steps after its first token;
- a step of n decodes and p prompt tokens takes ``StepTimes.seconds(n, p)``, tabulated from the
  capacity model's ``stage_seconds`` (its physics, not a copy of it).

Between events (an admission, a prompt chunk, a completion) the batch does not change, so the
simulator jumps over runs of identical decode steps at once: its cost grows with the number of
requests, not of steps. Units: seconds, tokens, requests per second.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from llm_tco.catalog.schema import GpuSpec, ModelArch
from llm_tco.core.capacity import Efficiency, Factors, limits, replica, stage_seconds
from llm_tco.core.memory import Layout, kv_cached_tokens
from llm_tco.core.ratesearch import bisect_rate
from llm_tco.core.speculative import Speculation, expected_tokens_per_step

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

PREFILL_GRID_POINTS = 65  # prompt-token columns of the step-time table (linear in between)
WARMUP_SHARE = 0.05  # the first requests start on an empty server: left out of the statistics


@dataclass(frozen=True)
class StepTimes:
    """Seconds of one engine step by (decoding sequences, prompt tokens) in the step.

    ``table[n, j]`` is the step with ``n`` decodes and ``prefill_tokens[j]`` prompt tokens;
    between columns the time is interpolated linearly. ``token_budget`` is the most tokens
    (decodes + prompt) one step carries; ``max_running`` the most sequences in flight.
    """

    table: FloatArray  # shape (max_running + 1, len(prefill_tokens))
    prefill_tokens: FloatArray  # evenly spaced from 0, at least two columns
    token_budget: int
    max_running: int
    kv_tokens: float | None = None  # KV-cache capacity in tokens; None: only max_running limits

    def seconds(self, decodes: int, prompt_tokens: float) -> float:
        row = self.table[min(decodes, self.max_running)]
        return float(np.interp(prompt_tokens, self.prefill_tokens, row))

    def decode_seconds(self, decodes: int) -> float:
        return float(self.table[min(decodes, self.max_running), 0])


def deployment_step_times(
    arch: ModelArch,
    gpu: GpuSpec,
    precision: str,
    kv_precision: str,
    layout: Layout,
    input_tokens: float,
    output_tokens: float,
    efficiency: Efficiency,
    speculation: Speculation | None = None,
) -> StepTimes:
    """The step-time table of a deployment, from the capacity model's ``stage_seconds``.

    Decode attention reads the mean context of a sequence, as in ``capacity.steady_state``
    (prompt + half the output); prompt tokens attend to half the prompt on average (causal).
    With P pipeline stages a step of n decodes and p prompt tokens runs as P micro-batches of
    n / P and p / P, one per stage, so it takes P stage steps.

    With ``speculation`` a real step yields E tokens per decoding sequence
    (``speculative.expected_tokens_per_step``); the simulator still emits one token per step, so
    a step's decode part is 1 / E of a speculative step (verification of gamma extra tokens per
    sequence plus gamma draft passes, as in ``speculative.speculative_tpot``), and its prompt
    tokens cost what they cost on top of it (their marginal time, unchanged). Tensor-parallel
    layouts only (as ``speculative_capacity``).
    """
    lim = limits(
        arch, gpu, precision, kv_precision, layout, input_tokens, output_tokens, efficiency
    )
    r = replica(arch, gpu, precision, kv_precision, layout)
    f = Factors.of(efficiency)
    pp = float(layout.pipeline)
    context = kv_cached_tokens(arch, input_tokens + output_tokens / 2)
    decodes = np.arange(lim.running + 1, dtype=np.float64)[:, None]
    prompt = np.linspace(0.0, float(lim.token_budget), PREFILL_GRID_POINTS)
    seconds, _ = stage_seconds(
        r,
        f,
        np.broadcast_to(decodes / pp, (decodes.size, prompt.size)).copy(),
        prompt[None, :] / pp,
        context,
        input_tokens / 2,
    )
    table = np.asarray(seconds * pp, dtype=np.float64)
    if speculation is not None:
        if layout.pipeline != 1:
            raise ValueError("speculative decoding is modelled for tensor-parallel replicas")
        n = decodes[:, 0]
        g, c = speculation.draft_tokens, speculation.draft_cost_ratio
        verify, _ = stage_seconds(r, f, n, n * g, context, input_tokens / 2)
        e = expected_tokens_per_step(speculation.acceptance_rate, g)
        per_token = (verify + g * c * table[:, 0]) / e
        table[1:] += (per_token - table[:, 0])[1:, None]
    table[0, 0] = 0.0  # an empty step takes no time (the simulator never runs one)
    return StepTimes(table, prompt, lim.token_budget, lim.running)


def measured_step_times(
    decode_seconds: float,
    prefill_seconds: float,
    prompt_tokens: float,
    token_budget: int = 2048,
    max_running: int = 1,
) -> StepTimes:
    """Step times calibrated on a run at concurrency 1: a prompt of ``prompt_tokens`` alone
    takes ``prefill_seconds`` (the measured TTFT, linear in prompt tokens through the origin)
    and a decode step ``decode_seconds`` (the measured TPOT); a step carrying both takes their
    sum. Batching saves nothing here, so use it for ``max_running`` 1 (a server that runs one
    request at a time, as llama-cpp-python's does) or as a rough first guess."""
    per_prompt_token = prefill_seconds / max(prompt_tokens, 1.0)
    prompt = np.array([0.0, float(token_budget)])
    rows = decode_seconds + prompt[None, :] * per_prompt_token
    table = np.repeat(rows, max_running + 1, axis=0)
    table[0] = prompt * per_prompt_token
    return StepTimes(table, prompt, token_budget, max_running)


@dataclass(frozen=True)
class Latencies:
    """Per-request results of one simulation (seconds); NaN TPOT for one-token outputs."""

    arrival_s: FloatArray
    ttft_s: FloatArray
    tpot_s: FloatArray
    finish_s: FloatArray


def simulate(
    steps: StepTimes,
    arrival_s: FloatArray,
    input_tokens: IntArray | int,
    output_tokens: IntArray | int,
    closed_loop: int | None = None,
    prefill_scale: FloatArray | None = None,
    decode_scale: FloatArray | None = None,
) -> Latencies:
    """Play requests arriving at ``arrival_s`` (sorted, seconds) through one replica.

    With ``closed_loop`` C the arrival times are ignored: C clients each send their next
    request the moment their last one finishes (as ``vllm bench serve --max-concurrency C``
    with ``--request-rate inf`` does), starting all together at 0.

    ``prefill_scale`` and ``decode_scale`` (one per request, 1 = the table's time) make service
    times vary from request to request, as a real server's do: a step takes the table's time x
    the token-weighted mean scale of what it carries (each decoding sequence one token at its
    ``decode_scale``, each prompt chunk its tokens at its request's ``prefill_scale``). With a
    batch of one that is each request's own prefill and decode time scaled.
    """
    played, stopped = _play(
        steps, arrival_s, input_tokens, output_tokens, closed_loop, prefill_scale, decode_scale
    )
    assert not stopped  # only a miss budget stops a run early
    return played


@dataclass
class _MissBudget:
    """How many more counted requests may miss each target before the run cannot meet it
    (``math.inf``: no early stop for that target); limits in milliseconds."""

    ttft_limit_ms: float
    ttft_left: float
    tpot_limit_ms: float
    tpot_left: float


def _play(
    steps: StepTimes,
    arrival_s: FloatArray,
    input_tokens: IntArray | int,
    output_tokens: IntArray | int,
    closed_loop: int | None = None,
    prefill_scale: FloatArray | None = None,
    decode_scale: FloatArray | None = None,
    miss: _MissBudget | None = None,
    counted_from: int = 0,
) -> tuple[Latencies, bool]:
    """:func:`simulate` and whether it stopped early: with ``miss``, as soon as the requests
    from ``counted_from`` on have used up a target's budget (each one past its limit takes
    one); the latencies are then those known so far (NaN for the rest)."""
    count = int(arrival_s.size)
    prompts = np.broadcast_to(np.asarray(input_tokens, dtype=np.int64), (count,))
    outputs = np.broadcast_to(np.asarray(output_tokens, dtype=np.int64), (count,))
    scaled = prefill_scale is not None or decode_scale is not None
    ones = np.ones(count)
    pre_scale: list[float] = _per_request(prefill_scale, ones, "prefill_scale").tolist()
    dec_scale: list[float] = _per_request(decode_scale, ones, "decode_scale").tolist()
    decode_sum = 0.0  # sum of decode_scale over the decoding sequences
    arrivals: list[float] = np.asarray(arrival_s, dtype=np.float64).tolist()
    sent = count  # closed loop: requests given an arrival time so far
    if closed_loop is not None:
        sent = min(closed_loop, count)
        arrivals = [0.0] * sent + [math.inf] * (count - sent)
    prompt_list: list[int] = np.maximum(prompts, 1).tolist()
    output_list: list[int] = np.maximum(outputs, 1).tolist()
    first = [math.nan] * count
    finish = [math.nan] * count
    budget, cap, kv = steps.token_budget, steps.max_running, steps.kv_tokens
    rows: list[list[float]] = steps.table.tolist()
    decode_row = [row[0] for row in rows]
    # The prompt-token columns are evenly spaced from 0: interpolate by index arithmetic.
    per_column = 1.0 / float(steps.prefill_tokens[1])
    last_column = len(steps.prefill_tokens) - 2

    t = 0.0
    step = 0  # steps run so far: every decoding sequence emits one token per step
    decoding: list[tuple[int, int]] = []  # heap of (step of the last token, request)
    prefilling: deque[list[int]] = deque()  # [request, prompt tokens still to process]
    kv_used = 0.0
    following = 0  # the next request not yet admitted
    while following < count or decoding or prefilling:
        # Admit at this step boundary what has arrived, while a slot (and the KV) allows.
        kv_full = False
        while following < count and arrivals[following] <= t:
            if len(decoding) + len(prefilling) >= cap:
                break
            need = prompt_list[following] + output_list[following]
            if kv is not None and kv_used + need > kv and (decoding or prefilling):
                kv_full = True  # it waits for a sequence to finish and free its KV
                break
            kv_used += need
            prefilling.append([following, prompt_list[following]])
            following += 1
        if not decoding and not prefilling:
            t = max(t, arrivals[following])
            continue
        decodes = len(decoding)
        if prefilling:
            room = budget - decodes
            chunk = 0
            done: list[int] = []
            weighted = decode_sum  # scale x tokens of what the step carries
            for entry in prefilling:
                if room <= 0:
                    break
                take = entry[1] if entry[1] < room else room
                entry[1] -= take
                room -= take
                chunk += take
                if scaled:
                    weighted += take * pre_scale[entry[0]]
                if entry[1] == 0:
                    done.append(entry[0])
            row = rows[decodes]
            x = chunk * per_column
            j = min(int(x), last_column)
            dt = row[j] + (x - j) * (row[j + 1] - row[j]) if chunk else decode_row[decodes]
            t += dt * weighted / (decodes + chunk) if scaled else dt
            step += 1
            while prefilling and prefilling[0][1] == 0:
                prefilling.popleft()
            for index in done:
                first[index] = t
                if (
                    miss is not None
                    and index >= counted_from
                    and (t - arrivals[index]) * 1e3 > miss.ttft_limit_ms
                ):
                    miss.ttft_left -= 1
                    if miss.ttft_left <= 0:
                        return _latencies(arrivals, first, finish, outputs), True
                if output_list[index] == 1:
                    finish[index] = t
                    kv_used -= prompt_list[index] + 1
                    if sent < count:
                        arrivals[sent] = t
                        sent += 1
                else:
                    heapq.heappush(decoding, (step + output_list[index] - 1, index))
                    decode_sum += dec_scale[index]
        else:
            dt = decode_row[decodes] * decode_sum / decodes if scaled else decode_row[decodes]
            jump = decoding[0][0] - step
            if following < count and decodes < cap and not kv_full and following < sent:
                wait = math.ceil((arrivals[following] - t) / dt - 1e-12)
                if wait < jump:
                    jump = wait if wait > 1 else 1
            t += jump * dt
            step += jump
        while decoding and decoding[0][0] <= step:
            _, index = heapq.heappop(decoding)
            finish[index] = t
            if (
                miss is not None
                and index >= counted_from
                and (t - first[index]) / (output_list[index] - 1) * 1e3 > miss.tpot_limit_ms
            ):
                miss.tpot_left -= 1
                if miss.tpot_left <= 0:
                    return _latencies(arrivals, first, finish, outputs), True
            kv_used -= prompt_list[index] + output_list[index]
            decode_sum = decode_sum - dec_scale[index] if decoding else 0.0
            if sent < count:
                arrivals[sent] = t
                sent += 1
    return _latencies(arrivals, first, finish, outputs), False


def _latencies(
    arrivals: list[float], first: list[float], finish: list[float], outputs: IntArray
) -> Latencies:
    first_s, finish_s = np.array(first), np.array(finish)
    arrival_s = np.asarray(arrivals, dtype=np.float64)
    ttft = first_s - arrival_s
    tokens_after_first = outputs.astype(np.float64) - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        tpot = np.where(tokens_after_first > 0, (finish_s - first_s) / tokens_after_first, np.nan)
    return Latencies(arrival_s, ttft, tpot, finish_s)


def _per_request(scale: FloatArray | None, ones: FloatArray, name: str) -> FloatArray:
    if scale is None:
        return ones
    values = np.broadcast_to(np.asarray(scale, dtype=np.float64), ones.shape)
    if not np.all(np.isfinite(values) & (values > 0)):
        raise ValueError(f"{name} must be positive and finite for every request")
    return values


def bootstrap_scales(
    prefill_scale: FloatArray, decode_scale: FloatArray, count: int, seed: int = 0
) -> tuple[FloatArray, FloatArray]:
    """``count`` (prefill, decode) scale pairs drawn with replacement from measured pairs (one
    pair per calibration request, kept together so a request slow in both stays slow in both):
    the bootstrap of a server's own service-time spread."""
    if prefill_scale.size == 0 or prefill_scale.size != decode_scale.size:
        raise ValueError("need one prefill and one decode scale per measured request")
    pick = np.random.default_rng(seed).integers(0, prefill_scale.size, count)
    return (
        np.asarray(prefill_scale[pick], dtype=np.float64),
        np.asarray(decode_scale[pick], dtype=np.float64),
    )


# --- a fleet of replicas behind a router ------------------------------------------------------


# What the router does: send each request where the least work is left, to the replicas in
# turn, or to one drawn at random.
ROUTINGS = ("least-loaded", "round-robin", "random")


def route_least_loaded(arrival_s: FloatArray, work_s: FloatArray, replicas: int) -> IntArray:
    """The replica each request goes to when the router sends it where the least work is left:
    each replica's backlog (seconds of work routed to it and not yet done, drained at one
    second per second while it has any) is tracked, and a request joins the replica whose
    backlog ends first, adding its ``work_s``. With one request at a time and known service
    times this is a central first-come-first-served queue feeding ``replicas`` servers."""
    if work_s.size and np.all(work_s == work_s[0]) and work_s[0] > 0:
        turns = _equal_work_turns(arrival_s, float(work_s[0]), replicas)
        if turns is not None:
            return turns
    free_at = [(0.0, r) for r in range(replicas)]  # heap of (backlog ends, replica)
    route = np.empty(arrival_s.size, dtype=np.int64)
    for i, (t, work) in enumerate(zip(arrival_s.tolist(), work_s.tolist(), strict=True)):
        ends, r = heapq.heappop(free_at)
        route[i] = r
        heapq.heappush(free_at, (max(ends, t) + work, r))
    return route


def _equal_work_turns(arrival_s: FloatArray, work_s: float, replicas: int) -> IntArray | None:
    """The least-loaded route when every request brings the same work: the replicas in turn,
    unless two backlogs end at the same instant (then None; the heap decides the tie).

    Why: give request i to replica i mod c and let E_i be its backlog's end after it,
    max(E_{i-c}, t_i) + w. Arrivals are sorted and max and + never decrease, so E never
    decreases from one request to the next. When request i arrives, the backlogs end at
    E_{i-c} .. E_{i-1}; if E_{i-c} < E_{i-c+1} the one given request i-c ends strictly first,
    so the least-loaded router picks it too: the same replica. The first c requests find every
    backlog at 0 and take replicas 0 .. c-1 in order (the heap's tie rule)."""
    times: list[float] = arrival_s.tolist()
    ends = [0.0] * replicas + [0.0] * len(times)
    for i, t in enumerate(times):
        before = ends[i]  # E_{i-c}: 0 for the first c requests
        ends[i + replicas] = (before if before > t else t) + work_s
    after = np.asarray(ends[replicas:])
    if not np.all(after[1:] > after[:-1]):
        return None
    return np.arange(len(times), dtype=np.int64) % replicas


def simulate_fleet(
    steps: StepTimes,
    arrival_s: FloatArray,
    input_tokens: IntArray | int,
    output_tokens: IntArray | int,
    replicas: int,
    routing: str = "least-loaded",
    seed: int = 0,
    saturation_requests_per_second: float | None = None,
) -> Latencies:
    """Requests arriving at a router in front of ``replicas`` identical replicas, each then
    played through :func:`simulate`; results in arrival order.

    ``routing`` "random" sends each request to a replica drawn at random (each sees the
    stream thinned, the assumption of ``replicas_per_minute``); "round-robin" to the replicas
    in turn (each sees every ``replicas``-th arrival); "least-loaded" to the
    replica with the least work left (:func:`route_least_loaded`), a request's work being
    its tokens at the replica's saturation throughput (a least-outstanding-tokens router:
    exact for a one-at-a-time server and one request shape, an estimate under batching).
    ``saturation_requests_per_second``: that throughput when already known (else simulated).
    """
    played, stopped = _play_fleet(
        steps,
        arrival_s,
        input_tokens,
        output_tokens,
        replicas,
        routing,
        seed,
        saturation_requests_per_second,
        None,
    )
    assert not stopped  # only a target stops a run early
    return played


@dataclass(frozen=True)
class Trial:
    """One simulated load held against latency targets.

    ``margin``: how far over the targets it ran, the largest of statistic / target - 1 over
    the targets (at most 0 when it meets them; +inf when nothing is known), from the requests
    played before it stopped; ``latencies`` the full run when it meets the targets, else what
    was played (NaN for the rest)."""

    meets: bool
    margin: float
    latencies: Latencies


def fleet_trial(
    steps: StepTimes,
    arrival_s: FloatArray,
    input_tokens: IntArray | int,
    output_tokens: IntArray | int,
    slo: TailSlo,
    replicas: int = 1,
    routing: str = "least-loaded",
    seed: int = 0,
    saturation_requests_per_second: float | None = None,
) -> Trial:
    """:func:`simulate_fleet` held against ``slo``: ``meets`` is exactly
    ``meets(simulate_fleet(...), slo)``, and a run that meets the targets has exactly its
    latencies, but one that cannot stops early.

    A run stops as soon as so many requests past the warm-up (of all replicas together) have
    missed a percentile target that the percentile must miss it: numpy's linear percentile
    at q of N values is at least the sorted value at floor((N - 1) q), so N - floor((N - 1) q)
    misses put it over the target whatever the other requests do.
    """
    played, stopped = _play_fleet(
        steps,
        arrival_s,
        input_tokens,
        output_tokens,
        replicas,
        routing,
        seed,
        saturation_requests_per_second,
        slo,
    )
    ok = not stopped and meets(played, slo)
    return Trial(ok, _margin(played, slo), played)


def _margin(result: Latencies, slo: TailSlo) -> float:
    start = int(result.arrival_s.size * WARMUP_SHARE)
    checks = (
        (slo.ttft_ms, slo.ttft_percentile, result.ttft_s),
        (slo.tpot_ms, slo.tpot_percentile, result.tpot_s),
    )
    over = -math.inf
    for target, percentile, values in checks:
        if target is None:
            continue
        value = statistic(values[start:], percentile)
        over = max(over, value / target - 1 if math.isfinite(value) else math.inf)
    return over


def _play_fleet(
    steps: StepTimes,
    arrival_s: FloatArray,
    input_tokens: IntArray | int,
    output_tokens: IntArray | int,
    replicas: int,
    routing: str,
    seed: int,
    saturation_requests_per_second: float | None,
    slo: TailSlo | None,
) -> tuple[Latencies, bool]:
    """:func:`simulate_fleet`; with ``slo``, stopped (True) once a target cannot be met."""
    if routing not in ROUTINGS:
        raise ValueError(f"routing must be one of {', '.join(ROUTINGS)}")
    if replicas < 1:
        raise ValueError("a fleet needs at least one replica")
    count = int(arrival_s.size)
    prompts = np.broadcast_to(np.asarray(input_tokens, dtype=np.int64), (count,))
    outputs = np.broadcast_to(np.asarray(output_tokens, dtype=np.int64), (count,))
    if replicas == 1:
        route = np.zeros(count, dtype=np.int64)
    elif routing == "random":
        route = np.random.default_rng(seed).integers(0, replicas, count)
    elif routing == "round-robin":
        route = np.arange(count, dtype=np.int64) % replicas
    else:
        tokens = (np.maximum(prompts, 1) + np.maximum(outputs, 1)).astype(np.float64)
        shape_in, shape_out = int(np.mean(prompts)) or 1, int(np.mean(outputs)) or 1
        saturation = saturation_requests_per_second or saturation_rate(steps, shape_in, shape_out)
        per_token_s = 1.0 / (saturation * (shape_in + shape_out))
        route = route_least_loaded(
            np.asarray(arrival_s, dtype=np.float64), tokens * per_token_s, replicas
        )
    start = int(count * WARMUP_SHARE)  # the warm-up, as meets() leaves it out
    miss = None if slo is None else _miss_budget(slo, count - start, outputs[start:])
    ttft, tpot, finish = np.full(count, np.nan), np.full(count, np.nan), np.full(count, np.nan)
    stopped = False
    for r in range(replicas):
        mine = np.flatnonzero(route == r)
        if mine.size == 0:
            continue
        counted_from = int(np.searchsorted(mine, start))
        part, stopped = _play(
            steps,
            arrival_s[mine],
            prompts[mine],
            outputs[mine],
            miss=miss,
            counted_from=counted_from,
        )
        ttft[mine], tpot[mine], finish[mine] = part.ttft_s, part.tpot_s, part.finish_s
        if stopped:
            break
    return Latencies(np.asarray(arrival_s, dtype=np.float64), ttft, tpot, finish), stopped


def _miss_budget(slo: TailSlo, kept: int, kept_outputs: IntArray) -> _MissBudget:
    """The misses each percentile target allows among the ``kept`` requests past the warm-up
    (a mean target, or none, never stops a run early). TPOT counts requests of two or more
    output tokens, as :func:`meets` does (the others have none)."""

    def allowed(target_ms: float | None, percentile: float | None, values: int) -> float:
        if target_ms is None or percentile is None or values == 0:
            return math.inf
        # numpy's linear percentile: virtual index (N - 1) q, at least the value at its floor
        return float(values - math.floor((values - 1) * (percentile / 100)))

    ttft_left = allowed(slo.ttft_ms, slo.ttft_percentile, kept)
    tpot_values = int(np.count_nonzero(kept_outputs > 1))
    tpot_left = allowed(slo.tpot_ms, slo.tpot_percentile, tpot_values)
    return _MissBudget(
        slo.ttft_ms if ttft_left < math.inf and slo.ttft_ms is not None else math.inf,
        ttft_left,
        slo.tpot_ms if tpot_left < math.inf and slo.tpot_ms is not None else math.inf,
        tpot_left,
    )


# --- arrivals ---------------------------------------------------------------------------------


def unit_gaps(count: int, burstiness: float = 1.0, seed: int = 0) -> FloatArray:
    """Inter-arrival gaps of mean 1 (divide by the rate): gamma-distributed with coefficient of
    variation ``burstiness`` (shape 1 / burstiness^2). 1 is Poisson (exponential gaps); above 1
    requests come in bursts with lulls between, at the same mean rate."""
    if burstiness <= 0:
        raise ValueError("burstiness (coefficient of variation of the gaps) must be positive")
    rng = np.random.default_rng(seed)
    shape = 1.0 / burstiness**2
    return np.asarray(rng.gamma(shape, 1.0 / shape, count), dtype=np.float64)


def arrivals_at(rate_per_s: float, gaps: FloatArray) -> FloatArray:
    """Arrival times (s) at ``rate_per_s`` from unit gaps; the first request arrives at 0."""
    times = np.cumsum(gaps) / rate_per_s
    return np.asarray(times - times[0], dtype=np.float64)


# --- percentiles and the rate that meets them ---------------------------------------------------


@dataclass(frozen=True)
class Tail:
    """Latency statistics of one simulated load, milliseconds."""

    requests_per_second: float
    ttft_ms: dict[str, float]  # mean, p50, p90, p95, p99
    tpot_ms: dict[str, float]


PERCENTILES = (50.0, 90.0, 95.0, 99.0)


def statistic(values_s: FloatArray, percentile: float | None) -> float:
    """Mean (``percentile`` None) or the percentile of ``values_s``, in milliseconds."""
    finite = values_s[np.isfinite(values_s)]
    if finite.size == 0:
        return math.nan
    if percentile is None:
        return float(np.mean(finite)) * 1e3
    return float(np.percentile(finite, percentile)) * 1e3


def tail(result: Latencies, rate_per_s: float) -> Tail:
    """Mean and p50/p90/p95/p99 of TTFT and TPOT, without the warm-up requests."""
    start = int(result.arrival_s.size * WARMUP_SHARE)

    def summary(values: FloatArray) -> dict[str, float]:
        kept = values[start:]
        out = {"mean": statistic(kept, None)}
        out.update({f"p{p:g}": statistic(kept, p) for p in PERCENTILES})
        return out

    return Tail(rate_per_s, summary(result.ttft_s), summary(result.tpot_s))


@dataclass(frozen=True)
class TailSlo:
    """Latency targets, each at a percentile (None: the mean) or absent (target None)."""

    ttft_ms: float | None = None
    ttft_percentile: float | None = None
    tpot_ms: float | None = None
    tpot_percentile: float | None = None


def meets(result: Latencies, slo: TailSlo) -> bool:
    start = int(result.arrival_s.size * WARMUP_SHARE)
    checks = (
        (slo.ttft_ms, slo.ttft_percentile, result.ttft_s),
        (slo.tpot_ms, slo.tpot_percentile, result.tpot_s),
    )
    for target, percentile, values in checks:
        if target is None:
            continue
        value = statistic(values[start:], percentile)
        if not value <= target:  # NaN (nothing finished) fails
            return False
    return True


def saturation_rate(steps: StepTimes, input_tokens: int, output_tokens: int) -> float:
    """Requests/s one replica completes with a queue that never empties: a backlog of requests
    all waiting at once, timed over the middle half of their completions (past the start-up,
    before the drain)."""
    count = max(200, 8 * steps.max_running)
    finish = np.sort(simulate(steps, np.zeros(count), input_tokens, output_tokens).finish_s)
    low, high = count // 4, (3 * count) // 4
    return float((high - low) / (finish[high] - finish[low]))


@dataclass(frozen=True)
class RateAtSlo:
    """The highest request rate one replica carries while meeting a :class:`TailSlo`."""

    requests_per_second: float  # 0 when even a trickle misses the target
    saturation_requests_per_second: float
    at_rate: Tail | None  # the latencies simulated at that rate
    requests_simulated: int
    burstiness: float


def rate_at_slo(
    steps: StepTimes,
    input_tokens: int,
    output_tokens: int,
    slo: TailSlo,
    burstiness: float = 1.0,
    requests: int = 4000,
    seed: int = 0,
    tolerance: float = 0.01,
) -> RateAtSlo:
    """Bisect the arrival rate for the highest one whose simulated latencies meet ``slo``.

    Every trial replays the same unit gaps scaled to its rate (common random numbers), so the
    search sees a latency curve that rises with the rate rather than sampling noise. The rate
    is found to ``tolerance`` x the saturation rate; the answer is the highest rate tried that
    meets the target (conservative). The bisection's trials are found in fewer simulations
    (``ratesearch.bisect_rate``), and a trial that cannot meet the target stops early
    (:func:`fleet_trial`).
    """
    saturation = saturation_rate(steps, input_tokens, output_tokens)
    gaps = unit_gaps(requests, burstiness, seed)

    def run(rate: float) -> Trial:
        return fleet_trial(steps, arrivals_at(rate, gaps), input_tokens, output_tokens, slo)

    near = saturation * 0.999
    top = run(near)
    if top.meets:
        rate, found = near, top
    else:
        rate, at = bisect_rate(0.0, saturation, tolerance * saturation, run, known={near: top})
        if at is None:
            return RateAtSlo(0.0, saturation, None, requests, burstiness)
        found = at
    return RateAtSlo(rate, saturation, tail(found.latencies, rate), requests, burstiness)


def replicas_per_minute(
    requests_per_minute: npt.ArrayLike,
    requests_per_second_per_replica: float,
    min_replicas: int = 1,
) -> IntArray:
    """Replicas each minute needs so that none carries more than its rate at the SLO.

    With requests spread at random over identical replicas, each sees a thinned arrival stream
    at the fleet rate / replicas, and its latency percentiles are the fleet's; so the count is
    ceil(rate / rate at SLO per replica). Minutes are sized independently (a queue built up in
    one minute is not carried into the next), which holds while minutes are long against
    requests (a minute of 10-second requests is six request lifetimes).
    """
    rate = np.asarray(requests_per_minute, dtype=np.float64) / 60.0
    if requests_per_second_per_replica <= 0:
        raise ValueError("a replica that meets the SLO at no rate cannot be sized for traffic")
    needed = np.ceil(rate / requests_per_second_per_replica - 1e-9)
    return np.maximum(needed, min_replicas).astype(np.int64)
