"""Tornado rows and verdict flips."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_tco.scenario import load_scenario
from llm_tco.sensitivity import tornado

EXAMPLES = Path(__file__).parents[2] / "examples"


def test_seed3_volume_flips_at_the_breakeven() -> None:
    # $4,042.80 fixed / $9 per MTok = 449.2M tokens/month = 14.97M tokens/day (30 days).
    sens = tornado(load_scenario(EXAMPLES / "seed3-dedicated-h100.yaml"), spread=0.25)
    assert sens.option == "claude-sonnet-4.6"
    row = next(r for r in sens.rows if r.path == "workload.tokens_per_day")
    assert row.flips_at == pytest.approx(4042.8 / 9e-6 / 30, rel=2e-3)
    assert not row.flip_within_range  # 7.5M..12.5M/day never reaches it
    # Engineering hours: $1,792.80 + h x $150 = $2,700 at h = 6.05 h/month.
    hours = next(r for r in sens.rows if r.path.endswith("engineering_hours_per_month"))
    assert hours.flips_at == pytest.approx((2700 - 1792.8) / 150, rel=2e-3)
    assert sens.rows == sorted(sens.rows, key=lambda r: -r.swing_usd)
