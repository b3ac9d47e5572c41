"""Leave-one-publisher-out validation, the fitted factors, the error band and the CLI over it."""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import random

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from llm_tco import capacity_cli, capacity_factors, capacity_validation
from llm_tco.capacity_validation import (
    CapacityValidation,
    build_cases,
    publisher_of,
    ratio_quantiles,
    validate,
)
from llm_tco.catalog.benchmarks import BenchmarkRow
from llm_tco.catalog.loader import load_catalog
from llm_tco.core import calibration as calibration_module
from llm_tco.core import capacity as capacity_module
from llm_tco.core.calibration import (
    Case,
    CaseResult,
    CaseSet,
    Fit,
    fit,
    leave_one_publisher_out,
    predict_with,
    publisher_level_removed,
)

Validated = tuple[tuple[CapacityValidation, Fit, list[Case]], list[CaseResult]]


@pytest.fixture(scope="module")
def validated() -> Validated:
    """``validate`` on the catalog, and the leave-one-publisher-out results it computed on the
    way there. The LOSO fits are the costly part: tests that assert different things on the
    same validation read this one run."""
    real = capacity_validation.leave_one_publisher_out
    seen: list[list[CaseResult]] = []

    def recording(cases: list[Case]) -> tuple[list[CaseResult], Fit]:
        results, full = real(cases)
        seen.append(results)
        return results, full

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(capacity_validation, "leave_one_publisher_out", recording)
        out = validate(load_catalog())
    assert len(seen) == 1
    return out, seen[0]


@pytest.fixture(scope="module")
def report(validated: Validated) -> CapacityValidation:
    return validated[0][0]


def _row(**update: object) -> BenchmarkRow:
    base: dict[str, object] = {
        "id": "x",
        "model": "m",
        "precision": "fp8",
        "gpu": "g",
        "gpu_count": 1,
        "engine": "vllm",
        "mode": "offline-max",
        "input_tokens": 1,
        "output_tokens": 1,
        "output_tokens_per_second": 1.0,
        "source": "https://blogs.oracle.com/cloud-infrastructure/post/x",
        "as_of": "2024-01-01",
    }
    return BenchmarkRow.model_validate({**base, **update})


def test_publisher_is_the_field_else_derived_from_the_source() -> None:
    assert publisher_of(_row(publisher="Baseten")) == "Baseten"
    assert publisher_of(_row()) == "oracle.com"
    nvidia_copy = "https://github.com/someone/TensorRT-LLM/blob/abc/docs/perf-overview.md"
    assert publisher_of(_row(source=nvidia_copy)) == "NVIDIA"
    assert publisher_of(_row(source="https://github.com/gpustack/gpustack/blob/x.md")) == "gpustack"


def test_report_groups_every_row_by_publisher(report: CapacityValidation) -> None:
    catalog = load_catalog()
    assert len(report.rows) + len(report.skipped) == len(catalog.benchmarks)
    assert sum(s.rows for s in report.by_publisher.values()) == len(report.rows)
    assert len(report.by_publisher) >= 3
    assert set(report.by_class) <= {"dense", "moe"}
    # Bias is bounded by the errors themselves.
    for summary in [report.overall, *report.by_publisher.values()]:
        assert abs(summary.median_signed_percent) <= max(r.ape_percent for r in report.rows)


def test_loso_never_sees_the_held_out_publisher(validated: Validated) -> None:
    # Scramble one publisher's measurements: its leave-one-out predictions must not move. The
    # unscrambled run is validate's own (the same cases, built from the same catalog).
    (_, _, cases), before = validated
    assert cases == build_cases(load_catalog())[0]
    publisher = cases[0].publisher
    scrambled = [
        dataclasses.replace(c, measured_output_tokens_per_second=1.0)
        if c.publisher == publisher
        else c
        for c in cases
    ]
    after, _ = leave_one_publisher_out(scrambled)
    held = [r.predicted_output_tokens_per_second for r in before if r.case.publisher == publisher]
    held_after = [
        r.predicted_output_tokens_per_second for r in after if r.case.publisher == publisher
    ]
    assert held == pytest.approx(held_after, rel=1e-9)


def test_scrambled_measurements_change_the_factors_not_the_physics() -> None:
    physics = hashlib.sha256(inspect.getsource(capacity_module).encode()).hexdigest()
    cases, _ = build_cases(load_catalog())
    rng = random.Random(7)
    measured = [c.measured_output_tokens_per_second for c in cases]
    rng.shuffle(measured)
    scrambled = [
        dataclasses.replace(c, measured_output_tokens_per_second=m)
        for c, m in zip(cases, measured, strict=True)
    ]
    real, shuffled = fit(cases), fit(scrambled)
    assert real.shared != shuffled.shared
    # The same number of parameters however many rows: factors, never one per row.
    assert len(real.shared) == len(shuffled.shared)
    half = fit(cases[::2])
    assert set(half.shared) == set(real.shared)
    # Predictions come from the factors and the row's shape only: a fixed factor set predicts
    # the real and the scrambled cases identically.
    assert list(predict_with(real, cases)) == list(predict_with(real, scrambled))
    assert hashlib.sha256(inspect.getsource(capacity_module).encode()).hexdigest() == physics


def test_publisher_offsets_shape_the_fit_but_never_a_prediction() -> None:
    # Each training publisher has its own offset in the fit (its harness and build); a
    # prediction never uses one: the same case predicts the same whoever published it, so a
    # new source is predicted by the shared, engine and vendor factors only.
    cases, _ = build_cases(load_catalog())
    full = fit(cases)
    relabelled = [dataclasses.replace(c, publisher="a source never seen") for c in cases]
    assert list(predict_with(full, cases)) == list(predict_with(full, relabelled))
    assert "a source never seen" not in full.engine_offsets
    assert full.publishers == len({c.publisher for c in cases})


def test_a_publishers_slow_moe_runs_move_its_own_offset_not_moe_physics(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One publisher's MoE rows all measured 3x slower (a slow MoE build, say) should be absorbed
    # by that publisher's MoE offset: the MoE predictions for every other source stay within 5%
    # (within 1% at the median; the most moved are the weight-only rows, whose engine factor
    # few other publishers inform). With the offset pinned to zero the same change bends the
    # shared MoE factors, and other sources' MoE predictions move by more than 10%.
    cases, _ = build_cases(load_catalog())
    slowed = [
        dataclasses.replace(
            c, measured_output_tokens_per_second=c.measured_output_tokens_per_second / 3
        )
        if c.publisher == "GPUStack" and c.is_moe
        else c
        for c in cases
    ]
    others = [c for c in cases if c.publisher != "GPUStack" and c.is_moe]
    ratio = predict_with(fit(slowed), others) / predict_with(fit(cases), others)
    assert np.all(np.abs(ratio - 1) < 0.05)
    assert np.median(np.abs(ratio - 1)) < 0.01
    monkeypatch.setattr(calibration_module, "PUBLISHER_MOE_PRIOR_SD", 1e-3)
    pinned = predict_with(fit(slowed), others) / predict_with(fit(cases), others)
    assert np.max(np.abs(pinned - 1)) > 0.1


def test_validation_is_fast(report: CapacityValidation) -> None:
    # The budget: under 10 s over 300+ rows (here: whatever the catalog holds). CPU
    # time, so that other work on a shared machine does not fail it.
    assert report.cpu_seconds < 10.0


def test_error_band_quantiles_are_ordered_and_sampled_within(
    report: CapacityValidation,
) -> None:
    for quantiles in report.measured_over_predicted.values():
        values = list(quantiles.values())
        assert values == sorted(values)
    band = capacity_factors.error_band(moe=True)
    assert band is not None and band.rows >= 1
    draws = band.sample(np.random.default_rng(1), 2000)
    assert draws.min() >= band.quantiles[0.05] - 1e-12
    assert draws.max() <= band.quantiles[0.95] + 1e-12
    # About half the draws fall below the median ratio.
    assert 0.4 < float(np.mean(draws < band.quantiles[0.5])) < 0.6


def test_ratio_quantiles_by_hand() -> None:
    # Measured / predicted of 1.0, 2.0, 4.0 (predicted 1, 0.5, 0.25 of measured): median 2.0.
    cases, _ = build_cases(load_catalog())
    c = cases[0]
    m = c.measured_output_tokens_per_second
    results = [CaseResult(c, m / k) for k in (1.0, 2.0, 4.0)]
    q = ratio_quantiles(results)
    assert q["p50"] == pytest.approx(2.0)
    assert q["p05"] == pytest.approx(1.1)  # inclusive method: 1 + 0.1 x (2 - 1)


def test_a_publishers_own_level_divides_out_and_its_spread_stays() -> None:
    # Publisher A predicted 1.2x, 1.2x and 1.5x its measurements: its median ratio 1.2 divides
    # out, leaving errors 0%, 0% and 1.5 / 1.2 - 1 = +25%. Publisher B predicted at 0.5x on
    # every row: a level alone, so nothing is left.
    cases, _ = build_cases(load_catalog())
    a = [dataclasses.replace(c, publisher="A") for c in cases[:3]]
    b = [dataclasses.replace(c, publisher="B") for c in cases[3:5]]
    results = [
        CaseResult(c, c.measured_output_tokens_per_second * k)
        for c, k in zip([*a, *b], (1.2, 1.2, 1.5, 0.5, 0.5), strict=True)
    ]
    left = [round(r.signed_error, 6) for r in publisher_level_removed(results)]
    assert left == [0.0, 0.0, 25.0, 0.0, 0.0]


def test_efficiency_rows_name_their_publishers() -> None:
    catalog = load_catalog()
    cases, _ = build_cases(catalog)
    publishers = {c.publisher for c in cases}
    engines = {row.engine for row in catalog.efficiency}
    assert engines == {"vllm", "sglang", "trtllm", "llamacpp"}
    for row in catalog.efficiency:
        assert set(row.publishers) <= publishers
        assert row.fitted_rows or row.notes  # a stand-in says so


def test_case_set_prediction_matches_single_predict() -> None:
    # The array path the fit uses and the scalar path the CLI uses are one implementation.
    catalog = load_catalog()
    cases, _ = build_cases(catalog)
    effs = capacity_factors.catalog_efficiencies(catalog)
    sample = [c for c in cases if c.mode in ("concurrency", "offline-max")][:10]
    for case in sample:
        eff = capacity_module.select_efficiency(effs, case.engine, case.gpu.vendor)
        assert eff is not None
        single = capacity_module.predict(
            case.arch,
            case.gpu,
            case.precision,
            case.kv_precision,
            case.gpus,
            case.input_tokens,
            case.output_tokens,
            case.concurrency if case.mode == "concurrency" else None,
            eff,
            layout=case.layout,
        )
        arrays = CaseSet.build([case], (), ()).predict(capacity_module.Factors.of(eff))
        assert float(arrays[0]) == pytest.approx(single.output_tokens_per_second, rel=1e-9)


def _app() -> typer.Typer:
    app = typer.Typer()
    capacity_cli.register(app)
    return app


def test_cli_validate_capacity_json(validated: Validated, monkeypatch: pytest.MonkeyPatch) -> None:
    # The command prints what validate() gives for the catalog: the module's run, which the
    # tests above check, handed over when the command asks for exactly that catalog.
    catalog = load_catalog()

    def validate_once(given: object) -> tuple[CapacityValidation, Fit, list[Case]]:
        assert given is catalog
        return validated[0]

    monkeypatch.setattr(capacity_validation, "validate", validate_once)
    result = CliRunner().invoke(_app(), ["validate-capacity", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["overall"]["rows"] == len(data["rows"])
    assert {"by_publisher", "by_gpu", "by_engine", "by_class", "by_mode"} <= set(data)
    bad = CliRunner().invoke(_app(), ["validate-capacity", "--format", "xml"])
    assert bad.exit_code == 2


@pytest.mark.parametrize(
    ("engine", "version", "vendor", "cuda_graphs", "expected"),
    [
        # vLLM V1 is the default from 0.8.0: earlier builds are V0, whatever the suffix.
        ("vllm", "0.6.3.dev116", "nvidia", None, "vllm-v0"),
        ("vllm", "0.5.4.dev (main, 2024-08-04)", "nvidia", None, "vllm-v0"),
        ("vllm", "0.7.3", "amd", None, "vllm-v0/amd"),
        # ROCm builds before 0.7 lack the kernels AMD's images added from 0.7 (AITER and so on).
        ("vllm", "0.6.1", "amd", None, "vllm-0.6/amd"),
        ("vllm", "0.6.1", "nvidia", None, "vllm-v0"),
        ("vllm", "0.8.0", "nvidia", None, None),
        ("vllm", "0.10.0", "amd", None, None),
        ("vllm", "v0.11.0", "nvidia", None, None),
        # SGLang's overlap scheduler came with 0.4.
        ("sglang", "0.3.6", "nvidia", None, "sglang-pre-overlap"),
        ("sglang", "0.4.1", "nvidia", None, None),
        # No version, or one that is not a release number: a current build.
        ("vllm", None, "nvidia", None, None),
        ("trtllm", "commit b6261862419c", "nvidia", None, None),
        ("trtllm", "0.9.0", "nvidia", None, None),
        # Without CUDA graphs, whatever the version.
        ("sglang", "0.4.1", "nvidia", False, "eager"),
        ("vllm", "0.11.0", "nvidia", True, None),
    ],
)
def test_engine_generation_from_the_row(
    engine: str, version: str | None, vendor: str, cuda_graphs: bool | None, expected: str | None
) -> None:
    assert capacity_module.engine_generation(engine, version, vendor, cuda_graphs) == expected


def test_generation_offsets_reach_old_builds_only() -> None:
    # Rows that name an old engine build shape their generation's offset; current-build
    # factors (efficiency.yaml, the CLI) never carry it.
    cases, _ = build_cases(load_catalog())
    old = [c for c in cases if c.generation == "vllm-v0"]
    assert old, "the catalog has vLLM V0 rows"
    full = fit(cases)
    assert "vllm-v0" in full.generation_offsets
    vendor = old[0].gpu.vendor
    current = full.efficiency("vllm", vendor, "")
    assert full.efficiency("vllm", vendor, "", None) == current
    assert full.efficiency("vllm", vendor, "", "vllm-v0") != current
    as_current = [dataclasses.replace(c, generation=None) for c in old]
    assert list(predict_with(full, old)) != list(predict_with(full, as_current))


def test_jacobian_matches_central_differences() -> None:
    # The fit's Jacobian (forward differences of all factor columns in one call, exact for the
    # publisher offsets and priors) against central differences of the residuals, column by
    # column, at a point away from the start.
    from scipy.optimize._numdiff import approx_derivative

    from llm_tco.core.calibration import _case_set, _Problem

    cases, _ = build_cases(load_catalog())
    sample = cases[::9]
    problem = _Problem(_case_set(sample), np.ones(len(sample)))
    x = problem.x0 + np.random.default_rng(3).normal(0.0, 0.2, problem.x0.size)
    ours = problem.jacobian(x)
    central = approx_derivative(problem.residuals, x, method="3-point", rel_step=1e-5)
    assert ours.shape == central.shape
    # The step time is piecewise smooth (the larger of memory and compute time, grouped-GEMM
    # tiles of whole rows): where a forward step of 1e-3 crosses such a kink the two schemes
    # differ by the change of slope, so a few entries may differ by more than the rest.
    off = np.abs(ours - central)
    scale = max(1.0, float(np.max(np.abs(central))))
    assert np.count_nonzero(off > 2e-2 * scale) <= 3
    assert np.max(off) < 0.1 * scale


def test_a_row_its_source_calls_not_comparable_is_skipped_not_predicted() -> None:
    # Two copies of one published row; the second carries the source's own reason it does not
    # represent the engine. Only the first becomes a case; the second is listed with the words.
    catalog = load_catalog()
    row = next(r for r in catalog.benchmarks if r.not_comparable is None)
    reason = 'the source: "may not reflect its optimal efficiency"'
    flagged = row.model_copy(update={"id": "flagged", "not_comparable": reason})
    cases, skipped = build_cases(catalog, [row, flagged])
    assert [c.row_id for c in cases] == [row.id]
    assert [(i, r) for i, r in skipped if i == "flagged"] == [
        ("flagged", f"not comparable (source): {reason}")
    ]


def test_a_not_comparable_reason_must_say_something() -> None:
    with pytest.raises(ValueError, match="not_comparable"):
        _row(not_comparable="bad")


def test_the_report_counts_the_rows_left_out_by_their_source(report: CapacityValidation) -> None:
    flagged = {r.id for r in load_catalog().benchmarks if r.not_comparable is not None}
    assert report.not_comparable_rows == len(flagged)
    assert flagged <= {i for i, _ in report.skipped}
    assert not flagged & {r.id for r in report.rows}
