"""Ask every endpoint every sampled prompt, grade each answer, re-ask failures, keep each request.

Bounded three ways (:class:`Limits`): requests sent, wall-clock seconds and USD spent. Before a
request goes out its worst-case cost is reserved (one token per byte of prompt plus 8 per
message, and ``max_tokens`` of output, at the endpoint's price), so requests in flight cannot
take the spend past ``max_usd`` unless a server adds input tokens of its own beyond that.
A 429 pauses that endpoint for its ``Retry-After`` (at most ``max_wait_s``, at most
``max_rate_limited`` times per request).

The first stop (Ctrl-C, ``max_requests``, ``max_usd``) sends nothing new and lets requests in
flight finish, so no answer is lost; a second Ctrl-C or ``max_seconds`` cancels them.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from llm_tco.quality.client import EndpointClient, Reply
from llm_tco.quality.endpoints import Endpoint
from llm_tco.quality.graders import Bound, Grade, local_grade
from llm_tco.quality.judge import (
    JudgePrompt,
    candidate_first,
    pairwise_question,
    read_preference,
    read_verdict,
)
from llm_tco.quality.prompts import PromptItem
from llm_tco.quality.result import StopReason
from llm_tco.quality.store import RequestRow, Role, StateFile, progress

MESSAGE_OVERHEAD_TOKENS = 8
JUDGE_CLIENT = ":judge"  # no endpoint name holds a colon


@dataclass(frozen=True)
class Limits:
    max_requests: int = 5_000
    max_seconds: float = 3_600.0
    max_usd: float | None = None
    max_wait_s: float = 60.0
    max_rate_limited: int = 5
    concurrency: int = 4
    timeout_s: float = 120.0


@dataclass(frozen=True)
class Judge:
    endpoint: Endpoint
    prompt: JudgePrompt
    tasks: frozenset[str] | None  # None: judge every task


@dataclass(frozen=True)
class Pairwise:
    endpoint: Endpoint
    rubric: str


@dataclass
class Plan:
    endpoints: list[Endpoint]
    items: list[PromptItem]
    graders: list[Bound]
    max_attempts: int = 1
    judge: Judge | None = None
    limits: Limits = field(default_factory=Limits)
    pairwise: Pairwise | None = None


def worst_case_usd(endpoint: Endpoint, item: PromptItem) -> float:
    """The most one request can cost: every prompt byte a token, and max_tokens of output."""
    tokens_in = sum(len(m.content.encode()) + MESSAGE_OVERHEAD_TOKENS for m in item.messages)
    return endpoint.cost_usd(tokens_in, endpoint.max_tokens) or 0.0


class Budget:
    """Requests, seconds and USD left; a reservation that does not fit stops the run."""

    def __init__(self, limits: Limits, sent: int, spent_usd: float) -> None:
        self.limits = limits
        self.sent = sent
        self.spent_usd = spent_usd
        self.reserved_usd = 0.0
        self.deadline = time.monotonic() + limits.max_seconds

    def reserve(self, usd: float) -> StopReason | None:
        if self.sent >= self.limits.max_requests:
            return "max_requests"
        if time.monotonic() >= self.deadline:
            return "max_seconds"
        cap = self.limits.max_usd
        if cap is not None and self.spent_usd + self.reserved_usd + usd > cap:
            return "max_usd"
        self.sent += 1
        self.reserved_usd += usd
        return None

    def settle(self, reserved: float, actual: float | None) -> None:
        self.reserved_usd -= reserved
        self.spent_usd += actual or 0.0


class Runner:
    def __init__(self, plan: Plan, state: StateFile, on_row: Callable[[RequestRow], None]):
        self.plan = plan
        self.state = state
        self.on_row = on_row
        rows = state.rows
        self.budget = Budget(plan.limits, len(rows), sum(r.cost_usd or 0.0 for r in rows))
        self.stopped: StopReason | None = None
        self.resume_at: dict[str, float] = {}  # endpoint -> monotonic time a 429 asked to wait
        # Pairwise: each endpoint's final answer by prompt, in memory (on disk only with
        # --keep-outputs), and the (candidate, prompt) pairs already put to the judge.
        self.finals: dict[tuple[str, str], str] = {}
        self.compared: set[tuple[str, str]] = set()
        for row in rows:
            if row.role == "answer" and row.accepted is not None and row.answer is not None:
                self.finals[(row.endpoint, row.prompt_id)] = row.answer
            if row.role == "pairwise":
                self.compared.add((row.endpoint.removeprefix("pairwise:"), row.prompt_id))

    def stop(self, reason: StopReason) -> None:
        if self.stopped is None:
            self.stopped = reason

    def _keep(self, row: RequestRow) -> None:
        self.state.append(row)
        self.on_row(row)

    async def run(self, handle_sigint: bool = True) -> StopReason:
        clients = {
            e.name: EndpointClient(e, timeout_s=self.plan.limits.timeout_s)
            for e in self.plan.endpoints
        }
        judge = self.plan.judge.endpoint if self.plan.judge else None
        if self.plan.pairwise is not None:
            judge = self.plan.pairwise.endpoint
        if judge is not None:
            clients[JUDGE_CLIENT] = EndpointClient(judge, timeout_s=self.plan.limits.timeout_s)
        done = progress(self.state.rows)
        tasks = []
        for endpoint in self.plan.endpoints:
            gate = asyncio.Semaphore(self.plan.limits.concurrency)
            for item in self.plan.items:
                spent, accepted = done.get((endpoint.name, item.id), (0, False))
                if not accepted and spent < self.plan.max_attempts:
                    tasks.append(
                        asyncio.create_task(self._prompt(endpoint, clients, item, spent, gate))
                    )
                elif self.plan.pairwise is not None:  # finished earlier: compare if not yet
                    tasks.append(asyncio.create_task(self._compare(clients, endpoint, item)))
        loop = asyncio.get_running_loop()
        interrupts = 0

        def on_sigint() -> None:
            nonlocal interrupts
            interrupts += 1
            self.stop("interrupted")
            if interrupts > 1:
                for task in tasks:
                    task.cancel()

        if handle_sigint:
            loop.add_signal_handler(signal.SIGINT, on_sigint)
        try:
            remaining = self.budget.deadline - time.monotonic()
            finished, pending = (
                await asyncio.wait(tasks, timeout=max(remaining, 0)) if tasks else (set(), set())
            )
            if pending:
                self.stop("max_seconds")
                for task in pending:
                    task.cancel()
                await asyncio.wait(pending, timeout=30)
            for task in finished:
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
        finally:
            if handle_sigint:
                with contextlib.suppress(Exception):
                    loop.remove_signal_handler(signal.SIGINT)
            for client in clients.values():
                await client.aclose()
        return self.stopped or "done"

    async def _prompt(
        self,
        endpoint: Endpoint,
        clients: dict[str, EndpointClient],
        item: PromptItem,
        spent: int,
        gate: asyncio.Semaphore,
    ) -> None:
        async with gate:
            for attempt in range(spent + 1, self.plan.max_attempts + 1):
                if self.stopped is not None:
                    return
                accepted = await self._attempt(endpoint, clients, item, attempt)
                if accepted is None:
                    return  # stopped before it was graded
                if accepted:
                    break
            if self.plan.pairwise is not None:
                await self._compare(clients, endpoint, item)

    async def _compare(
        self, clients: dict[str, EndpointClient], endpoint: Endpoint, item: PromptItem
    ) -> None:
        """Put each finished endpoint's answer beside the baseline's to the judge, once."""
        pairwise = self.plan.pairwise
        assert pairwise is not None
        base = self.plan.endpoints[0].name
        names = (
            [e.name for e in self.plan.endpoints[1:]] if endpoint.name == base else [endpoint.name]
        )
        for name in names:
            key = (name, item.id)
            candidate, baseline = self.finals.get(key), self.finals.get((base, item.id))
            if candidate is None or baseline is None or key in self.compared or self.stopped:
                continue
            self.compared.add(key)
            first = candidate_first(item.id, name)
            question = pairwise_question(pairwise.rubric, item, candidate, baseline, first)
            label = f"pairwise:{name}"
            reply = await self._request(
                pairwise.endpoint, clients[JUDGE_CLIENT], question, "pairwise", label, item, 1
            )
            if reply is None:
                self.compared.discard(key)
                continue
            row = self._row("pairwise", pairwise.endpoint, label, item, 1, reply)
            if reply.ok and reply.text is not None:
                found = read_preference(reply.text, first)
                row = row.model_copy(
                    update={
                        "preference": found,
                        "grade_reason": "pairwise: no verdict"
                        if found is None
                        else f"pairwise: {found}",
                        "detail": reply.text[:1000],
                    }
                )
            self._keep(row)

    async def _attempt(
        self, endpoint: Endpoint, clients: dict[str, EndpointClient], item: PromptItem, attempt: int
    ) -> bool | None:
        """One answer and its grade; True/False accepted, None when it was not graded."""
        reply = await self._request(
            endpoint, clients[endpoint.name], item, "answer", endpoint.name, item, attempt
        )
        if reply is None:
            return None
        row = self._row("answer", endpoint, endpoint.name, item, attempt, reply)
        judge_rows: list[RequestRow] = []
        grade: Grade | None = None
        if reply.ok:
            assert reply.text is not None
            grade = local_grade(self.plan.graders, reply.text, item)
            if grade.passed and self._judged(item):
                grade = await self._judge(clients, endpoint, item, reply.text, attempt, judge_rows)
        if grade is None and reply.ok:
            row = row.model_copy(
                update={
                    "error_kind": "ungraded",
                    "grade_reason": "not graded: the judge did not reply",
                }
            )
        elif grade is not None:
            row = row.model_copy(
                update={
                    "accepted": grade.passed,
                    "grade_reason": grade.reason,
                    "detail": grade.detail,
                }
            )
        elif reply.error_kind != "cancelled":
            row = row.model_copy(
                update={"accepted": False, "grade_reason": f"no answer: {reply.error_kind}"}
            )
        for kept in judge_rows:
            self._keep(kept)
        self._keep(row)
        if row.accepted is not None and reply.text is not None:
            self.finals[(endpoint.name, item.id)] = reply.text
        return row.accepted

    def _judged(self, item: PromptItem) -> bool:
        judge = self.plan.judge
        return judge is not None and (judge.tasks is None or item.task in judge.tasks)

    async def _judge(
        self,
        clients: dict[str, EndpointClient],
        endpoint: Endpoint,
        item: PromptItem,
        answer: str,
        attempt: int,
        rows: list[RequestRow],
    ) -> Grade | None:
        judge = self.plan.judge
        assert judge is not None
        question = judge.prompt.fill(item, answer)
        label = f"judge:{endpoint.name}"
        reply = await self._request(
            judge.endpoint, clients[JUDGE_CLIENT], question, "judge", label, item, attempt
        )
        if reply is None:
            return None
        grade = read_verdict(reply.text) if reply.ok and reply.text is not None else None
        row = self._row("judge", judge.endpoint, label, item, attempt, reply)
        if grade is not None:
            row = row.model_copy(
                update={
                    "accepted": grade.passed,
                    "grade_reason": grade.reason,
                    "detail": grade.detail,
                }
            )
        rows.append(row)
        return grade

    async def _request(
        self,
        endpoint: Endpoint,
        client: EndpointClient,
        question: PromptItem,
        role: Role,
        label: str,
        item: PromptItem,
        attempt: int,
    ) -> Reply | None:
        """Send ``question``, waiting out 429s; None when the budget or a stop allowed none."""
        limits = self.plan.limits
        waited = 0.0
        for tries in range(limits.max_rate_limited + 1):
            pause = self.resume_at.get(endpoint.name, 0.0) - time.monotonic()
            if pause > 0:
                try:
                    await asyncio.sleep(pause)
                except asyncio.CancelledError:
                    return None
                waited += pause
            if self.stopped is not None and role != "judge":
                return None
            worst = worst_case_usd(endpoint, question)
            refused = self.budget.reserve(worst)
            if refused is not None:
                self.stop(refused)
                return None
            reply = await client.ask(question)
            cost = endpoint.cost_usd(reply.input_tokens, reply.output_tokens)
            self.budget.settle(worst, cost)
            if reply.error_kind != "rate_limited" or tries == limits.max_rate_limited:
                return _with_wait(reply, waited)
            wait = min(
                reply.retry_after_s if reply.retry_after_s is not None else 1.0, limits.max_wait_s
            )
            self.resume_at[endpoint.name] = max(
                self.resume_at.get(endpoint.name, 0.0), time.monotonic() + wait
            )
            self._keep(self._row(role, endpoint, label, item, attempt, _with_wait(reply, waited)))
            waited = 0.0
        return None  # unreachable: the loop returns on its last pass

    def _row(
        self,
        role: Role,
        endpoint: Endpoint,
        label: str,
        item: PromptItem,
        attempt: int,
        reply: Reply,
    ) -> RequestRow:
        return RequestRow(
            role=role,
            endpoint=label,
            prompt_id=item.id,
            task=item.task,
            attempt=attempt,
            status_code=reply.status_code,
            error_kind=reply.error_kind,
            latency_ms=round(reply.latency_s * 1000, 3),
            waited_s=round(reply.waited_s, 3),
            input_tokens=reply.input_tokens,
            output_tokens=reply.output_tokens,
            tokens_source=reply.tokens_source,
            cost_usd=endpoint.cost_usd(reply.input_tokens, reply.output_tokens),
            answer=reply.text,
            detail=reply.error_detail,
        )


def _with_wait(reply: Reply, waited: float) -> Reply:
    return replace(reply, waited_s=waited)
