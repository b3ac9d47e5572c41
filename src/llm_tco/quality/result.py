"""The quality pilot's result: a versioned model that every renderer (table, JSON, HTML,
scenario export) reads; none computes on its own."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from llm_tco.bench.metrics import Percentiles

RESULT_VERSION = 1
StopReason = Literal["done", "interrupted", "max_requests", "max_usd", "max_seconds"]


class Rate(BaseModel):
    """Accepted out of graded, with the 95% Wilson score interval."""

    model_config = ConfigDict(extra="forbid")

    accepted: int
    graded: int
    rate: float | None  # None when nothing was graded
    low: float
    high: float


class TaskSummary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task: str
    acceptance: Rate


class EndpointSummary(BaseModel):
    """One endpoint over the prompts finished so far (accepted, or out of attempts)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    model: str
    input_per_mtok: float | None
    output_per_mtok: float | None
    prompts_finished: int
    prompts_pending: int = Field(description="sampled prompts not finished (run cut short)")
    acceptance: Rate
    by_task: list[TaskSummary]
    attempts: int = Field(description="answers asked, re-asks included (429s excluded)")
    attempts_per_accepted: float | None
    retry_rate: float = Field(description="extra answers asked per prompt: attempts/prompt - 1")
    retry_rate_low: float
    retry_rate_high: float
    latency_ms: Percentiles | None
    input_tokens: int
    output_tokens: int
    tokens_estimated: bool = Field(description="some counts estimated: no usage block sent")
    cost_usd: float | None
    cost_per_accepted_usd: float | None
    judge_cost_usd: float | None
    errors: dict[str, int]
    rate_limited: int = Field(description="429 replies waited out")
    waited_s: float


class Difference(BaseModel):
    """Acceptance rate of ``endpoint`` minus that of ``versus``, with Newcombe's 95% interval."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str
    versus: str
    task: str | None  # None: all tasks
    difference: float
    low: float
    high: float


class PairwiseSummary(BaseModel):
    """The judge's verdicts on ``endpoint``'s final answers beside ``versus``'s (the baseline),
    with Wilson intervals on the share it won and the share it won or tied."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str
    versus: str
    compared: int
    wins: int
    ties: int
    losses: int
    no_verdict: int
    win: Rate
    at_least_as_good: Rate
    judge_cost_usd: float | None


class JudgeSettings(BaseModel):
    """The judge and the prompts it was sent (templates; filled ones only with --keep-outputs)."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str
    model: str
    modes: list[Literal["rubric", "pairwise"]]
    rubric: str
    prompt_template: str | None
    pairwise_prompt_template: str | None


class QualityResult(BaseModel):
    """Acceptance, attempts, latency, tokens and cost per endpoint on one prompt sample."""

    model_config = ConfigDict(extra="forbid")

    result_version: int = RESULT_VERSION
    created_at: str
    prompts_file: str
    sample_size: int
    seed: int
    tasks: dict[str, int] = Field(description="sampled prompts per task label")
    graders: list[str]
    max_attempts: int
    judge: JudgeSettings | None = None
    endpoints: list[EndpointSummary]
    differences: list[Difference]
    pairwise: list[PairwiseSummary] = []
    requests_sent: int = Field(description="requests sent by this and earlier (resumed) runs")
    records_kept: int
    stopped: StopReason
    keep_outputs: bool
    interval_method: str = "Wilson score (95%); differences: Newcombe hybrid score (95%)"

    def endpoint(self, name: str) -> EndpointSummary:
        return next(e for e in self.endpoints if e.name == name)
