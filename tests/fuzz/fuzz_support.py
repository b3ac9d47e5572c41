"""Fuzz tests run with fresh random examples every time, in CI as locally, with no example
database (the project profile in conftest.py); a failure prints the example and its seed."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, settings

HOSTILE = Path(__file__).resolve().parents[1] / "data" / "hostile"

FUZZ = settings(
    derandomize=False,
    deadline=None,
    max_examples=int(os.environ.get("LLM_TCO_FUZZ_EXAMPLES", "25")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    print_blob=True,
)


class Hang(Exception):
    """A call ran past its time bound."""


@contextmanager
def time_bound(seconds: float) -> Iterator[None]:
    """Raise Hang in the main thread if the block uses more than ``seconds`` of CPU time.

    CPU time (SIGPROF), not wall time: a hang burns CPU, while a shared CI machine may take
    several wall seconds for one CPU second of work."""

    def ring(signum: int, frame: object) -> None:
        raise Hang(f"over {seconds:g} s of CPU")

    previous = signal.signal(signal.SIGPROF, ring)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
