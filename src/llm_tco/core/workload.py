"""The workload: how many tokens a month, their split, shape and load pattern."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import cast

import numpy as np


@dataclass(frozen=True)
class Workload:
    """A month of traffic. Token counts are per month; shares are in [0, 1].

    The fields are floats for a point; the Monte Carlo fills them with arrays of samples (the
    same formulas, which are plain arithmetic)."""

    input_tokens_per_month: float
    output_tokens_per_month: float
    peak_to_mean: float = 1.0
    cached_input_share: float = 0.0
    batch_share: float = 0.0
    requests_per_month: float | None = None
    input_tokens_per_request: float | None = None
    output_tokens_per_request: float | None = None
    prefix_reuse_share: float | None = None  # input tokens in prefixes seen before
    cache_write_share: float | None = None  # input tokens written to a provider's prompt cache

    @property
    def api_cached_input_share(self) -> float:
        """Share of input an API bills at its cache-read price: the measured prefix reuse when
        known (a provider's prompt cache keys on the same prefixes), else cached_input_share."""
        if self.prefix_reuse_share is not None:
            return self.prefix_reuse_share
        return self.cached_input_share

    @property
    def prefill_skipped_share(self) -> float:
        """Share of input tokens a self-hosted engine with prefix caching does not prefill."""
        return self.prefix_reuse_share or 0.0

    @property
    def total_tokens_per_month(self) -> float:
        return self.input_tokens_per_month + self.output_tokens_per_month

    @property
    def input_share(self) -> float:
        total = self.total_tokens_per_month
        if np.ndim(total):  # a workload of samples: its share per sample
            with np.errstate(divide="ignore", invalid="ignore"):
                shares = np.where(total > 0, self.input_tokens_per_month / total, 0.0)
            return cast(float, shares)
        return self.input_tokens_per_month / total if total > 0 else 0.0

    @property
    def tokens_per_request(self) -> float | None:
        if self.input_tokens_per_request is None or self.output_tokens_per_request is None:
            return None
        return self.input_tokens_per_request + self.output_tokens_per_request

    def scaled_to(self, total_tokens_per_month: float) -> Workload:
        """The same split, shape and load pattern at another total monthly volume."""
        total = self.total_tokens_per_month
        factor = total_tokens_per_month / total if total > 0 else 0.0
        requests = None if self.requests_per_month is None else self.requests_per_month * factor
        if total <= 0:
            share = 0.5
            return replace(
                self,
                input_tokens_per_month=total_tokens_per_month * share,
                output_tokens_per_month=total_tokens_per_month * (1 - share),
                requests_per_month=requests,
            )
        return replace(
            self,
            input_tokens_per_month=self.input_tokens_per_month * factor,
            output_tokens_per_month=self.output_tokens_per_month * factor,
            requests_per_month=requests,
        )

    def requests_for_tokens(self, total_tokens_per_month: float) -> float | None:
        """Requests per month carrying ``total_tokens_per_month`` at this workload's shape."""
        per_request = self.tokens_per_request
        if per_request is None or per_request <= 0:
            return None
        return total_tokens_per_month / per_request
