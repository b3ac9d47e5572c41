"""A judge model on another endpoint grades answers against a rubric.

The prompt it is sent is :data:`RUBRIC_PROMPT` (or the user's ``--judge-prompt`` file) with
``{rubric}``, ``{prompt}``, ``{reference}`` and ``{answer}`` filled in; the template is shown
before the run and stored with the result. The judge must end its reply with a line
``VERDICT: PASS`` or ``VERDICT: FAIL``; any other reply fails the grade ("no verdict").

Pairwise (``--pairwise``), the judge is shown an endpoint's final answer and the baseline's
(the first endpoint's) for the same prompt, in an order fixed by the prompt's hash, and ends
with ``VERDICT: A``, ``B`` or ``TIE`` (:data:`PAIRWISE_PROMPT`). Pairwise verdicts are reported
beside the acceptance rates; they do not change them.
"""

from __future__ import annotations

import hashlib
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from llm_tco.quality.errors import QualityError
from llm_tco.quality.graders import Grade
from llm_tco.quality.prompts import Message, PromptItem

RUBRIC_PROMPT = """You are grading one answer to a request. Judge it only against the rubric.

Rubric: {rubric}

Request:
{prompt}

Reference answer (may be empty):
{reference}

Answer to grade:
{answer}

Give one sentence of reasoning, then end with exactly one line: VERDICT: PASS or VERDICT: FAIL
"""
DEFAULT_RUBRIC = "the answer is correct, complete and does what the request asks"
FIELDS = {"rubric", "prompt", "reference", "answer"}
VERDICT = re.compile(r"VERDICT:\s*\**\s*(PASS|FAIL)\b", re.IGNORECASE)
MAX_TEMPLATE_BYTES = 64 * 1024


@dataclass(frozen=True)
class JudgePrompt:
    template: str
    rubric: str

    def fill(self, item: PromptItem, answer: str) -> PromptItem:
        text = self.template.format(
            rubric=self.rubric, prompt=item.text, reference=item.reference or "", answer=answer
        )
        return PromptItem(messages=(Message(role="user", content=text),), task=item.task)


def load_template(path: str | None) -> str:
    if path is None:
        return RUBRIC_PROMPT
    file = Path(path)
    try:
        if file.stat().st_size > MAX_TEMPLATE_BYTES:
            raise QualityError("judge prompt over 64 KiB", field="--judge-prompt")
        template = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QualityError(f"cannot read {file}: {exc}", field="--judge-prompt") from None
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    if not names <= FIELDS or "answer" not in names:
        raise QualityError(
            "the judge prompt must use {answer} and may use only {rubric}, {prompt}, {reference}",
            field="--judge-prompt",
            hint="write literal braces as {{ and }}",
        )
    return template


def read_verdict(reply: str) -> Grade:
    """PASS or FAIL from the last ``VERDICT:`` line of the judge's reply."""
    found = VERDICT.findall(reply)
    if not found:
        return Grade(False, "judge: no verdict", reply[:1000])
    passed = found[-1].upper() == "PASS"
    return Grade(passed, "judge: pass" if passed else "judge: fail", reply[:1000])


PAIRWISE_PROMPT = """You are comparing two answers to the same request.
Judge them only against the rubric.

Rubric: {rubric}

Request:
{prompt}

Reference answer (may be empty):
{reference}

Answer A:
{answer_a}

Answer B:
{answer_b}

Give one sentence of reasoning, then end with exactly one line:
VERDICT: A, VERDICT: B or VERDICT: TIE
"""
PREFERENCE = re.compile(r"VERDICT:\s*\**\s*(A|B|TIE)\b", re.IGNORECASE)
Preference = Literal["win", "tie", "loss"]


def candidate_first(prompt_id: str, endpoint: str) -> bool:
    """Whether the candidate is shown as answer A: half the pairs each way, fixed by the hash,
    so a judge's preference for one position cancels out."""
    return int(hashlib.sha256(f"{prompt_id}:{endpoint}".encode()).hexdigest(), 16) % 2 == 0


def pairwise_question(
    rubric: str, item: PromptItem, candidate: str, baseline: str, first: bool
) -> PromptItem:
    a, b = (candidate, baseline) if first else (baseline, candidate)
    text = PAIRWISE_PROMPT.format(
        rubric=rubric, prompt=item.text, reference=item.reference or "", answer_a=a, answer_b=b
    )
    return PromptItem(messages=(Message(role="user", content=text),), task=item.task)


def read_preference(reply: str, first: bool) -> Preference | None:
    """The candidate's result from the judge's last ``VERDICT:`` line (None: no verdict)."""
    found = PREFERENCE.findall(reply)
    if not found:
        return None
    verdict = found[-1].upper()
    if verdict == "TIE":
        return "tie"
    return "win" if (verdict == "A") == first else "loss"
