"""The run's state file: one JSON line per request sent, appended and flushed as it ends.

An interrupted run continues from it: a prompt whose answer was accepted, or whose attempts
are spent, is never sent again, and one cut short resumes at its next attempt. Prompts are
named only by their hash; the answer, the server's error text and the judge's reasoning are
written only with ``--keep-outputs`` (and then the prompts themselves go to ``prompts.jsonl``).

The first line is a header with the run's fingerprint (endpoints, graders, judge, sample):
resuming with other settings is refused rather than mixing two experiments.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from llm_tco.quality.errors import QualityError
from llm_tco.quality.prompts import PromptItem

STATE_VERSION = 1
STATE_FILE = "state.jsonl"
PROMPTS_FILE = "prompts.jsonl"
Role = Literal["answer", "judge", "pairwise"]


class RequestRow(BaseModel):
    """One request sent: to an endpoint for an answer, or to the judge for a grade.

    ``attempt`` counts the prompt's answers asked of that endpoint (1 = first). ``accepted`` is
    set on the answer row once it is graded (None: no answer to grade, or a 429 to wait out).
    Latency in milliseconds; cost in USD at the endpoint's price (None when unpriced).
    """

    model_config = ConfigDict(extra="forbid")

    role: Role
    endpoint: str
    prompt_id: str
    task: str
    attempt: int
    status_code: int | None
    error_kind: str | None = None
    latency_ms: float
    waited_s: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    tokens_source: str = "none"
    cost_usd: float | None = None
    accepted: bool | None = None
    grade_reason: str | None = None
    preference: Literal["win", "tie", "loss"] | None = None  # pairwise: the candidate's result
    # Only with --keep-outputs:
    answer: str | None = None
    detail: str | None = None

    @property
    def counts_as_attempt(self) -> bool:
        """An answer graded, or one that failed to come (5xx, reset, timeout, 429s past the
        limit). A 429 waited out, a request cancelled or an answer left ungraded spends none."""
        return self.role == "answer" and self.accepted is not None


class Header(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state_version: int
    fingerprint: str
    keep_outputs: bool


class StateFile:
    """Append-only JSON lines in ``folder/state.jsonl``."""

    def __init__(self, folder: Path, fingerprint: str, keep_outputs: bool) -> None:
        self.folder = folder
        self.path = folder / STATE_FILE
        self.fingerprint = fingerprint
        self.keep_outputs = keep_outputs
        self.rows: list[RequestRow] = []
        self._file: IO[str] | None = None

    def open(self, fresh: bool = False) -> StateFile:
        self.folder.mkdir(parents=True, exist_ok=True)
        if fresh and self.path.exists():
            self.path.unlink()
        if self.path.exists():
            self.rows = self._read()
            self._file = self.path.open("a", encoding="utf-8")
        else:
            self._file = self.path.open("w", encoding="utf-8")
            header = Header(
                state_version=STATE_VERSION,
                fingerprint=self.fingerprint,
                keep_outputs=self.keep_outputs,
            )
            self._write(header.model_dump_json())
        return self

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _read(self) -> list[RequestRow]:
        lines = self.path.read_text(encoding="utf-8").splitlines()
        try:
            header = Header.model_validate_json(lines[0]) if lines else None
        except ValidationError:
            header = None
        if header is None or header.state_version != STATE_VERSION:
            raise QualityError(
                f"{self.path} is not a quality state file of version {STATE_VERSION}",
                field="--dir",
                hint="use another --dir, or --fresh to start over",
            )
        if header.fingerprint != self.fingerprint:
            raise QualityError(
                f"{self.path} belongs to a run with other endpoints, graders or prompts",
                field="--dir",
                hint="use another --dir, or --fresh to start over",
            )
        rows = []
        for number, line in enumerate(lines[1:], start=2):
            try:
                rows.append(RequestRow.model_validate_json(line))
            except ValidationError:
                if number == len(lines):
                    break  # a line cut short by a hard kill: that request is sent again
                raise QualityError(
                    f"{self.path} line {number} is damaged", field="--dir", hint="--fresh"
                ) from None
        return rows

    def _write(self, line: str) -> None:
        assert self._file is not None
        self._file.write(line + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def append(self, row: RequestRow) -> None:
        if not self.keep_outputs:
            row = row.model_copy(update={"answer": None, "detail": None})
        self.rows.append(row)
        self._write(row.model_dump_json(exclude_defaults=False))

    def keep_prompts(self, items: Iterable[PromptItem]) -> None:
        """With --keep-outputs only: the prompts by id, so the answers can be read beside them."""
        if not self.keep_outputs:
            return
        with (self.folder / PROMPTS_FILE).open("w", encoding="utf-8") as out:
            for item in items:
                out.write(json.dumps({"id": item.id, **item.model_dump()}) + "\n")


def progress(rows: Iterable[RequestRow]) -> dict[tuple[str, str], tuple[int, bool]]:
    """(endpoint, prompt id) -> (attempts spent, accepted yet) from the rows kept so far."""
    spent: dict[tuple[str, str], int] = defaultdict(int)
    accepted: dict[tuple[str, str], bool] = defaultdict(bool)
    for row in rows:
        if row.counts_as_attempt:
            key = (row.endpoint, row.prompt_id)
            spent[key] += 1
            accepted[key] = accepted[key] or bool(row.accepted)
    return {key: (spent[key], accepted[key]) for key in spent}
