"""The weekly profile from request logs: hour-of-week loads worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from llm_tco.cli import app
from llm_tco.ingest.model import CubeRow, GroupSummary, Scan
from llm_tco.ingest.summary import hour_of_week, summarise
from llm_tco.scenario import load_scenario

HOUR_2025_01_06 = 481_080  # 2025-01-06T00:00Z, a Monday: 1736121600 s / 3600


def row(hour: int, tokens: float) -> CubeRow:
    return CubeRow(
        group="all",
        model="m",
        hour=hour,
        batch=False,
        rows=1,
        requests=1.0,
        requests_known=True,
        input_tokens=tokens,
        output_tokens=0.0,
        cached_input_tokens=0.0,
        billed_usd=None,
        billed_rows=0,
        bucket_seconds=0.0,
    )


def summary_of(cube: list[CubeRow]) -> GroupSummary:
    return summarise(Scan(cube=cube, rejected=[], skipped=[], formats=["t"])).groups["all"]


def test_hour_of_week_from_the_epoch() -> None:
    # 1970-01-01 00:00 UTC was a Thursday: hour 3 x 24 of the week; 2025-01-06 00:00 a Monday.
    assert int(hour_of_week(0)) == 72
    assert int(hour_of_week(HOUR_2025_01_06)) == 0
    assert int(hour_of_week(HOUR_2025_01_06 + 24 * 6 + 23)) == 167  # Sunday 23:00


def test_ten_days_of_a_known_weekly_shape() -> None:
    # Mon 2025-01-06 .. Wed 2025-01-15 (240 hours): weekdays 300 tokens an hour 09:00-16:59 and
    # 100 the other hours, weekends 50 an hour. Mon-Wed occur twice in the span, the other
    # days once; each hour of the week is averaged over its own occurrences, so the shape is
    # the week's: weekly mean = (5 x (8 x 300 + 16 x 100) + 2 x 24 x 50) / 168 = 22,400 / 168
    # = 133.33 an hour -> 300 / 133.33 = 2.25, 100 / 133.33 = 0.75, 50 / 133.33 = 0.375.
    # (Summing instead of averaging would make Mon-Wed twice as busy as Thu-Fri.)
    def tokens(hour: int) -> float:
        day, clock = (hour // 24) % 7, hour % 24
        if day >= 5:
            return 50.0
        return 300.0 if 9 <= clock < 17 else 100.0

    cube = [row(HOUR_2025_01_06 + h, tokens(h)) for h in range(240)]
    g = summary_of(cube)
    profile = g.weekly_profile
    assert profile is not None and len(profile) == 168
    assert profile[0] == pytest.approx(0.75)  # Monday 00:00
    assert profile[9] == pytest.approx(2.25)  # Monday 09:00
    assert profile[3 * 24 + 12] == pytest.approx(2.25)  # Thursday 12:00 (seen once)
    assert profile[4 * 24 + 17] == pytest.approx(0.75)  # Friday 17:00
    assert profile[5 * 24] == profile[167] == pytest.approx(0.375)  # Saturday, Sunday
    assert sum(profile) == pytest.approx(168)


def test_under_a_week_or_wider_buckets_give_none() -> None:
    six_days = [row(HOUR_2025_01_06 + h, 100.0) for h in range(167)]
    assert summary_of(six_days).weekly_profile is None
    week = [row(HOUR_2025_01_06 + h, 100.0) for h in range(168)]
    assert summary_of(week).weekly_profile == pytest.approx([1.0] * 168)
    daily = [r.model_copy(update={"bucket_seconds": 86400.0}) for r in week[::24]]
    assert summary_of(daily).weekly_profile is None


# A log of four requests over eight days (2025-03-03 was a Monday), hour of week:
#   Mon 03-03 00:10   840 tokens  -> hour 0
#   Mon 03-03 09:30  1680 tokens  -> hour 9
#   Sat 03-08 12:00   420 tokens  -> hour 5 x 24 + 12 = 132
#   Mon 03-10 09:15  3360 tokens  -> hour 9
# The span is 03-03 00:00 .. 03-10 09:59, 178 hours: Monday 00:00-09:59 occurs twice.
# Per occurrence: hour 0: 840 / 2 = 420; hour 9: (1680 + 3360) / 2 = 2520; hour 132: 420;
# the rest 0. Mean over 168 hours: 3360 / 168 = 20 -> 21, 126, 21.
WEEK_LOG = [
    ("2025-03-03T00:10:00Z", 800, 40),
    ("2025-03-03T09:30:00Z", 1600, 80),
    ("2025-03-08T12:00:00Z", 400, 20),
    ("2025-03-10T09:15:00Z", 3200, 160),
]
WEEK_PROFILE = {0: 21.0, 9: 126.0, 132: 21.0}


def expected_week() -> list[float]:
    return [WEEK_PROFILE.get(h, 0.0) for h in range(168)]


def write_log(path: Path, rows: list[tuple[str, int, int]]) -> Path:
    lines = ["timestamp,model,prompt_tokens,completion_tokens"]
    lines += [f"{ts},gpt-4o-mini,{i},{o}" for ts, i, o in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_ingest_out_writes_the_weekly_profile(tmp_path: Path) -> None:
    log = write_log(tmp_path / "week.csv", WEEK_LOG)
    out = tmp_path / "workload.yaml"
    result = CliRunner().invoke(app, ["ingest", str(log), "--out", str(out), "--wide"])
    assert result.exit_code == 0, result.output
    assert "busiest Mon 09:00 at 126.00x the mean hour" in result.output
    text = out.read_text(encoding="utf-8")
    assert "# workload.weekly_profile: each hour of the week" in text
    written = yaml.safe_load(text)["workload"]["weekly_profile"]
    assert written == pytest.approx(expected_week())
    # The file is a scenario: the weekly profile validates as the scenario's field.
    assert load_scenario(out).workload.weekly_profile == pytest.approx(expected_week())


def test_ingest_out_says_when_the_logs_span_under_a_week(tmp_path: Path) -> None:
    log = write_log(tmp_path / "days.csv", WEEK_LOG[:3])  # 03-03 .. 03-08 12:00: 133 hours
    out = tmp_path / "workload.yaml"
    result = CliRunner().invoke(app, ["ingest", str(log), "--out", str(out), "--wide"])
    assert result.exit_code == 0, result.output
    assert "unknown (needs hourly logs spanning at least a week)" in result.output
    text = out.read_text(encoding="utf-8")
    assert "No workload.weekly_profile: the logs span under a week" in text
    assert "weekly_profile" not in yaml.safe_load(text)["workload"]
