"""The highest rate whose simulated latencies meet the targets: the bisection, in fewer trials.

The sizing bisects a rate: ``while high - low > width: middle = (low + high) / 2`` and
``low = middle`` when a simulation at ``middle`` meets the targets, else ``high = middle``;
the answer is the final ``low`` (``low`` itself taken to meet them, ``high`` not). Each trial
also says how far over or under the targets it ran (its margin, ``batchsim.Trial``), so a
secant through the nearest trials either side guesses where the targets stop being met, and
two or three trials find the bisection's final interval in place of the bisection's
log2(range / width).

Trials are made only at rates the bisection itself would compute (its floating-point
midpoints, found from the interval's ends as it finds them). The bisection is then replayed:
each midpoint is decided by a trial at that very rate, else by a trial above it that met the
targets (it meets them too) or one below it that missed them (it misses them too), else it is
tried. Where meeting the targets falls with the rate (the rule under common random numbers,
not a law) this gives the bisection's answer exactly; where it does not, it gives another
rate the bisection could have ended on, at the same ``width``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol, TypeVar


class Scored(Protocol):
    """A trial's outcome: whether the targets are met, and by how much (<= 0 met)."""

    @property
    def meets(self) -> bool: ...

    @property
    def margin(self) -> float: ...


T = TypeVar("T", bound=Scored)


def bisect_rate(
    low: float,
    high: float,
    width: float,
    trial_at: Callable[[float], T],
    guess: float | None = None,
    slope: float | None = None,
    known: dict[float, T] | None = None,
) -> tuple[float, T | None]:
    """The rate the bisection of ``[low, high]`` to ``width`` ends on, and the trial made at
    it (None when that is ``low``, which is never tried).

    ``guess``: where the targets are expected to stop being met (e.g. from the last fleet
    size; the first grid rate above it is tried first); ``slope``: margin per unit
    of rate, to step from a first trial when only one side of the answer is known; ``known``:
    trials already made (at any rate), used to guess and to decide midpoints.
    """
    tried: dict[float, T] = dict(known or {})
    depth, span = 0, high - low
    while span > width:
        span /= 2
        depth += 1
    grid = _Grid(low, high, depth)
    lo_index, hi_index = 0, 2**depth
    pick = None if guess is None else grid.index_above(guess)
    moved: list[bool] = []  # which side each trial moved: True the low end
    while hi_index - lo_index > 1:
        if pick is None:
            pick = _next_pick(grid, tried, lo_index, hi_index, moved, slope)
        j = min(max(pick, lo_index + 1), hi_index - 1)
        rate = grid.value(j)
        outcome = tried[rate] if rate in tried else trial_at(rate)
        tried[rate] = outcome
        if outcome.meets:
            lo_index = j
        else:
            hi_index = j
        moved.append(outcome.meets)
        pick = None
    return _replay(low, high, width, trial_at, tried)


def _next_pick(
    grid: _Grid,
    tried: dict[float, T],
    lo_index: int,
    hi_index: int,
    moved: list[bool],
    slope: float | None,
) -> int:
    """The grid index to try next: the first one above where a secant through the nearest
    trials either side of the bracket crosses a zero margin (a trial that misses stops early,
    one that meets runs in full, so the search closes in from above); the bracket's middle
    after two trials running met the targets or three missed them (the secant is stalling),
    or without the trials to draw it."""
    middle = (lo_index + hi_index) // 2
    if moved[-2:] == [True, True] or moved[-3:] == [False, False, False]:
        return middle
    below = [(r, t.margin) for r, t in tried.items() if t.meets and r <= grid.value(lo_index)]
    above = [(r, t.margin) for r, t in tried.items() if not t.meets and r >= grid.value(hi_index)]
    met = max(below, default=None)
    missed = min(above, default=None)
    crossing = None
    if met is not None and missed is not None:
        (r0, m0), (r1, m1) = met, missed
        if math.isfinite(m0) and math.isfinite(m1) and m1 > m0:
            crossing = r0 + (r1 - r0) * (-m0) / (m1 - m0)
    elif slope is not None and slope > 0:
        one = met if met is not None else missed
        if one is not None and math.isfinite(one[1]):
            crossing = one[0] - one[1] / slope
    if crossing is None or not math.isfinite(crossing):
        return middle
    return grid.index_above(crossing)


def _replay(
    low: float,
    high: float,
    width: float,
    trial_at: Callable[[float], T],
    tried: dict[float, T],
) -> tuple[float, T | None]:
    """Run the bisection itself, each midpoint decided by the trials made (a trial at it, or
    one met above / missed below it while those do not contradict each other), else tried."""
    while True:
        met = max((r for r, t in tried.items() if t.meets), default=-math.inf)
        missed = min((r for r, t in tried.items() if not t.meets), default=math.inf)
        lo, hi = low, high
        while hi - lo > width:
            middle = (lo + hi) / 2
            if middle in tried:
                ok = tried[middle].meets
            elif met < missed and middle <= met:
                ok = True
            elif met < missed and middle >= missed:
                ok = False
            else:
                tried[middle] = trial_at(middle)
                ok = tried[middle].meets
                met = max((r for r, t in tried.items() if t.meets), default=-math.inf)
                missed = min((r for r, t in tried.items() if not t.meets), default=math.inf)
            if ok:
                lo = middle
            else:
                hi = middle
        if lo == low:
            return lo, None
        if lo not in tried:
            tried[lo] = trial_at(lo)  # decided from a trial above it: try it for its latencies
        if tried[lo].meets:
            return lo, tried[lo]
        # lo missed although a trial above it met: decide every midpoint by its own trial


class _Grid:
    """The rates the bisection of [low, high] can reach after ``depth`` halvings, each the
    floating-point midpoint of its two neighbours one level up, as the bisection computes it."""

    def __init__(self, low: float, high: float, depth: int) -> None:
        self.low, self.high, self.depth = low, high, depth
        self.memo: dict[tuple[int, int], float] = {}

    def value(self, index: int, depth: int | None = None) -> float:
        level = self.depth if depth is None else depth
        while level > 0 and index % 2 == 0:
            index //= 2
            level -= 1
        if level == 0:
            return self.low if index == 0 else self.high
        key = (index, level)
        if key not in self.memo:
            left = self.value((index - 1) // 2, level - 1)
            right = self.value((index + 1) // 2, level - 1)
            self.memo[key] = (left + right) / 2
        return self.memo[key]

    def index_above(self, rate: float) -> int:
        """The first grid index above ``rate`` (by the evenly spaced grid the midpoints round)."""
        share = (rate - self.low) / (self.high - self.low)
        index: int = math.floor(share * 2**self.depth) + 1
        return index
