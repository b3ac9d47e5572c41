"""Fixed-count runs (ramp-up and tail) and the TensorRT-LLM KV-cache budget. Expected figures are
worked out by hand; the measurement rows are checked against what their notes quote."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from capacity_toys import toy_factors, toy_replica

from llm_tco.catalog.loader import load_catalog
from llm_tco.core.capacity import (
    Factors,
    Replica,
    burst_output_tps,
    rate_run_output_tps,
    steady_state,
)
from llm_tco.core.memory import RUNTIME_RESERVE_GB_PER_GPU, plan_memory

STEP_S = 0.01  # every step costs 10 ms and nothing else


def _overhead_only() -> tuple[Replica, Factors]:
    """A deployment whose every step takes STEP_S whatever it carries (no bytes, no FLOPs)."""
    return toy_replica(), toy_factors(step_overhead_s=STEP_S)


def _burst(requests: float, running: float, variable: bool) -> float:
    r, f = _overhead_only()
    # Steady state at `running` in flight: one step of 10 ms per token of each sequence.
    steady = steady_state(r, f, 100.0, 50.0, 125.0, np.array([running]), 8192.0)
    assert steady.output_tokens_per_second[0] == pytest.approx(running / STEP_S)
    out = burst_output_tps(
        r,
        f,
        input_tokens=100.0,
        output_tokens=50.0,
        decode_context=125.0,
        running=np.array([running]),
        token_budget=8192.0,
        requests=np.array([requests]),
        variable_lengths=variable,
        steady_output_tps=steady.output_tokens_per_second,
    )
    return float(out[0])


def test_one_wave_of_fixed_lengths_pays_its_prefill_steps_then_o_steps() -> None:
    # 100 prompts of 100 tokens = 10,000 prompt tokens: ceil(10,000 / 8,192) = 2 prefill
    # steps, then 50 decode steps: 52 x 10 ms = 0.52 s for 100 x 50 = 5,000 tokens.
    assert _burst(100, 100, variable=False) == pytest.approx(5000 / 0.52, rel=1e-9)


def test_variable_lengths_drain_until_the_longest_of_them() -> None:
    # Exponential output lengths with mean 50: the longest of 100 lasts 50 x H_100 ~
    # 50 x (ln 100 + 0.5772) = 259.1 steps; with 2 prefill steps the run takes 2.611 s.
    expected = 5000 / ((2 + 50 * (math.log(100) + 0.5772156649)) * STEP_S)
    assert _burst(100, 100, variable=True) == pytest.approx(expected, rel=1e-6)
    # ... about a fifth of the same run with fixed lengths (1,915 vs 9,615 tokens/s).
    assert _burst(100, 100, variable=True) < 0.25 * _burst(100, 100, variable=False)


def test_requests_beyond_the_running_limit_pass_at_the_steady_rate() -> None:
    # 300 requests, 100 run at once: the 200 queued ones pass at the steady 100 tokens / 10 ms
    # = 10,000 tokens/s (1.0 s for their 10,000 tokens), then the last wave as above (0.52 s).
    assert _burst(300, 100, variable=False) == pytest.approx(300 * 50 / 1.52, rel=1e-9)
    # Longer runs approach the steady state from below.
    assert _burst(100, 100, False) < _burst(300, 100, False) < _burst(30_000, 100, False) < 1e4


def test_trtllm_takes_its_kv_cache_from_the_memory_the_weights_leave() -> None:
    # TensorRT-LLM's perf overview v0.17 ran Llama 3.1 70B FP8 on one H100 SXM 80 GB. With
    # vLLM's rule (0.9 x 80 GB = 72 GB for weights + reserve + KV) the ~72.7 GB of FP8 weights
    # (16-bit embedding and head) leave no cache; TensorRT-LLM gives the KV cache 0.9 of what
    # the weights and the 2 GiB runtime reserve leave: 0.9 x (80 - 2.147 - weights).
    catalog = load_catalog()
    arch, h100 = catalog.model("llama-3.1-70b"), catalog.gpu("h100-sxm-80gb")
    vllm = plan_memory(arch, h100, "fp8", "fp8", 1, 2048, engine="vllm")
    trt = plan_memory(arch, h100, "fp8", "fp8", 1, 2048, engine="trtllm")
    assert not vllm.fits
    assert trt.fits
    expected = 0.9 * (80 - RUNTIME_RESERVE_GB_PER_GPU - trt.weights_gb)
    assert trt.kv_cache_gb == pytest.approx(expected, rel=1e-9)
    assert 4.0 < trt.kv_cache_gb < 5.0
    # No engine named: vLLM's rule, as before.
    assert plan_memory(arch, h100, "fp8", "fp8", 1, 2048).kv_cache_gb == vllm.kv_cache_gb


def test_rows_that_state_a_prompt_count_carry_it() -> None:
    # "1000 prompts sent at once" in a row's notes is the run's request count.
    said = re.compile(r"(\d[\d,]*) prompts sent at once")
    rows = [b for b in load_catalog().benchmarks if said.search(b.notes or "")]
    assert len(rows) >= 100
    for row in rows:
        match = said.search(row.notes or "")
        assert match is not None
        assert row.num_requests == int(match.group(1).replace(",", "")), row.id


def _rate_run(requests: float, rate: float, running: float) -> float:
    r, f = _overhead_only()
    one = np.array
    steady = steady_state(r, f, 100.0, 100.0, 150.0, one([running]), 8192.0)
    out = rate_run_output_tps(
        r,
        f,
        one([100.0]),
        one([100.0]),
        one([150.0]),
        one([running]),
        one([8192.0]),
        one([requests]),
        one([rate]),
        steady.output_tokens_per_second,
    )
    return float(out[0])


def test_request_rate_run_adds_the_last_requests_latency() -> None:
    # Every step 10 ms, outputs of 100 tokens: a request takes 100 x 10 ms = 1 s whatever the
    # batch; 100 sequences in flight at most, so the capacity is 100 / 10 ms = 10,000 tok/s.
    # 100 requests at 1/s (100 tok/s offered, far below capacity): sent over 100 s, the last
    # one done 1 s later: 100 x 100 / 101 s = 99.01 tok/s, not the 100 offered.
    assert _rate_run(100.0, 1.0, 100.0) == pytest.approx(10_000 / 101, rel=1e-6)
    # 100 requests at 1,000/s (100,000 tok/s offered): the queue, not the sends, sets the pace:
    # 100 x 100 tokens at 10,000 tok/s = 1 s, then the last wave's 1 s: 5,000 tok/s.
    assert _rate_run(100.0, 1000.0, 100.0) == pytest.approx(5_000, rel=1e-6)


def test_a_rate_run_has_no_jump_where_the_load_reaches_capacity() -> None:
    # Steps cost max(10 ms, n x 0.02 ms) for n tokens (10 GB read at 1 TB/s, 2e10 FLOPs a token
    # at 1e15 FLOP/s), so TPOT grows with the batch past 500 sequences; up to 2,000 run at once.
    # A load 0.1% under capacity holds nearly all 2,000 in flight, as a saturated run does, so
    # the two runs' output differs by about the 0.1% of load between them, not by the last
    # request's latency at 1 sequence against 2,000.
    r = toy_replica(dense_bytes=1e10, dense_flops_per_token=2e10)
    f = toy_factors()
    one = np.array
    running = one([2000.0])
    steady = steady_state(r, f, 100.0, 100.0, 150.0, running, 8192.0)
    capacity_rate = float(steady.output_tokens_per_second[0]) / 100.0

    def run(rate: float) -> float:
        return float(
            rate_run_output_tps(
                r,
                f,
                one([100.0]),
                one([100.0]),
                one([150.0]),
                running,
                one([8192.0]),
                one([5000.0]),
                one([rate]),
                steady.output_tokens_per_second,
            )[0]
        )

    below, above = run(capacity_rate * 0.999), run(capacity_rate * 1.001)
    assert below == pytest.approx(above, rel=0.01)
