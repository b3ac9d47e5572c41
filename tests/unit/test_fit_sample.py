"""The fit's row sample and weights: by publisher and row id, never by a measured value."""

from __future__ import annotations

import dataclasses
import math
import random

import numpy as np

from llm_tco.capacity_validation import build_cases
from llm_tco.catalog.benchmarks import BenchmarkRow
from llm_tco.catalog.loader import load_catalog
from llm_tco.core.calibration import ROWS_PER_PUBLISHER, Case, fit_sample


def _cases() -> list[Case]:
    """100 rows of one publisher and 7 of another, made from one catalog row."""
    catalog = load_catalog()
    row: BenchmarkRow = next(r for r in catalog.benchmarks if r.not_comparable is None)
    (base,), _ = build_cases(catalog, [row])
    big = [
        dataclasses.replace(
            base, row_id=f"big-{i}", publisher="Big", measured_output_tokens_per_second=100.0 + i
        )
        for i in range(100)
    ]
    small = [
        dataclasses.replace(
            base, row_id=f"small-{i}", publisher="Small", measured_output_tokens_per_second=5.0 + i
        )
        for i in range(7)
    ]
    return big + small


def test_each_publisher_weighs_one_however_many_rows_it_printed() -> None:
    cases = _cases()
    rows, weights = fit_sample(cases, np.arange(len(cases)))
    kept = [cases[i].publisher for i in rows]
    # By hand: Big keeps ROWS_PER_PUBLISHER = 60 of its 100 rows at 1 / sqrt(60) each, Small all
    # 7 at 1 / sqrt(7): each publisher's squared weights sum to 1.
    assert ROWS_PER_PUBLISHER == 60
    assert kept.count("Big") == 60 and kept.count("Small") == 7
    for publisher, n in (("Big", 60), ("Small", 7)):
        w = weights[[p == publisher for p in kept]]
        assert np.allclose(w, 1 / math.sqrt(n))
        assert math.isclose(float(np.sum(w**2)), 1.0)


def test_the_sample_and_weights_never_read_a_measured_value() -> None:
    cases = _cases()
    values = [c.measured_output_tokens_per_second for c in cases]
    random.Random(5).shuffle(values)
    scrambled = [
        dataclasses.replace(c, measured_output_tokens_per_second=v * 1000)
        for c, v in zip(cases, values, strict=True)
    ]
    rows, weights = fit_sample(cases, np.arange(len(cases)))
    rows2, weights2 = fit_sample(scrambled, np.arange(len(cases)))
    assert list(rows) == list(rows2)
    assert list(weights) == list(weights2)


def test_another_salt_draws_another_sample_with_the_same_weights() -> None:
    cases = _cases()
    rows, weights = fit_sample(cases, np.arange(len(cases)))
    again, _ = fit_sample(cases, np.arange(len(cases)))
    other, other_weights = fit_sample(cases, np.arange(len(cases)), salt="draw-1")
    assert list(rows) == list(again)  # the default sample is reproducible
    assert set(rows) != set(other)  # 60 of 100 Big rows: another draw picks others
    assert sorted(weights) == sorted(other_weights)
    assert {i for i in other if cases[i].publisher == "Small"} == set(range(100, 107))
