"""Speculative decoding: the expected-accepted-tokens formula and its effect on TPOT, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from llm_tco.catalog.loader import load_catalog
from llm_tco.core.capacity import Efficiency, Factors, Slo, replica, replica_capacity
from llm_tco.core.memory import kv_cached_tokens, plain_tp
from llm_tco.core.speculative import (
    Speculation,
    expected_tokens_per_step,
    memory_bound_speedup,
    speculative_capacity,
    speculative_tpot,
)

IDEAL = Efficiency("ideal", 1.0, 1.0, 1.0, 1.0, max_batch_size=100_000, allreduce_latency_us=0.0)


def test_expected_tokens_by_hand() -> None:
    # Leviathan et al. 2023 eq. (1): alpha 0.8, gamma 4: (1 - 0.8^5) / 0.2
    # = (1 - 0.32768) / 0.2 = 3.3616. alpha 0: only the target's own token, 1.
    assert expected_tokens_per_step(0.8, 4) == pytest.approx(3.3616)
    assert expected_tokens_per_step(0.0, 4) == 1.0
    assert expected_tokens_per_step(1.0, 4) == 5.0
    # The paper's Table/Figure example: alpha 0.6, gamma 5 -> (1 - 0.6^6) / 0.4 = 2.3834.
    assert expected_tokens_per_step(0.6, 5) == pytest.approx(2.3834, rel=1e-4)


def test_memory_bound_tpot_matches_the_papers_speedup() -> None:
    # Llama-3.1-8B bf16 on H100 SXM at one sequence, bare roofline: a decode step reads
    # 15.075 GB -> 4.500 ms (test_capacity's hand-worked figure). Verifying 4 draft tokens reads
    # the same weights (memory-bound), 4 draft passes cost 4 x 0.05 x 4.500 = 0.900 ms: a step
    # of 5.400 ms yields 3.3616 tokens -> TPOT 1.606 ms, a 2.80x speed-up = E / (gamma c + 1)
    # = 3.3616 / 1.2.
    catalog = load_catalog()
    arch, gpu = catalog.model("llama-3.1-8b"), catalog.gpu("h100-sxm-80gb")
    r = replica(arch, gpu, "bf16", "bf16", plain_tp(1))
    spec = Speculation(acceptance_rate=0.8, draft_tokens=4, draft_cost_ratio=0.05)
    context = kv_cached_tokens(arch, 1 + 1000 / 2)
    tpot = speculative_tpot(r, Factors.of(IDEAL), spec, np.array([1.0]), 1, 1000, context)
    assert tpot[0] * 1e3 == pytest.approx(1.606, rel=0.005)
    assert memory_bound_speedup(spec) == pytest.approx(3.3616 / 1.2)
    plain = replica_capacity(arch, gpu, "bf16", "bf16", 1, 1, 1000, Slo(None, None), IDEAL)
    assert plain.tpot_ms is not None


def test_speculation_gains_less_when_steps_are_compute_bound() -> None:
    # At a large batch the verification's extra tokens cost compute: the speed-up falls
    # below the memory-bound formula.
    catalog = load_catalog()
    arch, gpu = catalog.model("llama-3.1-8b"), catalog.gpu("h100-sxm-80gb")
    r = replica(arch, gpu, "bf16", "bf16", plain_tp(1))
    spec = Speculation(acceptance_rate=0.8, draft_tokens=4, draft_cost_ratio=0.05)
    f = Factors.of(IDEAL)
    context = kv_cached_tokens(arch, 1000 + 200 / 2)
    running = np.array([1.0, 512.0])
    with_spec = speculative_tpot(r, f, spec, running, 1000, 200, context)
    without = speculative_tpot(
        r, f, Speculation(0.0, 1, 0.0), running, 1000, 200, context
    )  # alpha 0, c 0: one token per step, one wasted draft slot verified
    gain = without / with_spec
    assert gain[1] < gain[0] <= memory_bound_speedup(spec) + 1e-9


def test_speculation_raises_capacity_at_a_tight_tpot_target() -> None:
    # A 10 ms TPOT target caps plain decoding at a small batch; with 2.8x faster tokens the
    # replica runs a larger batch within it and serves more.
    catalog = load_catalog()
    arch, gpu = catalog.model("llama-3.1-8b"), catalog.gpu("h100-sxm-80gb")
    slo = Slo(tpot_ms=10.0, ttft_ms=None)
    args = (arch, gpu, "bf16", "bf16", 1, 1000, 200, slo, IDEAL)
    plain = replica_capacity(*args)
    spec = speculative_capacity(*args, Speculation(0.8, 4, 0.05))
    assert spec.output_tokens_per_second > plain.output_tokens_per_second
    assert spec.tpot_ms <= 10.0 and "Leviathan" in spec.source


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="acceptance_rate"):
        Speculation(acceptance_rate=1.5)
    with pytest.raises(ValueError, match="draft_tokens"):
        Speculation(acceptance_rate=0.5, draft_tokens=0)


def test_scenario_setting_raises_capacity_and_names_its_source() -> None:
    from llm_tco import evaluate
    from llm_tco.scenario import scenario_from_data

    def option(speculative: dict | None) -> object:
        hosted: dict = {
            "model": "llama-3.1-8b",
            "gpu": "h100-sxm-80gb",
            "gpu_hourly_price": 2.5,
            "tpot_slo_ms": 10,
        }
        if speculative:
            hosted["speculative"] = speculative
        data = {
            "name": "spec",
            "workload": {
                "requests_per_month": 10_000_000,
                "input_tokens_per_request": 1000,
                "output_tokens_per_request": 200,
            },
            "options": [{"name": "own", "self_hosted": hosted}],
        }
        return evaluate(scenario_from_data(data)).options[0].deployment

    plain = option(None)
    draft = option({"acceptance_rate": 0.8, "draft_tokens": 4})
    mtp = option({"method": "mtp", "acceptance_rate": 0.85})
    per = "capacity_tokens_per_second_per_replica"
    assert getattr(draft, per) > getattr(mtp, per) > getattr(plain, per)
    assert "speculative decoding (draft, 4 draft tokens" in draft.capacity_source
    assert "speculative decoding (mtp, 1 draft tokens" in mtp.capacity_source
