"""Units and number parsing. Tokens are plain counts, money is USD floats, time is seconds or hours.

Numbers in scenario files may carry a suffix: ``10B`` tokens, ``1.5M``, ``250_000``, ``2k``.
"""

from __future__ import annotations

import math
import re

SECONDS_PER_HOUR = 3600.0
DEFAULT_HOURS_PER_MONTH = 720.0  # 30 days x 24 h, as the seeds use
MONTHS_PER_YEAR = 12.0
WEEKS_PER_YEAR = 52.0
TOKENS_PER_MTOK = 1e6

SUFFIXES = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12}
_NUMBER = re.compile(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?)\s*([kmbgt]?)\s*$", re.I)


def parse_quantity(value: object) -> float:
    """Parse ``10B``, ``1.5M``, ``250_000``, ``2,000`` or a plain number into a float.

    Raises ValueError with a message that says what is accepted.
    """
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.replace("_", "").replace(",", "")
        match = _NUMBER.match(text)
        if not match:
            raise ValueError(f"'{value}' is not a number; write e.g. 10B, 1.5M, 250_000 or 0.25")
        number = float(match.group(1)) * SUFFIXES[match.group(2).lower()]
    else:
        raise ValueError(f"expected a number, got {type(value).__name__}")
    if not math.isfinite(number):
        raise ValueError("must be a finite number")
    return number


def format_tokens(tokens: float) -> str:
    """Short human form: 1.5e9 -> '1.5B'."""
    for suffix, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(tokens) >= scale:
            return f"{tokens / scale:.3g}{suffix}"
    return f"{tokens:.3g}"


def format_usd(usd: float) -> str:
    """'$1,234' for large sums, '$0.0123' for small ones, '-$6,671' below zero."""
    if usd < 0:
        return "-" + format_usd(-usd)
    if usd >= 100:
        return f"${usd:,.0f}"
    if usd >= 1:
        return f"${usd:,.2f}"
    if usd < 0.00005:  # a rounding remainder, not a cost: never '$3.638e-12'
        return "$0"
    return f"${usd:.4g}" if usd >= 0.0001 else f"${usd:.6f}".rstrip("0")


# Below this ratio two costs are "the same": a 1.04x difference is inside any input's error.
SAME_COST_RATIO = 1.05


# Beyond this many times cheaper a verdict gives the bound, not the ratio (a ratio of 1e310
# is inf, and one of 1e9 says nothing more than "over a million times").
MAX_STATED_RATIO = 1_000_000.0


def format_ratio(ratio: float) -> str | None:
    """'2.2x' for how many times one cost is another; None when the ratio says nothing (under
    SAME_COST_RATIO, or not finite). Never '1.0x', never 'infx'."""
    if not math.isfinite(ratio) or ratio < SAME_COST_RATIO:
        return None
    text = f"{ratio:.1f}x"
    return f"{ratio:.2f}x" if text == "1.0x" else text


def usd_per_mtok(monthly_cost_usd: float, tokens_per_month: float) -> float | None:
    """Cost per million tokens, or None when there are no tokens."""
    if tokens_per_month <= 0:
        return None
    return monthly_cost_usd / tokens_per_month * TOKENS_PER_MTOK


def tokens_per_second(tokens_per_month: float, hours_per_month: float) -> float:
    """Mean token rate over the month."""
    return tokens_per_month / (hours_per_month * SECONDS_PER_HOUR)
