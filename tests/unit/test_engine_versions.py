"""How a measured run was scheduled: launch-command settings in place of the engine defaults,
and the per-sequence CPU cost of a step. Expected figures are worked by hand from the source
documents' commands and the toy deployment's round numbers."""

from __future__ import annotations

import re

import numpy as np
import pytest
from capacity_toys import toy_factors, toy_replica

from llm_tco.capacity_validation import build_cases
from llm_tco.catalog.loader import Catalog, load_catalog
from llm_tco.core.calibration import CaseSet
from llm_tco.core.capacity import stage_seconds
from llm_tco.core.engine_versions import LaunchFlags, engine_schedule

AMD_ROW = "amd-rocm-vllm-073-llama31-70b-fp8-mi300x-tp8-throughput-128-2048"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_each_running_sequence_adds_its_cpu_cost_to_a_step() -> None:
    # Nothing to read or compute: a step of 100 decodes at 10 us each costs 1 ms, of 1 decode
    # 10 us, and a prompt-only step (no decodes) nothing.
    r = toy_replica()
    f = toy_factors(sequence_overhead_s=10e-6)
    seconds, _ = stage_seconds(r, f, np.array([100.0, 1.0, 0.0]), 0.0, 0.0, 0.0)
    assert seconds == pytest.approx([1e-3, 1e-5, 0.0], abs=1e-12)


def test_launch_flags_replace_the_engine_defaults(catalog: Catalog) -> None:
    # vLLM's defaults on a GPU of >= 70 GiB that is not an A100 (MI300X, 192 GB): 1024
    # sequences, 16384 tokens offline (engine_limits). The ROCm vLLM dev-docker README's
    # throughput command passes --max-num-seqs 3200 --max-num-batched-tokens 131072.
    mi300x = catalog.gpu("mi300x")
    default = engine_schedule("vllm", mi300x, offline=True)
    assert (default.max_sequences, default.token_budget) == (1024, 16384)
    launched = engine_schedule("vllm", mi300x, True, LaunchFlags(3200, 131072))
    assert (launched.max_sequences, launched.token_budget) == (3200, 131072)
    only_seqs = engine_schedule("vllm", mi300x, True, LaunchFlags(max_batch_size=500))
    assert (only_seqs.max_sequences, only_seqs.token_budget) == (500, 16384)


def test_a_row_runs_with_the_batch_limit_its_command_set(catalog: Catalog) -> None:
    # The AMD 128-in / 2048-out row: 3200 prompts with --max-num-seqs 3200 and a 131072-token
    # budget. Its steady batch is then capped by the budget share of decodes,
    # 131072 x 2048 / 2176 = 123,362, and by the KV cache, not by vLLM's default 1024: the
    # Llama 3.1 70B FP8 cache (80 layers x 8 KV heads x 128 x 2 x 1 byte = 160 KiB a token) of
    # 2176-token sequences on 8 x 192 GB holds far more than 1024 of them.
    (row,) = [r for r in catalog.benchmarks if r.id == AMD_ROW]
    assert (row.max_batch_size, row.max_num_tokens) == (3200, 131072)
    cases, _ = build_cases(catalog, [row])
    running = CaseSet.build(cases, ("vllm",), ("amd",)).running[0]
    assert 1024 < running <= 3200
    unflagged = row.model_copy(update={"max_batch_size": None, "max_num_tokens": None})
    cases, _ = build_cases(catalog, [unflagged])
    assert CaseSet.build(cases, ("vllm",), ("amd",)).running[0] == 1024


# How a launch command or config spells each setting: vLLM's flags, TensorRT-LLM's settings
# (NVIDIA's MLPerf harness calls the batch limit gpu_batch_size).
FLAG_OF = {
    "max_batch_size": ("--max-num-seqs", "max_batch_size", "gpu_batch_size"),
    "max_num_tokens": ("--max-num-batched-tokens", "max_num_tokens"),
}


def test_every_launch_flag_in_the_catalog_is_quoted_by_its_notes(catalog: Catalog) -> None:
    # A scheduler setting is a fact of the run only where the source's command shows it.
    flagged = 0
    for row in catalog.benchmarks:
        notes = re.sub(r"\s+", " ", row.notes or "")
        for field, flags in FLAG_OF.items():
            value = getattr(row, field)
            if value is None:
                continue
            flagged += 1
            quoted = any(re.search(rf"{flag}[ =]{value}\b", notes) for flag in flags)
            assert quoted, f"{row.id}: {field} {value}"
    assert flagged >= 20
