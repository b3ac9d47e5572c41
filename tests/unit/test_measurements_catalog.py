"""Every published measurement row is traceable and sized against the catalog.

The capacity model is validated by leaving whole publishers out, so each row must name its
publisher, cite the document it was copied from (a URL) and the date, and refer to a model and
GPU the catalog can resolve. A file in ``catalog/measurements/`` holds one source document.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from llm_tco.catalog.benchmarks import BenchmarkRow
from llm_tco.catalog.loader import DATA_DIR, load_catalog, read_rows
from llm_tco.errors import CatalogLookupError

CATALOG = load_catalog()
MEASUREMENT_FILES = sorted((DATA_DIR / "measurements").glob("*.yaml"))
URL = re.compile(r"https?://\S+")


def rows_of(path: Path) -> list[BenchmarkRow]:
    return read_rows(path, BenchmarkRow)


def test_the_measurement_files_are_read_by_the_catalog() -> None:
    in_files = {row.id for path in MEASUREMENT_FILES for row in rows_of(path)}
    assert in_files, "catalog/measurements/ holds no rows"
    assert in_files <= {row.id for row in CATALOG.benchmarks}


def test_row_ids_are_unique_across_all_files() -> None:
    ids = [row.id for row in CATALOG.benchmarks]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicated


@pytest.mark.parametrize("path", MEASUREMENT_FILES, ids=lambda p: p.name)
def test_rows_resolve_and_cite_their_source(path: Path) -> None:
    for row in rows_of(path):
        try:
            model = CATALOG.model(row.model)
            gpu = CATALOG.gpu(row.gpu)
        except CatalogLookupError as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"{path.name}: {row.id}: {exc}")
        assert model.id and gpu.id
        assert row.publisher, f"{row.id}: no publisher"
        assert URL.search(row.source), f"{row.id}: source has no URL"
        assert row.as_of.year >= 2023, f"{row.id}: as_of {row.as_of}"


@pytest.mark.parametrize("path", MEASUREMENT_FILES, ids=lambda p: p.name)
def test_one_file_is_one_document_from_one_publisher(path: Path) -> None:
    urls: set[str] = set()
    publishers: set[str | None] = set()
    for row in rows_of(path):
        match = URL.search(row.source)
        assert match is not None
        urls.add(match.group(0).rstrip(").,;"))
        publishers.add(row.publisher)
    assert len(urls) == 1, f"{path.name} cites {sorted(urls)}"
    assert len(publishers) == 1, f"{path.name} names publishers {sorted(map(str, publishers))}"


@pytest.mark.parametrize("path", MEASUREMENT_FILES, ids=lambda p: p.name)
def test_parallel_layout_fits_the_gpus_measured(path: Path) -> None:
    for row in rows_of(path):
        pp = row.pipeline_parallel or 1
        tp = row.tensor_parallel or row.gpu_count // pp  # unset TP: the schema's default
        dp = row.data_parallel or 1
        # attention data parallel runs inside the TP group (DeepSeek-style), so only TP x PP
        # must equal the GPUs of one replica; plain data parallel replicas multiply it.
        assert row.gpu_count in (tp * pp, tp * pp * dp), f"{row.id}: TP{tp} PP{pp} DP{dp}"
        if row.expert_parallel is not None:
            assert row.expert_parallel <= row.gpu_count, row.id


def test_a_row_left_out_as_not_comparable_quotes_its_source() -> None:
    # A row is only ever left out in its source's own words (a quoted sentence or figures),
    # never because it is badly predicted.
    for row in CATALOG.benchmarks:
        if row.not_comparable is not None:
            assert re.search(r"['\"].{8,}['\"]", row.not_comparable), row.id
