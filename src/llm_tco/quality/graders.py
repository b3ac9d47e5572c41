"""Graders: plain functions ``(answer, item, argument) -> Grade``, chosen by name.

``--grade KIND[:ARGUMENT]`` applies a grader to every prompt, ``--grade TASK=KIND[:ARGUMENT]``
to the prompts of one task label; when several apply, an answer must pass them all.

A :class:`Grade`'s ``reason`` never quotes the answer or the prompt (it is written to the state
file); ``detail`` may, and is kept only with ``--keep-outputs``.

The judge (``judge`` / ``judge:RUBRIC``) asks a model on another endpoint; it lives in
:mod:`llm_tco.quality.judge` because it sends requests.
"""

from __future__ import annotations

import importlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from llm_tco.quality.errors import QualityError
from llm_tco.quality.prompts import PromptItem

MAX_SCHEMA_BYTES = 2**20


@dataclass(frozen=True)
class Grade:
    passed: bool
    reason: str  # safe to store: names the check, never quotes the answer
    detail: str | None = None  # may quote the answer: stored only with --keep-outputs


Grader = Callable[[str, PromptItem], Grade]


def _reference(item: PromptItem, kind: str) -> str:
    if item.reference is None:
        raise _NoReference(kind)
    return item.reference


class _NoReference(Exception):
    def __init__(self, kind: str) -> None:
        self.kind = kind


def _normalise(text: str) -> str:
    return " ".join(text.strip().split()).casefold()


def exact(answer: str, item: PromptItem, argument: Any) -> Grade:
    """The answer equals the reference, ignoring case and runs of white space."""
    same = _normalise(answer) == _normalise(_reference(item, "exact"))
    return Grade(same, "exact: equal" if same else "exact: differs")


def regex(answer: str, item: PromptItem, argument: re.Pattern[str]) -> Grade:
    """The pattern matches somewhere in the answer (``re.search``)."""
    found = argument.search(answer) is not None
    return Grade(found, "regex: matched" if found else "regex: no match")


def _json_text(answer: str) -> str:
    """The JSON in an answer: a fenced ```json block if there is one, else the whole text."""
    fenced = re.search(r"```(?:json)?\s*(.*?)```", answer, re.DOTALL)
    return fenced.group(1) if fenced else answer


def valid_json(answer: str, item: PromptItem, argument: Any) -> Grade:
    """The answer (or its fenced block) parses as JSON."""
    try:
        json.loads(_json_text(answer))
    except json.JSONDecodeError as exc:
        return Grade(False, f"json: invalid at line {exc.lineno} column {exc.colno}")
    return Grade(True, "json: valid")


def json_schema(answer: str, item: PromptItem, argument: jsonschema.protocols.Validator) -> Grade:
    """The answer parses as JSON and validates against the schema."""
    try:
        value = json.loads(_json_text(answer))
    except json.JSONDecodeError as exc:
        return Grade(False, f"json-schema: invalid JSON at line {exc.lineno}")
    error = jsonschema.exceptions.best_match(argument.iter_errors(value))
    if error is None:
        return Grade(True, "json-schema: valid")
    # The schema path names the rule broken, from the schema, not from the answer.
    where = "/".join(str(p) for p in error.schema_path) or "(root)"
    return Grade(False, f"json-schema: fails {where}", error.message[:500])


NUMBER = re.compile(r"[-+]?(?:\d[\d,]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def numeric(answer: str, item: PromptItem, argument: float) -> Grade:
    """The last number in the answer is within ``argument`` (relative) of the reference's."""
    ref_numbers = NUMBER.findall(_reference(item, "numeric"))
    if not ref_numbers:
        raise QualityError("a numeric grader's reference holds no number", field="reference")
    expected = float(ref_numbers[-1].replace(",", ""))
    found = NUMBER.findall(answer)
    if not found:
        return Grade(False, "numeric: no number in the answer")
    value = float(found[-1].replace(",", ""))
    close = math.isclose(value, expected, rel_tol=argument, abs_tol=argument * 1e-9)
    return Grade(close, "numeric: within tolerance" if close else "numeric: outside tolerance")


def python(answer: str, item: PromptItem, argument: Callable[..., Any]) -> Grade:
    """The user's function ``f(answer, reference, task) -> bool | (bool, str)``."""
    try:
        verdict = argument(answer, item.reference, item.task)
    except Exception as exc:  # the user's code: one failing answer must not end the run
        return Grade(False, f"python: raised {type(exc).__name__}", str(exc)[:500])
    passed, detail = (verdict, None) if isinstance(verdict, bool) else verdict
    if not isinstance(passed, bool):
        raise QualityError(
            "a python grader must return a bool or (bool, str)",
            field="--grade python",
        )
    return Grade(passed, "python: passed" if passed else "python: failed", detail)


# Each grader with the function that turns its ``--grade`` argument into what it takes.
GRADERS: dict[str, tuple[Callable[..., Grade], Callable[[str | None], Any]]] = {}


def _no_argument(kind: str) -> Callable[[str | None], None]:
    def parse(argument: str | None) -> None:
        if argument:
            raise QualityError(f"{kind} takes no argument", field="--grade")

    return parse


def _pattern(argument: str | None) -> re.Pattern[str]:
    if not argument:
        raise QualityError("regex needs a pattern", field="--grade", hint="regex:^yes\\b")
    try:
        return re.compile(argument)
    except re.error as exc:
        raise QualityError(f"bad pattern: {exc}", field="--grade regex") from None


def _schema(argument: str | None) -> jsonschema.protocols.Validator:
    if not argument:
        raise QualityError(
            "json-schema needs a schema file", field="--grade", hint="json-schema:s.json"
        )
    path = Path(argument)
    try:
        if path.stat().st_size > MAX_SCHEMA_BYTES:
            raise QualityError("schema file over 1 MiB", field="--grade json-schema")
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise QualityError(f"cannot read {path}: {exc}", field="--grade json-schema") from None
    except json.JSONDecodeError as exc:
        raise QualityError(f"{path} is not JSON: {exc.msg}", field="--grade json-schema") from None
    try:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        raise QualityError(
            f"not a JSON Schema: {exc.message}", field="--grade json-schema"
        ) from None
    validator: jsonschema.protocols.Validator = cls(schema)
    return validator


def _tolerance(argument: str | None) -> float:
    try:
        value = float(argument) if argument else 1e-6
    except ValueError:
        raise QualityError(f"'{argument}' is not a number", field="--grade numeric") from None
    if not 0 <= value < 1:
        raise QualityError("tolerance is relative, between 0 and 1", field="--grade numeric")
    return value


def _function(argument: str | None) -> Callable[..., Any]:
    module_name, _, name = (argument or "").partition(":")
    if not module_name or not name:
        raise QualityError(
            "python needs module:function", field="--grade", hint="python:checks:is_valid"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise QualityError(
            f"cannot import {module_name}: {exc}",
            field="--grade python",
            hint="run from the folder that holds it, or set PYTHONPATH",
        ) from None
    function = getattr(module, name, None)
    if not callable(function):
        raise QualityError(f"{module_name} has no function {name}", field="--grade python")
    chosen: Callable[..., Any] = function
    return chosen


GRADERS.update(
    {
        "exact": (exact, _no_argument("exact")),
        "regex": (regex, _pattern),
        "json": (valid_json, _no_argument("json")),
        "json-schema": (json_schema, _schema),
        "numeric": (numeric, _tolerance),
        "python": (python, _function),
    }
)
JUDGE = "judge"


@dataclass(frozen=True)
class GraderSpec:
    """One ``--grade``: which tasks (None: all), which grader, its argument as typed."""

    task: str | None
    kind: str
    argument: str | None

    @property
    def label(self) -> str:
        text = self.kind + (f":{self.argument}" if self.argument else "")
        return f"{self.task}={text}" if self.task else text


def parse_grader(text: str) -> GraderSpec:
    """``[TASK=]KIND[:ARGUMENT]``: e.g. ``exact``, ``math=numeric:0.01``, ``regex:^A``."""
    head, sep, argument = text.partition(":")
    task, eq, kind = head.partition("=")
    if not eq:
        task, kind = "", head
    kind = kind.strip()
    if kind not in GRADERS and kind != JUDGE:
        raise QualityError(
            f"unknown grader '{kind}'",
            field="--grade",
            hint="one of " + ", ".join([*GRADERS, JUDGE]),
        )
    return GraderSpec(task or None, kind, argument if sep else None)


@dataclass(frozen=True)
class Bound:
    """A grader ready to run: its function with its parsed argument."""

    spec: GraderSpec
    function: Callable[..., Grade]
    argument: Any

    def __call__(self, answer: str, item: PromptItem) -> Grade:
        try:
            return self.function(answer, item, self.argument)
        except _NoReference as missing:
            raise QualityError(
                f"{missing.kind} needs a reference answer, and prompt {item.id} has none",
                field="reference",
                hint=f"add `reference` to every {item.task} prompt, or grade them another way",
            ) from None


NEEDS_REFERENCE = {"exact", "numeric"}


def check_references(graders: list[Bound], items: list[PromptItem]) -> None:
    """Refuse before sending anything if a grader that compares has no reference to compare."""
    for grader in graders:
        if grader.spec.kind not in NEEDS_REFERENCE:
            continue
        for item in items:
            if grader.spec.task in (None, item.task) and item.reference is None:
                raise QualityError(
                    f"{grader.spec.kind} needs a reference answer, and a {item.task} prompt "
                    f"({item.id}) has none",
                    field="reference",
                    hint=f"add `reference` to every {item.task} prompt, or grade them another way",
                )


def bind(spec: GraderSpec) -> Bound:
    function, parse = GRADERS[spec.kind]
    return Bound(spec, function, parse(spec.argument))


def local_grade(graders: list[Bound], answer: str, item: PromptItem) -> Grade:
    """Every local grader that applies to the item's task; the first failure decides."""
    applied = [g for g in graders if g.spec.task in (None, item.task)]
    reasons = []
    for grader in applied:
        grade = grader(answer, item)
        if not grade.passed:
            return grade
        reasons.append(grade.reason)
    return Grade(True, "; ".join(reasons) or "no grader: accepted")
