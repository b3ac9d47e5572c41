"""Fit the capacity model's efficiency factors on published measurements, and measure its error
on sources it was not fitted to.

The factors are a small hierarchy: shared values, an offset per engine and an offset per GPU
vendor (each in a bounded logit or log scale, see ``PARAMETERS``), fitted jointly by robust
least squares (soft-L1 on the log of predicted / measured output tokens/s). Each publisher weighs
the same in total, however many rows it printed; offsets are pulled toward zero, so an engine or
vendor with few rows stays near the shared values and one with none uses them.

Leave-one-publisher-out (LOSO): for each publisher, fit on all the others and predict its rows.
That is the error a new source sees, unlike a random split inside the same documents.
All cases are evaluated together as arrays through ``llm_tco.core.capacity``'s step model, so a
full LOSO over hundreds of rows takes seconds.
"""

from __future__ import annotations

import functools
import hashlib
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace

import numpy as np
import numpy.typing as npt
from scipy.optimize import least_squares

from llm_tco.catalog.schema import GpuSpec, ModelArch
from llm_tco.core.capacity import (
    Efficiency,
    Factors,
    FloatArray,
    Mode,
    Replica,
    burst_output_tps,
    closed_loop_state,
    efficiency_key,
    limits,
    rate_run_output_tps,
    replica,
    static_batch_output_tps,
    steady_state,
)
from llm_tco.core.engine_versions import NO_FLAGS, LaunchFlags, engine_schedule
from llm_tco.core.memory import Layout, kv_cached_tokens


@dataclass(frozen=True)
class Parameter:
    """One fitted factor: its range and whether engines / vendors get their own offset."""

    name: str
    low: float
    high: float
    start: float
    log_scale: bool = False
    per_engine: bool = False
    per_vendor: bool = False
    per_generation: bool = False  # older engine generations (engine_generation) get an offset
    prior_sd: float | None = None  # pull of the shared value toward ``start``; None: weak

    def value(self, z: FloatArray | float) -> FloatArray:
        s = 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))
        if self.log_scale:
            return np.asarray(self.low * np.exp(s * math.log(self.high / self.low)))
        return np.asarray(self.low + (self.high - self.low) * s)

    def z_of(self, value: float) -> float:
        if self.log_scale:
            s = math.log(value / self.low) / math.log(self.high / self.low)
        else:
            s = (value - self.low) / (self.high - self.low)
        s = min(max(s, 1e-6), 1 - 1e-6)
        return math.log(s / (1 - s))


# Ranges are physical limits, not targets: decode kernels reach at most ~90% of HBM peak, a small
# collective costs microseconds to ~100 us, an engine step's fixed cost is 0.05-30 ms, grouped
# GEMM tiles are 16-256 rows (vLLM's fused_moe configs use BLOCK_SIZE_M 16-128). ``start`` is
# the prior each shared value is pulled toward (weakly, unless ``prior_sd`` says otherwise).
PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "bandwidth_efficiency",
        0.2,
        0.95,
        0.6,
        per_engine=True,
        per_vendor=True,
        per_generation=True,
    ),
    Parameter(
        "compute_efficiency", 0.05, 0.95, 0.4, per_engine=True, per_vendor=True, per_generation=True
    ),
    Parameter("prefill_compute_efficiency", 0.1, 0.95, 0.5, per_engine=True, per_vendor=True),
    Parameter("link_efficiency", 0.1, 0.99, 0.5, per_engine=True),
    # Weight-only GEMMs (capacity.dequantised): each engine's own kernels (Marlin, Triton
    # W4A16, TensorRT-LLM's mixed-input GEMMs) get an offset.
    Parameter("dequant_compute_efficiency", 0.05, 1.0, 0.7, per_engine=True),
    Parameter("allreduce_latency_us", 1.0, 100.0, 10.0, log_scale=True, per_engine=True),
    Parameter(
        "step_overhead_ms", 0.05, 30.0, 2.0, log_scale=True, per_engine=True, per_generation=True
    ),
    Parameter("layer_overhead_us", 0.1, 100.0, 5.0, log_scale=True),
    # vLLM's fused_moe get_default_config tiles BLOCK_SIZE_M = 64 rows when the batch has more
    # tokens than experts (16 below): the prior, held firmly since only many-expert MoE rows
    # (few tokens per expert) inform it.
    Parameter("moe_block_tokens", 1.0, 256.0, 64.0, log_scale=True, prior_sd=0.3),
    Parameter("moe_layer_overhead_us", 0.1, 300.0, 30.0, log_scale=True),
    # CPU work per running sequence per step (output processing, sampling, detokenisation):
    # current builds overlap most of it with the GPU, so the shared value is held near a few
    # microseconds; each engine's runtime (C++ or Python) gets its own offset, and older
    # generations pay it in full (vLLM v0.5.3 serving Llama 3 8B on one H100
    # spent 62% of its time in the API server and the scheduler:
    # https://blog.vllm.ai/2024/09/05/perf-update.html) and get their own offset.
    Parameter(
        "sequence_overhead_us",
        0.1,
        300.0,
        5.0,
        log_scale=True,
        per_engine=True,
        per_generation=True,
        prior_sd=0.3,
    ),
)
REFERENCE_VENDOR = "nvidia"  # the shared values describe its GPUs; other vendors get offsets
OFFSET_PRIOR_SD = 2.5  # logit / log units: how far an engine or vendor may pull from shared
SHARED_PRIOR_SD = 3.0  # weak pull of shared values toward the start (keeps the fit defined)
ROBUST_SCALE = 0.3
ROWS_PER_PUBLISHER = 60  # soft-L1 turns linear beyond ~15% log error
# Each training publisher gets its own log-throughput offset (a random effect: its harness,
# engine build and tuning), pulled toward 0 with this spread. It absorbs what is common to one
# publisher's rows, so one source's consistent deviation does not bend the shared physics
# factors. A publisher not in the fit (the held-out one, or any new measurement) gets 0.
PUBLISHER_PRIOR_SD = 0.5
# A publisher's MoE rows get a second offset of their own: how its MoE runs differ from its
# dense ones as a whole (the MoE kernels its engine builds had, its MoE launch flags). Without
# it the MoE-only factors (tile rows, per-MoE-layer cost) are bent by whichever publishers ran
# slow MoE builds, and a source whose MoE runs are fast (or slow) is mispredicted the other way;
# with it they are fitted on how MoE cost varies within each publisher's rows (batch, prompt,
# layout). Loose (2 log units): publishers' MoE-vs-dense gaps span about 3x either way. Like
# the publisher offset it never enters a prediction.
PUBLISHER_MOE_PRIOR_SD = 2.0


@dataclass(frozen=True)
class Case:
    """One measurement with its model and GPU resolved; ``measured`` is only used for error."""

    row_id: str
    publisher: str
    engine: str
    arch: ModelArch
    gpu: GpuSpec
    precision: str
    kv_precision: str
    layout: Layout
    input_tokens: float
    output_tokens: float
    mode: Mode
    concurrency: int | None
    request_rate: float | None
    measured_output_tokens_per_second: float
    num_requests: int | None = None  # a fixed-count run (ramp-up and tail), else steady state
    variable_lengths: bool = False  # lengths vary per request (e.g. ShareGPT), not fixed
    generation: str | None = None  # an older engine generation (engine_generation), else None
    launch: LaunchFlags = NO_FLAGS  # scheduler settings the row's launch command sets

    @property
    def is_moe(self) -> bool:
        return self.arch.experts is not None

    @property
    def gpus(self) -> int:
        return self.layout.gpus


def _stack(replicas: Sequence[Replica]) -> Replica:
    return Replica(
        **{f.name: np.array([float(getattr(r, f.name)) for r in replicas]) for f in fields(Replica)}
    )


def _pick(rows: npt.NDArray[np.intp]) -> Callable[[FloatArray | float], FloatArray | float]:
    def pick(v: FloatArray | float) -> FloatArray | float:
        return v[rows] if isinstance(v, np.ndarray) and v.ndim else v

    return pick


def _sub_replica(r: Replica, rows: npt.NDArray[np.intp]) -> Replica:
    pick = _pick(rows)
    return Replica(**{f.name: pick(getattr(r, f.name)) for f in fields(Replica)})


def _sub_factors(f: Factors, pick: Callable[[FloatArray | float], FloatArray | float]) -> Factors:
    return Factors(**{k.name: pick(getattr(f, k.name)) for k in fields(Factors)})


@dataclass(frozen=True)
class CaseSet:
    """Cases as arrays, everything that does not depend on the factors worked out once."""

    cases: tuple[Case, ...]
    replica: Replica
    input_tokens: FloatArray
    output_tokens: FloatArray
    context: FloatArray
    running: FloatArray
    token_budget: FloatArray
    static: FloatArray  # bool as float
    rate: FloatArray  # requests/s offered in request-rate mode, else nan
    rate_cap: FloatArray  # output tokens/s offered in request-rate mode, else inf
    requests: FloatArray  # requests in a fixed-count run, else nan (steady state)
    variable: FloatArray  # bool as float: lengths vary per request
    closed: FloatArray  # bool as float: a closed loop at a fixed concurrency (closed_loop_state)
    separate_prefill: FloatArray  # bool as float: the engine runs prompt chunks as own steps
    measured: FloatArray
    engine_index: FloatArray
    vendor_index: FloatArray
    generation_index: FloatArray
    engines: tuple[str, ...]
    vendors: tuple[str, ...]
    generations: tuple[str, ...]

    @classmethod
    def build(
        cls,
        cases: Sequence[Case],
        engines: Sequence[str],
        vendors: Sequence[str],
        generations: Sequence[str] = (),
    ) -> CaseSet:
        running, budgets, separate = [], [], []
        for c in cases:
            probe = Efficiency(c.engine, 1.0, 1.0, 1.0, 1.0)
            offline = c.mode in ("offline-max", "request-rate")
            schedule = engine_schedule(c.engine, c.gpu, offline, c.launch)
            lim = limits(
                c.arch,
                c.gpu,
                c.precision,
                c.kv_precision,
                c.layout,
                c.input_tokens,
                c.output_tokens,
                probe,
                offline=offline,
                schedule=schedule,
            )
            separate.append(float(schedule.separate_prefill))
            if c.mode == "static-batch" and c.concurrency is not None:
                run = min(c.concurrency, lim.kv_sequences)
            elif c.mode == "concurrency" and c.concurrency is not None:
                run = min(c.concurrency, lim.running)
            else:
                run = lim.running
            running.append(float(run))
            budgets.append(float(lim.token_budget))
        engine_ids = {e: i for i, e in enumerate(engines)}
        vendor_ids = {v: i for i, v in enumerate(vendors)}
        generation_ids = {g: i for i, g in enumerate(generations)}
        return cls(
            cases=tuple(cases),
            replica=_stack(
                [replica(c.arch, c.gpu, c.precision, c.kv_precision, c.layout) for c in cases]
            ),
            input_tokens=np.array([c.input_tokens for c in cases]),
            output_tokens=np.array([c.output_tokens for c in cases]),
            context=np.array(
                [kv_cached_tokens(c.arch, c.input_tokens + c.output_tokens / 2) for c in cases]
            ),
            running=np.array(running),
            token_budget=np.array(budgets),
            static=np.array([float(c.mode == "static-batch") for c in cases]),
            rate=np.array([c.request_rate or math.nan for c in cases]),
            rate_cap=np.array(
                [
                    c.request_rate * c.output_tokens
                    if c.mode == "request-rate" and c.request_rate
                    else math.inf
                    for c in cases
                ]
            ),
            requests=np.array(
                [
                    float(c.num_requests)
                    if c.num_requests and c.mode in ("offline-max", "concurrency", "request-rate")
                    else math.nan
                    for c in cases
                ]
            ),
            variable=np.array([float(c.variable_lengths) for c in cases]),
            closed=np.array([float(c.mode == "concurrency") for c in cases]),
            separate_prefill=np.array(separate),
            measured=np.array([c.measured_output_tokens_per_second for c in cases]),
            engine_index=np.array([engine_ids.get(c.engine, -1) for c in cases], dtype=float),
            vendor_index=np.array([vendor_ids.get(c.gpu.vendor, -1) for c in cases], dtype=float),
            generation_index=np.array(
                [generation_ids.get(c.generation or "", -1) for c in cases], dtype=float
            ),
            engines=tuple(engines),
            vendors=tuple(vendors),
            generations=tuple(generations),
        )

    def subset(self, rows: npt.NDArray[np.intp]) -> CaseSet:
        """The cases at ``rows``."""
        r = _sub_replica(self.replica, rows)
        arrays = {
            f.name: getattr(self, f.name)[rows]
            for f in fields(self)
            if isinstance(getattr(self, f.name), np.ndarray)
        }
        return replace(self, cases=tuple(self.cases[i] for i in rows), replica=r, **arrays)

    @functools.cached_property
    def _groups(self) -> list[tuple[str, npt.NDArray[np.intp], Replica]]:
        """Rows predicted other than by the steady state, with their replicas, worked out once
        (a fit evaluates the same cases hundreds of times)."""
        rated = np.isfinite(self.rate) & np.isfinite(self.requests)
        bursts = np.isfinite(self.requests) & ~rated
        groups = [
            ("static", np.flatnonzero(self.static > 0)),
            ("burst", np.flatnonzero(bursts & ~(self.variable > 0))),
            ("burst-variable", np.flatnonzero(bursts & (self.variable > 0))),
            ("rate", np.flatnonzero(rated)),
        ]
        return [(k, rows, _sub_replica(self.replica, rows)) for k, rows in groups if rows.size]

    @functools.cached_property
    def _closed(self) -> tuple[npt.NDArray[np.intp], Replica]:
        rows = np.flatnonzero(self.closed > 0)
        return rows, _sub_replica(self.replica, rows)

    def predict(self, factors: Factors) -> FloatArray:
        """Predicted output tokens/s of every case (never reads ``measured``)."""
        steady = steady_state(
            self.replica,
            factors,
            self.input_tokens,
            self.output_tokens,
            self.context,
            self.running,
            self.token_budget,
        ).output_tokens_per_second
        rows, sub = self._closed
        if rows.size:
            steady[rows] = closed_loop_state(
                sub,
                _sub_factors(factors, _pick(rows)),
                self.input_tokens[rows],
                self.output_tokens[rows],
                self.context[rows],
                self.running[rows],
                self.token_budget[rows],
                self.separate_prefill[rows],
            ).output_tokens_per_second
        out = steady.copy()
        for kind, rows, sub in self._groups:
            f = _sub_factors(factors, _pick(rows))
            if kind == "static":
                out[rows] = static_batch_output_tps(
                    sub,
                    f,
                    self.input_tokens[rows],
                    self.output_tokens[rows],
                    self.context[rows],
                    self.running[rows],
                )
            elif kind == "rate":
                out[rows] = rate_run_output_tps(
                    sub,
                    f,
                    self.input_tokens[rows],
                    self.output_tokens[rows],
                    self.context[rows],
                    self.running[rows],
                    self.token_budget[rows],
                    self.requests[rows],
                    self.rate[rows],
                    steady[rows],
                )
            else:
                out[rows] = burst_output_tps(
                    sub,
                    f,
                    self.input_tokens[rows],
                    self.output_tokens[rows],
                    self.context[rows],
                    self.running[rows],
                    self.token_budget[rows],
                    self.requests[rows],
                    kind == "burst-variable",
                    steady[rows],
                )
        return np.asarray(np.minimum(out, self.rate_cap), dtype=np.float64)


@dataclass(frozen=True)
class Fit:
    """Fitted parameters in their unbounded scale: shared, per engine, per vendor."""

    shared: dict[str, float]
    engine_offsets: dict[str, dict[str, float]]
    vendor_offsets: dict[str, dict[str, float]]
    rows: int
    publishers: int
    generation_offsets: dict[str, dict[str, float]] = field(default_factory=dict)

    def efficiency(
        self, engine: str, vendor: str | None, source: str, generation: str | None = None
    ) -> Efficiency:
        """Factors of ``engine`` (current builds unless ``generation`` names an older one)."""
        values: dict[str, float] = {}
        for p in PARAMETERS:
            z = self.shared[p.name]
            z += self.engine_offsets.get(engine, {}).get(p.name, 0.0)
            if vendor is not None:
                z += self.vendor_offsets.get(vendor, {}).get(p.name, 0.0)
            if generation is not None:
                z += self.generation_offsets.get(generation, {}).get(p.name, 0.0)
            values[p.name] = float(p.value(z))
        return Efficiency(
            engine=engine,
            bandwidth_efficiency=round(values["bandwidth_efficiency"], 4),
            compute_efficiency=round(values["compute_efficiency"], 4),
            prefill_compute_efficiency=round(values["prefill_compute_efficiency"], 4),
            link_efficiency=round(values["link_efficiency"], 4),
            allreduce_latency_us=round(values["allreduce_latency_us"], 3),
            step_overhead_ms=round(values["step_overhead_ms"], 4),
            layer_overhead_us=round(values["layer_overhead_us"], 3),
            moe_block_tokens=round(values["moe_block_tokens"], 2),
            moe_layer_overhead_us=round(values["moe_layer_overhead_us"], 3),
            sequence_overhead_us=round(values["sequence_overhead_us"], 4),
            dequant_compute_efficiency=round(values["dequant_compute_efficiency"], 4),
            source=source,
        )


class _Problem:
    """Parameter vector <-> per-case factor arrays, over the cases where ``train`` is set.

    Engines and vendors without a training row get no offset (the shared values stand in).
    """

    def __init__(self, cs: CaseSet, train: FloatArray, salt: str = "") -> None:
        self.cs = cs
        e_idx = cs.engine_index.astype(int)
        v_idx = cs.vendor_index.astype(int)
        g_idx = cs.generation_index.astype(int)
        seen_engines = {int(i) for i in e_idx[train > 0] if i >= 0}
        seen_vendors = {int(i) for i in v_idx[train > 0] if i >= 0}
        seen_generations = {int(i) for i in g_idx[train > 0] if i >= 0}
        self.layout: list[tuple[str, str, int]] = [("shared", p.name, -1) for p in PARAMETERS]
        for i in sorted(seen_engines):
            self.layout += [("engine", p.name, i) for p in PARAMETERS if p.per_engine]
        for i in sorted(seen_vendors):
            self.layout += [("vendor", p.name, i) for p in PARAMETERS if p.per_vendor]
        for i in sorted(seen_generations):
            self.layout += [("generation", p.name, i) for p in PARAMETERS if p.per_generation]
        n_factor = len(self.layout)
        by_name = {p.name: p for p in PARAMETERS}
        self.x0 = np.array(
            [
                by_name[name].z_of(by_name[name].start) if kind == "shared" else 0.0
                for kind, name, _ in self.layout
            ]
        )
        self.prior_sd = np.array(
            [
                (by_name[name].prior_sd or SHARED_PRIOR_SD) if kind == "shared" else OFFSET_PRIOR_SD
                for kind, name, _ in self.layout
            ]
        )
        # z of each case = shared + its engine's offset + its vendor's offset, per parameter:
        # for each parameter, the index into x of each case's term (a zero slot where none).
        n = len(cs.cases)
        zero = len(self.layout)
        slot = {key: j for j, key in enumerate(self.layout)}
        self.gather: dict[str, FloatArray] = {}
        for p in PARAMETERS:
            engine_slot = np.array(
                [slot.get(("engine", p.name, int(i)), zero) for i in e_idx], dtype=np.intp
            )
            vendor_slot = np.array(
                [slot.get(("vendor", p.name, int(i)), zero) for i in v_idx], dtype=np.intp
            )
            generation_slot = np.array(
                [slot.get(("generation", p.name, int(i)), zero) for i in g_idx], dtype=np.intp
            )
            shared = np.full(n, slot[("shared", p.name, -1)], dtype=np.intp)
            self.gather[p.name] = np.stack([shared, engine_slot, vendor_slot, generation_slot])
        rows, weights = fit_sample(cs.cases, np.flatnonzero(train > 0), salt)
        publishers = [cs.cases[i].publisher for i in rows]
        names = sorted(set(publishers))
        self.publisher_slot = np.array(
            [n_factor + names.index(p) for p in publishers], dtype=np.intp
        )
        self.n_factor = n_factor
        self.layout += [("publisher", p, -1) for p in names]
        self.x0 = np.append(self.x0, np.zeros(len(names)))
        self.prior_sd = np.append(self.prior_sd, np.full(len(names), PUBLISHER_PRIOR_SD))
        # Each publisher's MoE rows also share a second offset (PUBLISHER_MOE_PRIOR_SD); dense
        # rows point at slot 0 and are masked out by ``moe_rows``.
        self.moe_rows = np.array([cs.cases[i].is_moe for i in rows], dtype=bool)
        moe_names = sorted({publishers[j] for j in np.flatnonzero(self.moe_rows)})
        first = len(self.layout)
        self.layout += [("publisher-moe", p, -1) for p in moe_names]
        self.x0 = np.append(self.x0, np.zeros(len(moe_names)))
        self.prior_sd = np.append(self.prior_sd, np.full(len(moe_names), PUBLISHER_MOE_PRIOR_SD))
        self.publisher_moe_slot = np.array(
            [
                first + moe_names.index(p) if moe else 0
                for p, moe in zip(publishers, self.moe_rows, strict=True)
            ],
            dtype=np.intp,
        )
        self.rows = rows
        self.weights = weights
        self.log_measured = np.log(cs.measured[rows])
        self.train_cs = cs.subset(rows)
        self.train_gather = {name: g[:, rows] for name, g in self.gather.items()}
        # Which residuals each parameter moves, so the Jacobian groups disjoint columns.
        sparsity = np.zeros((len(rows) + len(self.layout), len(self.layout)), dtype=bool)
        for g in self.train_gather.values():
            for term in g:
                hit = term < zero
                sparsity[np.flatnonzero(hit), term[hit]] = True
        sparsity[np.arange(len(rows)), self.publisher_slot] = True
        sparsity[np.flatnonzero(self.moe_rows), self.publisher_moe_slot[self.moe_rows]] = True
        sparsity[len(rows) + np.arange(len(self.layout)), np.arange(len(self.layout))] = True
        self.sparsity = sparsity
        # For the Jacobian: every factor column's finite-difference step evaluated in one call,
        # over the training cases that column moves (an engine's or vendor's offset moves only
        # its own rows; the others' entries are zero): which rows each column moves, per
        # parameter, and the (column, row) pairs moved by any.
        self.moves = {
            name: (g[:, None, :] == np.arange(n_factor)[None, :, None]).any(axis=0)
            for name, g in self.train_gather.items()
        }
        moved = np.logical_or.reduce(list(self.moves.values()))
        self.pair_columns, self.pair_rows = np.nonzero(moved)
        self.tiled_cs = self.train_cs.subset(self.pair_rows)

    def factors(self, x: FloatArray, train_only: bool = False) -> Factors:
        gather = self.train_gather if train_only else self.gather
        padded = np.append(x[: self.n_factor], 0.0)
        return self._values({p.name: padded[gather[p.name]].sum(axis=0) for p in PARAMETERS})

    def residuals(self, x: FloatArray) -> FloatArray:
        predicted = self.train_cs.predict(self.factors(x, train_only=True))
        log_predicted = (
            np.log(np.maximum(predicted, 1e-9))
            + x[self.publisher_slot]
            + np.where(self.moe_rows, x[self.publisher_moe_slot], 0.0)
        )
        data = self.weights * (log_predicted - self.log_measured)
        prior = (x - self.x0) / self.prior_sd * ROBUST_SCALE
        return np.concatenate([data, prior])

    def _values(self, z: dict[str, FloatArray]) -> Factors:
        values = {p.name: p.value(z[p.name]) for p in PARAMETERS}
        return Factors(
            bandwidth=values["bandwidth_efficiency"],
            compute=values["compute_efficiency"],
            prefill=values["prefill_compute_efficiency"],
            link=values["link_efficiency"],
            collective_latency_s=values["allreduce_latency_us"] * 1e-6,
            step_overhead_s=values["step_overhead_ms"] * 1e-3,
            layer_overhead_s=values["layer_overhead_us"] * 1e-6,
            moe_block_tokens=values["moe_block_tokens"],
            moe_layer_overhead_s=values["moe_layer_overhead_us"] * 1e-6,
            sequence_overhead_s=values["sequence_overhead_us"] * 1e-6,
            dequant_compute=values["dequant_compute_efficiency"],
        )

    def jacobian(self, x: FloatArray) -> FloatArray:
        """d residuals / d x: forward differences for the factor columns, all evaluated in one
        vectorised call; publisher offsets and priors are linear, so exact."""
        n_rows, n_factor = len(self.rows), self.n_factor
        padded = np.append(x[:n_factor], 0.0)
        base = {p.name: padded[self.train_gather[p.name]].sum(axis=0) for p in PARAMETERS}
        step = 1e-3 * np.maximum(1.0, np.abs(x[:n_factor]))
        cols, rows = self.pair_columns, self.pair_rows
        stepped = {
            name: z[rows] + step[cols] * self.moves[name][cols, rows] for name, z in base.items()
        }
        log_base = np.log(np.maximum(self.train_cs.predict(self._values(base)), 1e-9))
        log_stepped = np.log(np.maximum(self.tiled_cs.predict(self._values(stepped)), 1e-9))
        jac = np.zeros((n_rows + len(self.layout), len(self.layout)))
        jac[rows, cols] = self.weights[rows] * (log_stepped - log_base[rows]) / step[cols]
        jac[np.arange(n_rows), self.publisher_slot] = self.weights
        moe = np.flatnonzero(self.moe_rows)
        jac[moe, self.publisher_moe_slot[moe]] = self.weights[moe]
        jac[n_rows + np.arange(len(self.layout)), np.arange(len(self.layout))] = (
            ROBUST_SCALE / self.prior_sd
        )
        return jac

    def solve(self) -> FloatArray:
        solution = least_squares(
            self.residuals,
            self.x0,
            jac=self.jacobian,
            loss="soft_l1",
            f_scale=ROBUST_SCALE,
            method="trf",
            bounds=(-8.0, 8.0),
            tr_solver="lsmr",
            max_nfev=300,
            xtol=1e-3,
            ftol=1e-3,
        )
        return np.asarray(solution.x)

    def fit(self, x: FloatArray) -> Fit:
        shared: dict[str, float] = {}
        engines: dict[str, dict[str, float]] = {}
        vendors: dict[str, dict[str, float]] = {}
        generations: dict[str, dict[str, float]] = {}
        for j, (kind, name, i) in enumerate(self.layout):
            if kind == "shared":
                shared[name] = float(x[j])
            elif kind == "engine":
                engines.setdefault(self.cs.engines[i], {})[name] = float(x[j])
            elif kind == "vendor":
                vendors.setdefault(self.cs.vendors[i], {})[name] = float(x[j])
            elif kind == "generation":
                generations.setdefault(self.cs.generations[i], {})[name] = float(x[j])
        train = [self.cs.cases[i] for i in self.rows]
        return Fit(
            shared,
            engines,
            vendors,
            len(train),
            len({c.publisher for c in train}),
            generations,
        )


def fit_sample(
    cases: Sequence[Case], rows: npt.NDArray[np.intp], salt: str = ""
) -> tuple[npt.NDArray[np.intp], FloatArray]:
    """The training rows the fit uses, and each one's residual weight.

    At most ``ROWS_PER_PUBLISHER`` rows of each publisher, chosen by a hash of the row id and
    ``salt`` (never by its values); weight 1 / sqrt(rows kept), so each publisher's squared
    weights sum to 1 and it weighs the same in the fit however many rows it printed. A large
    table adds little beyond a sample of it, and the fit stays fast. Another ``salt`` draws
    another sample: how much the figures move with it is the noise of the sampling."""
    by_publisher: dict[str, list[int]] = {}
    for i in rows:
        by_publisher.setdefault(cases[i].publisher, []).append(int(i))
    weight: dict[int, float] = {}
    for members in by_publisher.values():
        members.sort(key=lambda i: _row_hash(cases[i], salt))
        kept = members[:ROWS_PER_PUBLISHER]
        weight.update({i: 1.0 / math.sqrt(len(kept)) for i in kept})
    keep = np.array(sorted(weight), dtype=np.intp)
    return keep, np.array([weight[int(i)] for i in keep])


def _row_hash(case: Case, salt: str) -> bytes:
    return hashlib.sha256((salt + case.row_id).encode()).digest()


def _case_set(cases: Sequence[Case]) -> CaseSet:
    engines = sorted({c.engine for c in cases})
    vendors = sorted({c.gpu.vendor for c in cases} - {REFERENCE_VENDOR})
    generations = sorted({c.generation for c in cases if c.generation is not None})
    return CaseSet.build(cases, engines, vendors, generations)


def fit(cases: Sequence[Case]) -> Fit:
    """Fit the factor hierarchy on ``cases`` (engines and vendors seen in them get offsets)."""
    if not cases:
        raise ValueError("no measurements to fit on")
    problem = _Problem(_case_set(cases), np.ones(len(cases)))
    return problem.fit(problem.solve())


def predict_with(fit_: Fit, cases: Sequence[Case]) -> FloatArray:
    """Predicted output tokens/s of ``cases`` with ``fit_``'s factors (never their measurements)."""
    effs = [fit_.efficiency(c.engine, c.gpu.vendor, "", c.generation) for c in cases]
    return predict_each(effs, cases)


def predict_each(effs: Sequence[Efficiency], cases: Sequence[Case]) -> FloatArray:
    """Predicted output tokens/s of each case with its own factors (``effs[i]`` for
    ``cases[i]``), in one vectorised pass."""
    return CaseSet.build(cases, (), ()).predict(_stacked_factors(effs))


# A pilot run (``llm-tco calibrate``) refits these factors of one engine, starting from the
# catalog's: what a handful of closed-loop levels on one deployment can tell apart (the
# weights' read speed at low concurrency, the matmul rates and the fixed step cost as the batch
# grows). Each is pulled weakly (``PILOT_PRIOR_SD``, in its bounded scale, as loose as the
# shared values' prior) toward its catalog value: the pilot's own levels decide what they
# can, and a factor they say little about stays near where it was.
PILOT_PARAMETERS = (
    "bandwidth_efficiency",
    "compute_efficiency",
    "prefill_compute_efficiency",
    "step_overhead_ms",
)
PILOT_PRIOR_SD = 3.0


def fit_efficiency(
    engine: str, cases: Sequence[Case], source: str, start: Efficiency
) -> Efficiency:
    """``start`` with ``PILOT_PARAMETERS`` refitted to ``cases`` (one deployment's measured
    levels of ``engine``): robust least squares on log(predicted / measured)."""
    if not cases:
        raise ValueError("no measurements to fit on")
    chosen = [p for p in PARAMETERS if p.name in PILOT_PARAMETERS]
    z0 = np.array([p.z_of(float(getattr(start, p.name))) for p in chosen])
    measured = np.log([c.measured_output_tokens_per_second for c in cases])

    def efficiency(z: FloatArray) -> Efficiency:
        values: dict[str, object] = {
            p.name: float(p.value(v)) for p, v in zip(chosen, z, strict=True)
        }
        return replace(start, engine=engine, source=source, **values)  # type: ignore[arg-type]

    def residuals(z: FloatArray) -> FloatArray:
        predicted = predict_each([efficiency(z)] * len(cases), cases)
        data = np.log(np.maximum(predicted, 1e-9)) - measured
        return np.concatenate([data, (z - z0) / PILOT_PRIOR_SD * ROBUST_SCALE])

    solved = least_squares(residuals, z0, loss="soft_l1", f_scale=ROBUST_SCALE)
    return efficiency(solved.x)


def predict_case(case: Case, eff: Efficiency) -> float:
    """Predicted output tokens/s of one case with ``eff``."""
    return float(predict_each([eff], [case])[0])


def efficiency_values(eff: Efficiency) -> dict[str, float]:
    """The fitted factors of ``eff`` by name, rounded as ``efficiency.yaml`` writes them."""
    return {p.name: round(float(getattr(eff, p.name)), 4) for p in PARAMETERS}


def _stacked_factors(effs: Sequence[Efficiency]) -> Factors:
    """The factors of ``effs`` as one array per field (``Factors.of`` of each, stacked): the
    same conversion `llm-tco capacity` uses, so no field can be left out here."""
    each = [Factors.of(e) for e in effs]
    return Factors(
        **{f.name: np.array([float(getattr(one, f.name)) for one in each]) for f in fields(Factors)}
    )


@dataclass(frozen=True)
class CaseResult:
    case: Case
    predicted_output_tokens_per_second: float

    @property
    def ratio(self) -> float:
        """Predicted over measured."""
        return self.predicted_output_tokens_per_second / self.case.measured_output_tokens_per_second

    @property
    def ape(self) -> float:
        """Absolute percentage error, percent."""
        return abs(self.ratio - 1.0) * 100

    @property
    def signed_error(self) -> float:
        """(predicted - measured) / measured, percent: positive = over-predicted."""
        return (self.ratio - 1.0) * 100


def leave_one_publisher_out(cases: Sequence[Case], salt: str = "") -> tuple[list[CaseResult], Fit]:
    """Each publisher's rows predicted by factors fitted on every other publisher's rows, and
    the fit on all rows. Every fit starts from the same neutral point: starting a fold from the
    all-rows solution would let the held-out rows steer it. ``salt`` picks the fits' row sample
    (``fit_sample``)."""
    cs = _case_set(cases)
    everyone = _Problem(cs, np.ones(len(cases)), salt)
    x_all = everyone.solve()
    predicted = np.full(len(cases), np.nan)
    publishers = np.array([c.publisher for c in cases])
    for publisher in sorted(set(publishers)):
        held = publishers == publisher
        if held.all():
            continue
        fold = _Problem(cs, (~held).astype(float), salt)
        x = fold.solve()
        predicted[held] = cs.predict(fold.factors(x))[held]
    results = [
        CaseResult(c, float(p)) for c, p in zip(cases, predicted, strict=True) if np.isfinite(p)
    ]
    return results, everyone.fit(x_all)


def publisher_level_removed(results: Sequence[CaseResult]) -> list[CaseResult]:
    """``results`` with each publisher's predictions divided by that publisher's median
    predicted / measured ratio: the error that would be left if each source's overall level
    (its harness, build and tuning as a whole) were known, which no prediction for a new
    source can know. What remains is how the model misses the shape within a source (prompt
    and output lengths, batch, model, layout)."""
    by_publisher: dict[str, list[float]] = {}
    for r in results:
        by_publisher.setdefault(r.case.publisher, []).append(r.ratio)
    level = {p: statistics.median(v) for p, v in by_publisher.items()}
    return [
        CaseResult(r.case, r.predicted_output_tokens_per_second / level[r.case.publisher])
        for r in results
    ]


@dataclass(frozen=True)
class GroupError:
    rows: int
    median_ape: float
    mape: float
    median_signed: float  # median of signed error, percent: the bias


def group_error(results: Sequence[CaseResult]) -> GroupError:
    if not results:
        return GroupError(0, math.nan, math.nan, math.nan)
    return GroupError(
        rows=len(results),
        median_ape=statistics.median(r.ape for r in results),
        mape=statistics.fmean(r.ape for r in results),
        median_signed=statistics.median(r.signed_error for r in results),
    )


def errors_by(
    results: Sequence[CaseResult], key: Callable[[CaseResult], str]
) -> dict[str, GroupError]:
    groups: dict[str, list[CaseResult]] = {}
    for r in results:
        groups.setdefault(key(r), []).append(r)
    return {k: group_error(v) for k, v in sorted(groups.items())}


def engine_keys(fit_: Fit, engines: Sequence[str]) -> dict[str, Efficiency]:
    """Materialised factors for every engine and, where a vendor offset was fitted,
    every engine x vendor; ``efficiency_key`` names them."""
    out: dict[str, Efficiency] = {}
    for engine in engines:
        seen = engine in fit_.engine_offsets
        source = (
            f"capacity model, {engine} factors fitted on {fit_.rows} rows from "
            f"{fit_.publishers} publishers"
            if seen
            else f"capacity model, shared factors (no {engine} rows yet)"
        )
        out[efficiency_key(engine)] = fit_.efficiency(engine, None, source)
        for vendor in sorted(fit_.vendor_offsets):
            out[efficiency_key(engine, vendor)] = fit_.efficiency(
                engine, vendor, f"{source}, {vendor} GPUs"
            )
    return out
