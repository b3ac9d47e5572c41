"""Speculative decoding: the expected-accepted-tokens formula and its effect on TPOT, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from llm_tco.catalog.loader import load_catalog
from llm_tco.core.batchsim import deployment_step_times, simulate
from llm_tco.core.capacity import Efficiency, Factors, Slo, replica, replica_capacity
from llm_tco.core.memory import kv_cached_tokens, plain_tp
from llm_tco.core.speculative import (
    Speculation,
    expected_tokens_per_step,
    memory_bound_speedup,
    speculative_capacity,
    speculative_tpot,
)
from llm_tco.core.tailsize import PercentileSlo, tail_capacity

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


def test_the_simulator_decodes_at_the_speculative_tpot() -> None:
    # The hand-worked figures above, now through the batching simulator: one request of
    # 1 + 1000 tokens alone on the replica decodes at the bare roofline's 4.500 ms a token
    # without speculation and 5.400 ms / 3.3616 = 1.606 ms with it (alpha 0.8, gamma 4, c 0.05).
    catalog = load_catalog()
    arch, gpu = catalog.model("llama-3.1-8b"), catalog.gpu("h100-sxm-80gb")
    args = (arch, gpu, "bf16", "bf16", plain_tp(1), 1, 1000, IDEAL)
    spec = Speculation(acceptance_rate=0.8, draft_tokens=4, draft_cost_ratio=0.05)
    for speculation, tpot_ms in ((None, 4.500), (spec, 1.606)):
        steps = deployment_step_times(*args, speculation)
        out = simulate(steps, np.zeros(1), 1, 1000)
        assert out.tpot_s[0] * 1e3 == pytest.approx(tpot_ms, rel=0.005)


def test_speculation_meets_a_p99_tpot_target_plain_decoding_cannot() -> None:
    # p99 TPOT <= 3 ms: plain decoding takes 4.5 ms a token even alone, so no rate meets it;
    # speculative decoding at 1.6 ms a token alone carries some load within it.
    catalog = load_catalog()
    arch, gpu = catalog.model("llama-3.1-8b"), catalog.gpu("h100-sxm-80gb")
    slo = PercentileSlo(ttft_ms=None, tpot_ms=3.0, tpot_percentile=99.0)
    args = (arch, gpu, "bf16", "bf16", plain_tp(1), 1, 1000, slo, IDEAL)
    plain = tail_capacity(*args, requests=400)
    fast = tail_capacity(*args, requests=400, speculation=Speculation(0.8, 4, 0.05))
    assert plain.requests_per_second == 0.0 and plain.mean_only_requests_per_second == 0.0
    assert fast.requests_per_second > 0 and fast.mean_only_requests_per_second > 0


def test_a_scenario_with_percentile_targets_sizes_with_speculation() -> None:
    # The scenario's speculative setting reaches the simulated (p99) sizing: the same load
    # needs no more GPUs, the capacity is higher, and no warning says it was left out.
    from llm_tco import evaluate
    from llm_tco.scenario import scenario_from_data

    def scenario(speculative: dict | None) -> dict:
        hosted: dict = {
            "model": "llama-3.1-8b",
            "gpu": "h100-sxm-80gb",
            "gpu_hourly_price": 2.5,
            "tpot_slo_ms": 20,
            "tpot_slo_percentile": 99,
            "ttft_slo_ms": 1000,
        }
        if speculative:
            hosted["speculative"] = speculative
        return {
            "name": "spec",
            "workload": {
                "requests_per_month": 100 * 720 * 3600,
                "input_tokens_per_request": 1000,
                "output_tokens_per_request": 200,
            },
            "options": [{"name": "own", "self_hosted": hosted}],
        }

    plain = evaluate(scenario_from_data(scenario(None)))
    fast = evaluate(scenario_from_data(scenario({"acceptance_rate": 0.8, "draft_tokens": 4})))
    a, b = plain.options[0].deployment, fast.options[0].deployment
    assert b.capacity_tokens_per_second_per_replica > a.capacity_tokens_per_second_per_replica
    assert b.replicas_needed_at_peak <= a.replicas_needed_at_peak
    assert "speculative decoding (draft, 4 draft tokens" in b.capacity_source
    assert not [w for w in fast.warnings if "speculative" in w.code]


def _capacity_json(*flags: str) -> dict:
    import json

    import typer
    from typer.testing import CliRunner

    from llm_tco import capacity_cli

    app = typer.Typer()
    capacity_cli.register(app)
    base = ["capacity", "llama-3.1-8b", "h100-sxm-80gb", "--input-len", "1000"]
    result = CliRunner().invoke(app, [*base, "--output-len", "200", *flags, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_capacity_cli_speculative_defaults_and_effect() -> None:
    # MTP defaults: 1 draft token, cost one layer of Llama-3.1-8B's 32 = 0.03125; at
    # acceptance 0.8 a step yields E = 1 + 0.8 = 1.8 tokens. A draft model with 4 tokens at
    # acceptance 0.8: E = 3.3616 (eq. 1 above). At a 10 ms TPOT target the faster tokens let the
    # replica serve more than the same replica decoding one token a step.
    mtp = _capacity_json("--tpot-slo", "10", "--speculative", "mtp", "--acceptance-rate", "0.8")
    v = mtp["speculative"]
    assert (v["draft_tokens"], v["draft_cost_ratio"], v["tokens_per_step"]) == (1, 0.03125, 1.8)
    draft = _capacity_json(
        "--tpot-slo", "10", "--speculative", "draft", "--acceptance-rate", "0.8",
        "--draft-tokens", "4", "--ttft-slo-percentile", "99", "--rate", "20",
    )  # fmt: skip
    v = draft["speculative"]
    assert v["tokens_per_step"] == pytest.approx(3.362, abs=1e-3)
    assert draft["max_output_tokens_per_second"] > v["plain_max_output_tokens_per_second"]
    assert draft["at_slo"]["tpot_ms"] <= 10.0
    plain = _capacity_json("--tpot-slo", "10", "--ttft-slo-percentile", "99", "--rate", "20")
    assert plain["speculative"] is None
    assert plain["max_output_tokens_per_second"] == v["plain_max_output_tokens_per_second"]
    assert draft["tail"]["mean_only_replicas"] <= plain["tail"]["mean_only_replicas"]
    assert draft["tail"]["requests_per_second"] > plain["tail"]["requests_per_second"]


def test_capacity_cli_speculative_errors_name_the_flag() -> None:
    import typer
    from typer.testing import CliRunner

    from llm_tco import capacity_cli

    app = typer.Typer()
    capacity_cli.register(app)
    for flags, text in (
        (["--speculative", "draft"], "needs --acceptance-rate"),
        (["--speculative", "eagle", "--acceptance-rate", "0.5"], "unknown --speculative"),
        (["--acceptance-rate", "0.5"], "need --speculative"),
        (["--speculative", "mtp", "--acceptance-rate", "0.5", "--pipeline-parallel", "2",
          "--count", "2"], "tensor-parallel"),
    ):  # fmt: skip
        result = CliRunner().invoke(app, ["capacity", "llama-3.1-8b", "h100-sxm-80gb", *flags])
        assert result.exit_code == 2, result.output
        assert text in " ".join(result.output.split())
