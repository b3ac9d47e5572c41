"""Every rate-limit and provisioned-throughput row says where its figures come from and when."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from llm_tco.catalog.loader import DATA_DIR, load_catalog, read_rows
from llm_tco.catalog.schema import ProvisionedRow, RateLimitRow
from llm_tco.errors import CatalogDataError

URL = ("https://", "http://")


def test_every_rate_limit_row_has_a_source_url_and_date() -> None:
    rows = load_catalog().rate_limits
    assert len(rows) >= 30
    for row in rows:
        assert row.source.startswith(URL), row.id
        assert dt.date(2024, 1, 1) <= row.as_of <= dt.date.today(), row.id
    assert {r.provider for r in rows} >= {"openai", "anthropic"}
    assert len({r.id for r in rows}) == len(rows)


def test_every_provisioned_row_has_a_source_url_and_date_and_a_sourced_price() -> None:
    rows = load_catalog().provisioned
    assert rows
    for row in rows:
        assert row.source.startswith(URL), row.id
        assert dt.date(2024, 1, 1) <= row.as_of <= dt.date.today(), row.id
        if row.unit_price_hourly is not None or row.unit_price_monthly is not None:
            assert row.price_source and row.price_as_of is not None, row.id
    assert len({r.id for r in rows}) == len(rows)


def test_published_figures_as_read() -> None:
    catalog = load_catalog()
    # Anthropic Tier 4, Claude Haiku 4.5: 4,000 RPM, 4,000,000 ITPM, 800,000 OTPM.
    row = catalog.rate_limit("anthropic", "claude-haiku-4-5", "tier-4")
    assert (row.requests_per_minute, row.input_tokens_per_minute) == (4000, 4_000_000)
    assert row.output_tokens_per_minute == 800_000 and not row.cached_input_counts
    # OpenAI gpt-4o Tier 5: 10,000 RPM, 30,000,000 TPM.
    row = catalog.rate_limit("openai", "gpt-4o", "tier-5")
    assert (row.requests_per_minute, row.tokens_per_minute) == (10_000, 30_000_000)
    # Azure Global Provisioned gpt-4.1: 3,000 input TPM per PTU, minimum 15, step 5.
    ptu = catalog.provisioned_offer("azure-global-gpt-4.1")
    assert (ptu.tokens_per_minute_per_unit, ptu.min_units, ptu.unit_increment) == (3000, 15, 5)


@pytest.mark.parametrize(
    ("row_type", "bad"),
    [
        (RateLimitRow, {"id": "x", "provider": "p", "tier": "t", "models": ["m"]}),
        (
            ProvisionedRow,
            {
                "id": "x",
                "provider": "p",
                "offering": "o",
                "models": ["m"],
                "unit": "PTU",
                "tokens_per_minute_per_unit": 1000,
                "unit_price_hourly": 1.0,
            },
        ),
    ],
)
def test_rows_without_figures_or_price_source_are_refused(
    tmp_path: Path, row_type: type, bad: dict[str, object]
) -> None:
    # A row with no limit at all, and a unit price with no source of its own.
    path = tmp_path / "rows.yaml"
    path.write_text(
        yaml.safe_dump([{**bad, "source": "https://example.org", "as_of": "2026-01-01"}])
    )
    with pytest.raises(CatalogDataError):
        read_rows(path, row_type)


def test_shipped_files_exist() -> None:
    assert (DATA_DIR / "rate_limits.yaml").exists()
    assert (DATA_DIR / "provisioned.yaml").exists()
