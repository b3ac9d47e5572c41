"""$ per 1M tokens = hourly price / (3600 x tokens/s) x 1e6, with figures worked by hand."""

from __future__ import annotations

import pytest

from llm_tco.bench.cost import deployments_needed, usd_per_mtok
from llm_tco.bench.metrics import RequestRecord
from llm_tco.bench.pricing import resolve_pricing
from llm_tco.bench.result import LevelResult
from llm_tco.errors import BenchError


def test_h100_at_1000_output_tokens_per_second() -> None:
    # By hand: 1,000 tok/s x 3,600 s = 3.6M tokens an hour for $2.49,
    # so 1M tokens cost 2.49 / 3.6 = $0.691666...
    assert usd_per_mtok(2.49, 1000.0) == pytest.approx(0.6916667, rel=1e-6)


def test_cost_scales_inversely_with_throughput() -> None:
    # By hand: $8/h at 250 tok/s -> 900,000 tokens/h -> 8 / 0.9 = $8.888... per 1M.
    assert usd_per_mtok(8.0, 250.0) == pytest.approx(8.888889, rel=1e-6)
    # A node of 8 GPUs at $2/GPU-h = $16/h serving 20,000 tok/s -> 72M tok/h -> 16/72 = $0.2222.
    assert usd_per_mtok(16.0, 20_000.0) == pytest.approx(0.222222, rel=1e-5)


def test_nothing_served_has_no_cost_per_token() -> None:
    assert usd_per_mtok(2.49, 0.0) is None


def test_negative_price_is_refused() -> None:
    with pytest.raises(BenchError):
        usd_per_mtok(-1.0, 10.0)


def test_level_cost_uses_its_measured_throughput() -> None:
    # Two requests of 500 output tokens each over exactly 1 s: 1,000 output tok/s.
    # Each also had 250 input tokens: 500 input tok/s, 1,500 total tok/s.
    records = [
        RequestRecord(
            start_s=0.0, first_token_s=0.1, end_s=1.0, input_tokens=250, output_tokens=500
        ),
        RequestRecord(
            start_s=0.0, first_token_s=0.1, end_s=1.0, input_tokens=250, output_tokens=500
        ),
    ]
    level = LevelResult(concurrency=2, requests=records, hourly_usd=2.49)
    assert level.output_tokens_per_second == pytest.approx(1000.0)
    assert level.usd_per_mtok_output == pytest.approx(0.6916667, rel=1e-6)
    # 2.49 / (3600 x 1500) x 1e6 = 2.49 / 5.4 = $0.461111
    assert level.usd_per_mtok_total == pytest.approx(0.4611111, rel=1e-6)


def test_hourly_flag_is_per_gpu() -> None:
    pricing = resolve_pricing(hourly=2.49, gpu=None, count=4, offer=None)
    assert pricing is not None
    assert pricing.hourly_usd == pytest.approx(9.96)  # 4 x 2.49


def test_deployments_for_a_peak() -> None:
    # 2,500 tok/s peak over 1,000 tok/s per deployment -> 2.5 -> 3 whole deployments.
    assert deployments_needed(2500.0, 1000.0) == 3
    assert deployments_needed(2000.0, 1000.0) == 2
    with pytest.raises(BenchError):
        deployments_needed(10.0, 0.0)


def test_scenario_peak_rate_by_hand() -> None:
    from llm_tco.bench.scenario_peak import peak_output_tokens_per_second

    # 2B output tokens over 720 h = 2e9 / 2,592,000 s = 771.6 tok/s mean; x3 at peak = 2,314.8.
    assert peak_output_tokens_per_second(2e9, 720.0, 3.0) == pytest.approx(2314.81, rel=1e-5)
    # Carried by deployments measured at 1,000 tok/s: 3 of them.
    assert deployments_needed(peak_output_tokens_per_second(2e9, 720.0, 3.0), 1000.0) == 3
