"""``llm-tco size-trace`` end to end: formats, logs replayed, errors that teach (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from llm_tco.cli import app

SCENARIO = {
    "name": "trace",
    "workload": {
        "tokens_per_month": 6.48e9,
        "input_share": 0.8,
        "hourly_profile": [1.0] * 8 + [4.0] * 10 + [2.0] * 6,
    },
    "options": [
        {"name": "api", "api": {"input_per_mtok": 1.0, "output_per_mtok": 5.0}},
        {
            "name": "own",
            "self_hosted": {
                "gpu": "a100-80gb",
                "gpu_count": "auto",
                "gpus_per_replica": 2,
                "gpu_hourly_price": 2.0,
                "tokens_per_second_per_replica": 1500,
            },
            "scaling": {"reserved_discount": 0.5},
        },
    ],
}


def write(tmp_path: Path, data: dict[str, object]) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def run(*args: str) -> object:
    return CliRunner().invoke(app, list(args))


def test_json_and_csv(tmp_path: Path) -> None:
    path = write(tmp_path, SCENARIO)
    result = run("size-trace", str(path), "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["monthly_usd"] == 4080.0  # hand-worked in tests/unit/test_trace_sizing.py
    assert len(data["gpus_needed_per_minute"]) == 1440
    csv_out = run("size-trace", str(path), "-f", "csv").stdout.splitlines()
    assert csv_out[0] == "minute,gpus_needed,gpus_always-on,gpus_on-demand"
    assert csv_out[1 + 480] == "480,6,4,2"  # 08:00: 3 replicas needed, 2 committed + 1 on demand
    table = run("size-trace", str(path))
    assert table.exit_code == 0 and "Cheapest mix" in table.stdout
    md = run("size-trace", str(path), "-f", "markdown")
    assert "| always-on | 2 | 4 |" in md.stdout


def test_logs_are_replayed_and_the_chart_written(tmp_path: Path) -> None:
    """Two requests in minute 0 (90,000 tokens, 1,500 tokens/s: 1 replica) and one in minute 2
    (200,000 tokens: 3,333 tokens/s, 3 replicas); minute 1 is empty: 2, 0 and 6 GPUs."""
    log = tmp_path / "log.jsonl"
    rows = [
        ("2025-05-05T09:00:05Z", 40_000, 5_000),
        ("2025-05-05T09:00:35Z", 40_000, 5_000),
        ("2025-05-05T09:02:10Z", 160_000, 40_000),
    ]
    log.write_text(
        "\n".join(
            json.dumps({"timestamp": ts, "model": "m", "input_tokens": i, "output_tokens": o})
            for ts, i, o in rows
        )
        + "\n"
    )
    chart = tmp_path / "day.svg"
    result = run(
        "size-trace",
        str(write(tmp_path, SCENARIO)),
        "--logs",
        str(log),
        "--chart",
        str(chart),
        "-f",
        "json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["gpus_needed_per_minute"] == [2, 0, 6]
    assert chart.read_text().startswith("<svg")


def test_errors_teach(tmp_path: Path) -> None:
    flat = dict(SCENARIO, workload={"tokens_per_month": 6.48e9, "input_share": 0.8})
    result = run("size-trace", str(write(tmp_path, flat)))
    assert result.exit_code == 2
    assert "hourly_profile" in result.output
    unknown = run("size-trace", str(write(tmp_path, SCENARIO)), "--overflow", "nope")
    assert unknown.exit_code == 2 and "nope" in unknown.output
    buckets = tmp_path / "usage.csv"
    buckets.write_text(
        "start_time,end_time,model,input_tokens,output_tokens,num_model_requests\n"
        "1746435600,1746439200,m,1000,100,10\n"
    )
    result = run("size-trace", str(write(tmp_path, SCENARIO)), "--logs", str(buckets))
    assert result.exit_code == 2 and "per-minute" in result.output
