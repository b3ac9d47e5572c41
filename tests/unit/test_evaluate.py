"""Scenario -> result, line by line, with hand-worked numbers."""

import pytest

from support import ROOT, run


def api(name="api", **prices):
    return {"name": name, "api": prices or {"input_per_mtok": 3, "output_per_mtok": 15}}


def codes(result, option=None):
    return {w.code for w in result.warnings if option is None or w.option == option}


def test_catalog_cache_read_and_batch_discount() -> None:
    # Claude Haiku 4.5 (genai-prices): $1 in, $0.10 cache read, $5 out; Anthropic batch 50% off.
    # 1B input, 30% cached; 200M output; 20% batch:
    # input 700M x 1 = 700; cached 300M x 0.1 = 30; output 200M x 5 = 1,000; list 1,730;
    # batch -1,730 x 0.2 x 0.5 = -173; total 1,557.
    result = run(
        {
            "workload": {
                "input_tokens_per_month": "1B",
                "output_tokens_per_month": "200M",
                "cached_input_share": 0.3,
                "batch_share": 0.2,
            },
            "options": [{"name": "haiku", "api": {"model": "claude-haiku-4.5"}}],
        }
    )
    haiku = result.option("haiku")
    assert haiku.breakdown["cached_input"] == pytest.approx(30)
    assert haiku.breakdown["batch_discount"] == pytest.approx(-173)
    assert haiku.monthly_cost == pytest.approx(1557)
    assert haiku.price.source.startswith("genai-prices")


def test_missing_cache_price_warns_and_bills_full_input() -> None:
    result = run(
        {
            "workload": {"tokens_per_month": "1B", "input_share": 0.5, "cached_input_share": 0.5},
            "options": [api()],
        }
    )
    assert "no_cache_price" in codes(result)
    # 500M x 3 + 500M x 15 = 9,000 (cached input billed as uncached)
    assert result.option("api").monthly_cost == pytest.approx(9000)


def test_retries_and_acceptance() -> None:
    # 1,000 requests x (1,000 in + 100 out) at $3/$15: 3 + 1.5 = $4.50; 30% retries -> $5.85;
    # 60% accepted -> $5.85 / 600 = $0.00975 per accepted request.
    result = run(
        {
            "workload": {
                "requests_per_month": 1000,
                "input_tokens_per_request": 1000,
                "output_tokens_per_request": 100,
            },
            "options": [{**api(), "retry_rate": 0.3, "acceptance_rate": 0.6}],
        }
    )
    option = result.option("api")
    assert option.monthly_cost == pytest.approx(5.85)
    assert option.cost_per_accepted_request == pytest.approx(0.00975)


def test_owned_gpus_with_power_engineering_hours_and_setup() -> None:
    # 2 owned GPUs at $30,000 over 36 months = $833.33 each; power 700 W x 720 h x $0.12 x PUE 1.5
    # = $90.72 each; 10 h x $150 engineering = $1,500; setup $12,000 over 12 months = $1,000.
    # Total: 2 x (833.33 + 90.72) + 1,500 + 1,000 = $4,348.11.
    result = run(
        {
            "workload": {"tokens_per_month": "1B", "input_share": 0.5},
            "options": [
                api(),
                {
                    "name": "owned",
                    "self_hosted": {
                        "gpu": "h100-sxm-80gb",
                        "gpu_count": 2,
                        "purchase": {
                            "price_per_gpu": 30000,
                            "usd_per_kwh": 0.12,
                            "pue": 1.5,
                            "watts_per_gpu": 700,
                        },
                        "engineering_hours_per_month": 10,
                        "engineer_hourly_rate": 150,
                        "setup_cost": 12000,
                    },
                },
            ],
        }
    )
    owned = result.option("owned")
    assert owned.breakdown["gpus"] == pytest.approx(2 * 30000 / 36)
    assert owned.breakdown["power"] == pytest.approx(2 * 90.72)
    assert owned.breakdown["engineering"] == pytest.approx(1500)
    assert owned.breakdown["setup"] == pytest.approx(1000)
    assert owned.monthly_cost == pytest.approx(4348.11, abs=0.01)


def test_eur_offer_is_converted() -> None:
    # Hetzner GEX44 EUR 184/month x the scenario's 1.10 USD/EUR = $202.40.
    result = run(
        {
            "workload": {"tokens_per_day": "1M", "input_share": 0.5},
            "options": [
                api(),
                {
                    "name": "gex44",
                    "self_hosted": {
                        "gpu": "rtx-4000-sff-ada",
                        "gpu_count": 1,
                        "offer": "hetzner-gex44",
                        "usd_per_eur": 1.10,
                        "ops_monthly": 0,
                    },
                },
            ],
        }
    )
    assert result.option("gex44").breakdown["gpus"] == pytest.approx(202.40)


def test_ops_defaults_when_nothing_stated(catalog) -> None:
    result = run(
        {
            "workload": {"tokens_per_month": "1B", "input_share": 0.5},
            "options": [
                api(),
                {
                    "name": "own",
                    "self_hosted": {"gpu": "l4", "gpu_count": 1, "gpu_hourly_price": 1},
                },
            ],
        }
    )
    own = result.option("own")
    fte = catalog.ops_default("engineer_fte").value
    annual = catalog.ops_default("engineer_annual_cost_usd").value
    assert own.breakdown["engineering"] == pytest.approx(fte * annual / 12)
    assert "ops_defaults_assumed" in codes(result, "own")
    assert all(line.source for line in own.line_items)


def test_auto_gpus_capacity_and_utilisation() -> None:
    # One replica (1 GPU) serves 2,000 tokens/s. 10B tokens/month over 720 h = 3,858 tokens/s
    # mean, peak_to_mean 1.5 -> 5,787 tokens/s at peak -> 3 replicas; utilisation at mean
    # 3,858 / 6,000 = 64.3%.
    result = run(
        {
            "workload": {"tokens_per_month": "10B", "input_share": 0.8, "peak_to_mean": 1.5},
            "options": [
                api(),
                {
                    "name": "own",
                    "self_hosted": {
                        "gpu": "h100-sxm-80gb",
                        "gpu_hourly_price": 2,
                        "tokens_per_second_per_replica": 2000,
                        "ops_monthly": 1000,
                    },
                },
            ],
        }
    )
    own = result.option("own")
    assert own.gpus == 3
    assert own.deployment.utilisation_at_mean == pytest.approx(10e9 / 2.592e6 / 6000)
    assert own.monthly_cost == pytest.approx(3 * 2 * 720 + 1000)


def test_fixed_deployment_over_capacity_warns() -> None:
    # 2 GPUs x 1,000 tokens/s = 5.184B tokens/month at most; 10B needs 4 replicas.
    result = run(
        {
            "workload": {"tokens_per_month": "10B", "input_share": 0.5},
            "options": [
                api(input_per_mtok=0.1, output_per_mtok=0.1),
                {
                    "name": "own",
                    "self_hosted": {
                        "gpu": "l40s",
                        "gpu_count": 2,
                        "gpus_per_replica": 1,
                        "gpu_monthly_price": 500,
                        "tokens_per_second_per_replica": 1000,
                        "ops_monthly": 0,
                    },
                },
            ],
        }
    )
    assert "capacity_exceeded" in codes(result, "own")
    assert result.option("own").deployment.replicas_needed_at_peak == 4
    # Curves cross with a $0.10/MTok API at $1,000 / $0.10 per MTok = 10B tokens, beyond
    # 5.184B: reported as a crossing it cannot reach, not as a break-even.
    (row,) = result.breakeven
    assert row.crossing_tokens_per_month == pytest.approx(10e9)
    assert row.tokens_per_month is None and not row.feasible
    assert "breakeven_beyond_capacity" in codes(result, "own")
    assert result.sweep  # default sweep around the volume
    assert any("own" in row.over_capacity for row in result.sweep)
    # Above 5.184B tokens/month "own" is never the cheapest, though cheaper on paper.
    for sweep_row in result.sweep:
        serves = sweep_row.tokens_per_month <= 5.184e9
        assert sweep_row.feasible["own"] is serves
        if not serves:
            assert sweep_row.cheapest == "api"
            assert "own" in sweep_row.infeasible_reasons


def test_leftover_gpus_warn() -> None:
    result = run(
        {
            "workload": {"tokens_per_month": "1B", "input_share": 0.5},
            "options": [
                api(),
                {
                    "name": "own",
                    "self_hosted": {
                        "model": "llama-3.1-70b",
                        "gpu": "h100-sxm-80gb",
                        "gpu_count": 3,
                        "gpus_per_replica": 2,
                        "precision": "fp8",
                        "gpu_monthly_price": 1000,
                        "ops_monthly": 0,
                    },
                },
            ],
        }
    )
    # 3 GPUs at $1,000 are paid for; one replica of 2 serves, the third idles.
    assert "idle_gpus" in codes(result, "own")
    assert result.option("own").gpus == 3
    assert result.option("own").breakdown["gpus"] == pytest.approx(3000)
    assert result.option("own").deployment.replicas == 1


def test_workload_from_logs(tmp_path, monkeypatch) -> None:
    # tests/data/ingest/generic.csv holds one day of 4 valid requests: 800 input and 80 output
    # tokens (two malformed rows are rejected); one day scales to 30 -> 24,000 input and 2,400
    # output tokens a month; hourly tokens 220, 220, 0, 440 -> peak-to-mean 1.85 (p95 hour).
    monkeypatch.setenv("LLM_TCO_CACHE_DIR", str(tmp_path / "cache"))
    logs = ROOT / "tests" / "data" / "ingest" / "generic.csv"
    result = run({"workload": {"from_logs": str(logs)}, "options": [api()]})
    w = result.workload
    assert w.input_tokens_per_month == pytest.approx(24_000)
    assert w.output_tokens_per_month == pytest.approx(2_400)
    assert w.peak_to_mean == pytest.approx(1.85)
    assert w.requests_per_month == pytest.approx(4 * 30)
    # 24,000 x $3 + 2,400 x $15 per 1M
    assert result.option("api").monthly_cost == pytest.approx(0.072 + 0.036)
    # evaluated again, the cached summary is used (the log is not re-read)
    assert list((tmp_path / "cache").glob("workload-*.json"))


def test_measured_capacity_from_a_bench_result() -> None:
    # tests/data/guidellm_0.8.1_concurrent4.json: GuideLLM reports 706.12 output tokens/s with
    # 64-token prompts and 64-token outputs, so the replica carries 2 x 706.12 = 1,412.24
    # tokens/s. 10B tokens/month = 3,858 tokens/s mean -> ceil(3,858 / 1,412.24) = 3 replicas.
    bench = ROOT / "tests" / "data" / "guidellm_0.8.1_concurrent4.json"
    result = run(
        {
            "workload": {"tokens_per_month": "10B", "input_share": 0.5},
            "options": [
                api(),
                {
                    "name": "own",
                    "self_hosted": {
                        "gpu": "l4",
                        "gpu_hourly_price": 0.8,
                        "bench_result": str(bench),
                        "ttft_slo_ms": None,
                        "tpot_slo_ms": None,
                        "ops_monthly": 0,
                    },
                },
            ],
        }
    )
    deployment = result.option("own").deployment
    assert deployment.capacity_tokens_per_second_per_replica == pytest.approx(1412.24, rel=1e-5)
    assert deployment.capacity_source.startswith("measured")
    assert result.option("own").gpus == 3
