"""Summary arithmetic on hand-made cubes, catalog pricing, and the workload_from_logs cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from llm_tco.catalog.prices import ApiPriceQuote
from llm_tco.ingest import api, workload_from_logs
from llm_tco.ingest.model import CubeRow, Scan
from llm_tco.ingest.summary import catalog_cost_usd, summarise

DATA = Path(__file__).parent.parent / "data" / "ingest"
QUOTE = ApiPriceQuote(
    model="m",
    provider="p",
    input_per_mtok=1.0,
    output_per_mtok=2.0,
    cached_input_per_mtok=0.5,
    batch_discount=0.5,
    source="test",
)
HOUR_2025_01_06 = 481_080  # 2025-01-06T00:00Z (a Monday) = 1736121600 s / 3600


def row(hour: int, input_tokens: float, output_tokens: float, **extra: object) -> CubeRow:
    values: dict[str, object] = {
        "group": "all",
        "model": "m",
        "hour": hour,
        "batch": False,
        "rows": 1,
        "requests": 1.0,
        "requests_known": True,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cached_input_tokens": 0.0,
        "billed_usd": None,
        "billed_rows": 0,
        "bucket_seconds": 0.0,
    }
    values.update(extra)
    return CubeRow(**values)  # type: ignore[arg-type]


def test_catalog_cost_formula() -> None:
    # 1M input of which 0.2M cached, 0.5M output at $1 / $0.5 cached / $2 per 1M:
    # 0.8 * 1 + 0.2 * 0.5 + 0.5 * 2 = 1.9 USD; batch traffic at half price: 0.95.
    r = row(0, 1e6, 5e5, cached_input_tokens=2e5)
    assert catalog_cost_usd(r, QUOTE) == pytest.approx(1.9)
    assert catalog_cost_usd(r.model_copy(update={"batch": True}), QUOTE) == pytest.approx(0.95)


def test_unknown_models_are_listed_not_fatal() -> None:
    scan = Scan(
        cube=[row(0, 1e6, 0), row(0, 1e6, 0).model_copy(update={"model": "mystery"})],
        rejected=[],
        skipped=[],
        formats=["generic"],
    )
    summary = summarise(scan, lambda name: QUOTE if name == "m" else None)
    assert summary.unpriced_models == ["mystery"]
    assert summary.groups["all"].catalog_cost_usd == pytest.approx(1.0)  # the priced model only


def test_real_catalog_price_is_used() -> None:
    quote = api.catalog_price("gpt-4o-mini")
    assert quote is not None and quote.input_per_mtok > 0
    assert api.catalog_price("no-such-model-anywhere") is None


def test_weekend_ratio() -> None:
    # Mon 2025-01-06 .. Sun 2025-01-12: 100 tokens every weekday, 50 on each weekend day.
    cube = [row(HOUR_2025_01_06 + 24 * d, 100 if d < 5 else 50, 0) for d in range(7)]
    g = summarise(Scan(cube=cube, rejected=[], skipped=[], formats=["t"])).groups["all"]
    assert g.weekend_to_weekday == pytest.approx(0.5)
    assert g.hourly_profile[0] == pytest.approx(1.0)  # every token at 00:00 UTC


HOUR_2025_01_01 = 482_136  # 2025-01-01T00:00Z = 1735689600 s / 3600


def test_growth_is_per_day_so_february_is_not_a_fall() -> None:
    # 1.0M tokens every day of January (31M), 1.012M every day of February (28.3M): the
    # monthly totals fall 8.5%, the traffic per day rose 1.2%. Midpoints are 29.5 days apart,
    # so per 30 days: 1.012 ** (30 / 29.5) - 1 = +1.22%.
    jan = [row(HOUR_2025_01_01 + 24 * d, 1e6, 0) for d in range(31)]
    feb = [row(HOUR_2025_01_01 + 24 * (31 + d), 1.012e6, 0) for d in range(28)]
    g = summarise(Scan(cube=jan + feb, rejected=[], skipped=[], formats=["t"])).groups["all"]
    # (the monthly totals, 28 x 1.012M against 31 x 1.0M, would say -8.6%)
    assert g.monthly_growth == pytest.approx(1.012 ** (30 / 29.5) - 1)
    assert g.monthly_growth == pytest.approx(0.0122, abs=1e-4)


def test_peak_to_mean_never_below_one() -> None:
    # One busy hour among 48: the p95 hour is empty, the reported ratio stays 1.
    cube = [row(HOUR_2025_01_06, 100, 0), row(HOUR_2025_01_06 + 47, 0, 0)]
    g = summarise(Scan(cube=cube, rejected=[], skipped=[], formats=["t"])).groups["all"]
    assert g.peak_to_mean == 1.0


def test_workload_from_logs_is_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_TCO_CACHE_DIR", str(tmp_path / "cache"))
    log = tmp_path / "generic.csv"
    log.write_bytes((DATA / "generic.csv").read_bytes())
    first = workload_from_logs(log)
    # Four good rows on one day: 800 input, 80 output tokens, scaled by 30.
    assert first["input_tokens_per_month"] == 24000
    assert first["requests_per_month"] == 120
    assert first["peak_to_mean"] == pytest.approx(1.85)

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the log was read again")

    monkeypatch.setattr(api, "scan_files", no_reading)
    assert workload_from_logs(log) == first
    # A changed file (new mtime) is read again.
    os.utime(log, ns=(1, 1))
    with pytest.raises(AssertionError, match="read again"):
        workload_from_logs(log)


def test_workload_from_logs_for_one_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_TCO_CACHE_DIR", str(tmp_path))
    section = workload_from_logs(DATA / "generic.csv", group="wl-b")
    assert section["input_tokens_per_month"] == 100 * 30
    assert set(section) <= {
        "input_tokens_per_month",
        "output_tokens_per_month",
        "requests_per_month",
        "input_tokens_per_request",
        "output_tokens_per_request",
        "peak_to_mean",
        "cached_input_share",
        "batch_share",
    }
