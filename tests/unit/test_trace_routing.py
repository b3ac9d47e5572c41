"""The per-minute sizing at percentile targets behind the deployment's router."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest

from llm_tco.core.fleetsize import FleetCapacity
from llm_tco.core.trace import MinuteLoad
from llm_tco.scenario import Scenario
from llm_tco.trace_sizing import fleet_sizer, size_trace


def test_fleet_sizer_by_hand() -> None:
    # A table: 1 replica carries 1 req/s, each of 2-3 carries 1.5, each of 4+ 2.0; requests of
    # 100 tokens. Minutes of 0, 6,000, 6,060, 18,000 and 27,600 tokens are 0, 1.0, 1.01, 3.0
    # and 4.6 req/s: none; 1; 2 (one carries 1.0 < 1.01, two 3.0); 2; 4 (three carry 4.5,
    # four 8.0). With 50% retries 6,000 tokens are 1.5 req/s: 2.
    table = FleetCapacity("least-loaded", (1, 2, 4), (1.0, 1.5, 2.0))
    tokens = np.array([0.0, 6000.0, 6060.0, 18000.0, 27600.0])
    load = MinuteLoad(tokens / 100, tokens, np.zeros(5))
    assert fleet_sizer(table, 100.0, 0.0)(load).tolist() == [0, 1, 2, 2, 4]
    assert fleet_sizer(table, 100.0, 0.5)(load).tolist()[1] == 2


PROFILE = [1.0] * 8 + [4.0] * 10 + [2.0] * 6  # mean 2.5: hours at 0.4x, 1.6x and 0.8x the mean


def data(routing: str | None) -> dict[str, Any]:
    # Llama-3.1-8B on one H100, 1,000 + 200 tokens a request, p99 TTFT <= 150 ms; 60 req/s
    # on average (155.52M requests in a 720-hour month): 24, 96 and 48 req/s by hour.
    hosted: dict[str, Any] = {
        "model": "llama-3.1-8b",
        "gpu": "h100-sxm-80gb",
        "gpu_hourly_price": 2.5,
        "tpot_slo_ms": 50,
        "ttft_slo_ms": 150,
        "ttft_slo_percentile": 99,
    }
    if routing is not None:
        hosted["routing"] = routing
    return {
        "name": "routed day",
        "workload": {
            "requests_per_month": 60 * 720 * 3600,
            "input_tokens_per_request": 1000,
            "output_tokens_per_request": 200,
            "hourly_profile": PROFILE,
        },
        "options": [{"name": "own", "self_hosted": hosted}],
    }


def scenario(routing: str | None) -> Scenario:
    return Scenario.model_validate(data(routing))


def test_the_day_is_sized_behind_the_router() -> None:
    random = size_trace(scenario("random"), overflow=None)
    pooled = size_trace(scenario(None), overflow=None)  # the default: least-loaded
    # Random routing: each replica sees a thinned stream, so every minute needs
    # ceil(rate / one replica's rate at the target), the per-replica sizing.
    assert random.routing == "random" and len(random.fleet_rates) == 1
    one = random.fleet_rates[0].requests_per_second_per_replica
    hourly = [24.0] * 8 + [96.0] * 10 + [48.0] * 6
    expected = [math.ceil(rate / one - 1e-9) for rate in hourly for _ in range(60)]
    assert random.gpus_needed_per_minute == expected
    # The one replica's rate is the capacity evaluate sizes the option with.
    tokens = 1200 * one
    assert random.capacity_tokens_per_second_per_replica == pytest.approx(tokens, rel=1e-6)
    # Least-loaded: the same one-replica rate, more per replica in larger fleets, so never more
    # GPUs in any minute, and fewer at the peak.
    assert pooled.routing == "least-loaded"
    rates = [r.requests_per_second_per_replica for r in pooled.fleet_rates]
    assert rates[0] == pytest.approx(one)
    assert all(b >= a for a, b in itertools.pairwise(rates))
    assert all(
        p <= r
        for p, r in zip(pooled.gpus_needed_per_minute, random.gpus_needed_per_minute, strict=True)
    )
    assert pooled.gpus_needed.maximum < random.gpus_needed.maximum
    # Each minute: the fewest n with n x rate(n) >= its req/s.
    sizes = [r.replicas for r in pooled.fleet_rates]
    table = FleetCapacity("least-loaded", tuple(sizes), tuple(rates))
    peak = pooled.gpus_needed.maximum
    assert peak == int(table.replicas_for([96.0])[0])
    assert peak * table.per_replica(peak) >= 96.0 > (peak - 1) * table.per_replica(peak - 1)
    assert "least-loaded router" in pooled.sizing


def test_evaluate_says_it_sizes_the_peak_per_replica() -> None:
    from llm_tco import evaluate

    notes = {a.name: a.value for a in evaluate(scenario(None)).assumptions}
    assert (
        "size-trace sizes the fleet behind the least-loaded router"
        in (notes["own: tail-latency sizing"])
    )
    notes = {a.name: a.value for a in evaluate(scenario("random")).assumptions}
    assert "size-trace" not in notes["own: tail-latency sizing"]


def test_an_unknown_router_is_refused_naming_the_field() -> None:
    import typer
    from typer.testing import CliRunner

    from llm_tco import capacity_cli
    from llm_tco.errors import ScenarioError
    from llm_tco.scenario import scenario_from_data

    with pytest.raises(ScenarioError, match="routing"):
        scenario_from_data(data("by-name"))
    app = typer.Typer()
    capacity_cli.register(app)
    args = ["capacity", "llama-3.1-8b", "h100", "--ttft-slo-percentile", "99", "--rate", "5"]
    result = CliRunner().invoke(app, [*args, "--routing", "by-name"])
    assert result.exit_code == 2
    assert "--routing" in result.output and "least-loaded" in result.output
