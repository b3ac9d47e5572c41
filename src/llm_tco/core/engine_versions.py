"""How a measured run was scheduled: the engine's defaults, or what its launch command set.

``engine_limits`` gives each engine's default batch limit and per-step token budget. A published
run whose launch command sets them (vLLM ``--max-num-seqs`` / ``--max-num-batched-tokens``, e.g.
the ROCm vLLM dev-docker README's ``benchmark_throughput.py ... --max-num-seqs 3200
--max-num-batched-tokens 131072``) ran with those values instead; the validation predicts it
under the scheduler it actually ran (``BenchmarkRow.max_batch_size`` / ``max_num_tokens``).
"""

from __future__ import annotations

from dataclasses import dataclass

from llm_tco.catalog.schema import GpuSpec
from llm_tco.core.capacity import engine_limits, separate_prefill


@dataclass(frozen=True)
class LaunchFlags:
    """Scheduler settings a run's launch command sets explicitly (None: the engine default)."""

    max_batch_size: int | None = None  # vLLM --max-num-seqs, SGLang --max-running-requests
    max_num_tokens: int | None = None  # vLLM --max-num-batched-tokens


NO_FLAGS = LaunchFlags()


@dataclass(frozen=True)
class EngineSchedule:
    """How an engine run batches: the most sequences in one step, the prompt + decode tokens
    one step may carry, and whether prompts run in steps of their own (decodes waiting)."""

    max_sequences: int
    token_budget: int
    separate_prefill: bool


def engine_schedule(
    engine: str, gpu: GpuSpec, offline: bool, launch: LaunchFlags = NO_FLAGS
) -> EngineSchedule:
    """The schedule of ``engine`` on ``gpu`` (``offline``: vLLM's offline LLM class, else its
    API server), with the settings ``launch`` gives in place of the defaults."""
    batch, budget = engine_limits(engine, gpu, offline)
    return EngineSchedule(
        launch.max_batch_size or batch, launch.max_num_tokens or budget, separate_prefill(engine)
    )
