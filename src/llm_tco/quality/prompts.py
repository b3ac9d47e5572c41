"""Prompts from the user's own workload: read a JSONL or CSV file, sample it by task label.

Each row holds ``prompt`` (text) or ``messages`` (a chat list), optionally ``reference`` (the
expected answer, for graders that compare) and ``task`` (a label to stratify and report by).
A prompt is known by the hash of its content (:attr:`PromptItem.id`): the state file and the
results name prompts only by that hash, never by their text.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from llm_tco.quality.errors import QualityError

MAX_FILE_BYTES = 512 * 2**20  # 512 MiB: a prompts file larger than this is refused
MAX_ROWS = 1_000_000
DEFAULT_TASK = "all"
ROLES = {"system", "user", "assistant", "developer"}


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: str
    content: str

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        if value not in ROLES:
            raise ValueError(f"role must be one of {', '.join(sorted(ROLES))}")
        return value


class PromptItem(BaseModel):
    """One prompt: the messages to send, an optional reference answer and its task label."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    messages: tuple[Message, ...] = Field(min_length=1)
    reference: str | None = None
    task: str = Field(default=DEFAULT_TASK, min_length=1, max_length=80)

    @property
    def id(self) -> str:
        """sha256 of the messages and reference (hex, 16 characters): the prompt's only name
        on disk."""
        content = json.dumps(
            {"messages": [m.model_dump() for m in self.messages], "reference": self.reference},
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]

    @property
    def text(self) -> str:
        """The conversation as plain text (what a completions endpoint or a judge reads)."""
        if len(self.messages) == 1:
            return self.messages[0].content
        return "\n\n".join(f"{m.role}: {m.content}" for m in self.messages)


def _item(row: dict[str, Any], where: str) -> PromptItem:
    data = {k: v for k, v in row.items() if v not in (None, "")}
    if "prompt" in data and "messages" in data:
        raise QualityError("give `prompt` or `messages`, not both", field=where)
    if "prompt" in data:
        data["messages"] = [{"role": "user", "content": data.pop("prompt")}]
    elif isinstance(data.get("messages"), str):
        try:
            data["messages"] = json.loads(data["messages"])
        except json.JSONDecodeError:
            raise QualityError("`messages` is not a JSON list", field=where) from None
    if "messages" not in data:
        raise QualityError(
            "missing `prompt` (text) or `messages` (a chat list)",
            field=where,
            hint='e.g. {"prompt": "...", "reference": "...", "task": "extract"}',
        )
    for key in ("reference", "task"):
        if key in data and not isinstance(data[key], str):
            data[key] = json.dumps(data[key]) if key == "reference" else str(data[key])
    try:
        return PromptItem.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown column (use prompt or messages, reference, task)"
        raise QualityError(message, field=f"{where}.{loc}") from None


def _rows(path: Path, text: str) -> list[tuple[str, dict[str, Any]]]:
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        return [(f"{path.name} row {i}", dict(row)) for i, row in enumerate(reader, start=2)]
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name} line {number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise QualityError(f"not JSON: {exc.msg}", field=where) from None
        if not isinstance(row, dict):
            raise QualityError("each line must be a JSON object", field=where)
        rows.append((where, row))
    return rows


def load_prompts(path: str | Path) -> list[PromptItem]:
    """Every prompt in a ``.jsonl`` or ``.csv`` file, duplicates (same hash) kept once."""
    file = Path(path)
    try:
        size = file.stat().st_size
    except OSError:
        raise QualityError(f"no such file: {file}", field="--prompts") from None
    if size > MAX_FILE_BYTES:
        raise QualityError(
            f"{file} is {size / 2**20:.0f} MiB, over the {MAX_FILE_BYTES // 2**20} MiB limit",
            field="--prompts",
            hint="sample it first",
        )
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QualityError(f"cannot read {file}: {exc}", field="--prompts") from None
    rows = _rows(file, text)
    if len(rows) > MAX_ROWS:
        raise QualityError(f"more than {MAX_ROWS:,} prompts", field="--prompts")
    seen: dict[str, PromptItem] = {}
    for where, row in rows:
        item = _item(row, where)
        seen.setdefault(item.id, item)
    if not seen:
        raise QualityError(f"{file} holds no prompts", field="--prompts")
    return list(seen.values())


def stratified_sample(items: list[PromptItem], size: int, seed: int) -> list[PromptItem]:
    """``size`` prompts (all of them if fewer), each task label in proportion to its share.

    Shares are rounded by largest remainder, with at least one prompt per label when the sample
    has room for every label; within a label the prompts are drawn at random with ``seed``.
    """
    if size < 1:
        raise QualityError("the sample needs at least one prompt", field="--sample")
    if size >= len(items):
        return list(items)
    by_task: dict[str, list[PromptItem]] = defaultdict(list)
    for item in items:
        by_task[item.task].append(item)
    tasks = sorted(by_task)
    quota = {t: size * len(by_task[t]) / len(items) for t in tasks}
    counts = {t: int(quota[t]) for t in tasks}
    if size >= len(tasks):
        for t in tasks:
            counts[t] = max(counts[t], 1)
    order = sorted(tasks, key=lambda t: (-(quota[t] - int(quota[t])), t))
    while sum(counts.values()) < size:
        for t in order:
            if sum(counts.values()) < size and counts[t] < len(by_task[t]):
                counts[t] += 1
    while sum(counts.values()) > size:  # the one-per-label floor overshot: trim the largest
        largest = max(tasks, key=lambda t: (counts[t], t))
        counts[largest] -= 1
    rng = random.Random(seed)
    sample: list[PromptItem] = []
    for t in tasks:
        sample.extend(rng.sample(by_task[t], counts[t]))
    rng.shuffle(sample)  # a run cut short still covers every label
    return sample
