import pytest

from llm_tco.core.units import format_tokens, parse_quantity, usd_per_mtok


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10B", 10e9),
        ("1.5M", 1.5e6),
        ("250_000", 250_000),
        ("2,000", 2000),
        ("2k", 2000),
        ("0.25", 0.25),
        (" 3T ", 3e12),
        (7, 7.0),
        (1e3, 1000.0),
    ],
)
def test_parse_quantity(text: object, expected: float) -> None:
    assert parse_quantity(text) == pytest.approx(expected)


@pytest.mark.parametrize("bad", ["ten", "10X", "", "1.2.3", True, None, [1], "nan", "inf"])
def test_parse_quantity_rejects(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_quantity(bad)


def test_format_tokens() -> None:
    assert format_tokens(1.5e9) == "1.5B"
    assert format_tokens(724_650_000) == "725M"


def test_usd_per_mtok() -> None:
    # $20,000 for 12B tokens = $1.6667 per 1M tokens
    assert usd_per_mtok(20_000, 12e9) == pytest.approx(1.666667, rel=1e-6)
    assert usd_per_mtok(5, 0) is None
