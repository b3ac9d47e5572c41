"""Hostile scenario files through every scenario command: a result, or one line naming the
field with exit status 2; never a traceback, never more than 10 s."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from fuzz_support import FUZZ, HOSTILE, time_bound
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from llm_tco.cli import app

FILES = sorted(p for p in HOSTILE.iterdir() if p.suffix in (".yaml", ".json"))
# Each command with the cheapest options that still run all of its code.
COMMANDS: dict[str, list[str]] = {
    "evaluate": ["evaluate"],
    "sweep": ["sweep", "--volumes", "1M,1B"],
    "recommend": ["recommend", "--samples", "200"],
    "simulate": ["simulate", "--samples", "200"],
    "sensitivity": ["sensitivity"],
    "report": ["report"],
}
# Files that are valid scenarios (the rest must be refused).
VALID = {"alias_in_options.yaml", "bom.yaml"}


def invoke(command: str, path: Path, tmp_path: Path) -> object:
    args = [*COMMANDS[command], str(path)]
    if command == "report":
        args += ["--output", str(tmp_path / "r.html")]
    with time_bound(10):
        return CliRunner().invoke(app, args)


def check_refusal_or_result(result: object, valid: bool | None = None) -> None:
    exc = getattr(result, "exception", None)
    code = getattr(result, "exit_code", None)
    assert exc is None or isinstance(exc, SystemExit), f"traceback: {exc!r}"
    assert code in (0, 2), getattr(result, "output", "")
    if code == 2:
        lines = getattr(result, "stderr", "").strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), lines
        assert "\x1b" not in lines[0]
    if valid is not None:
        assert (code == 0) == valid, getattr(result, "output", "")


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_hostile_files(command: str, path: Path, tmp_path: Path) -> None:
    check_refusal_or_result(invoke(command, path, tmp_path), path.name in VALID)


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("billion_laughs.yaml", "50,000 values"),
        ("recursive_alias.yaml", "alias contains itself"),
        ("deep_nesting.yaml", "nested deeper than 32"),
        ("deep_nesting.json", "nested deeper than 32"),
        ("huge_integer.yaml", "workload.tokens_per_month: an integer of 5,000 digits"),
        ("huge_integer.json", "workload.tokens_per_month: an integer of 5,000 digits"),
        ("duplicate_keys.yaml", "line 3 column 3: duplicate key 'tokens_per_month'"),
        ("duplicate_keys.json", "duplicate key 'input_share'"),
        ("escape_codes.yaml", "options[0].name: control characters"),
        ("latin1.yaml", "not UTF-8"),
        ("nan.json", "workload.tokens_per_month: must be a finite number"),
        ("near_overflow.yaml", "workload.tokens_per_month: at most 1e+15"),
        ("tiny_rate.yaml", "tokens_per_second_per_replica: at least 1e-06"),
        ("from_logs_and_volume.yaml", "from_logs or tokens_per_month, not both"),
        ("fifo_bench_result.yaml", "not a regular file"),
        ("many_options.yaml", "options: at most 200"),
        ("many_sweep.yaml", "sweep: at most 1000"),
    ],
)
def test_refusals_name_the_field_and_the_limit(name: str, says: str, tmp_path: Path) -> None:
    result = invoke("evaluate", HOSTILE / name, tmp_path)
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert says in result.stderr, result.stderr  # type: ignore[attr-defined]


# --- generated hostile scenarios ------------------------------------------------------------

GOOD = {
    "workload": {"tokens_per_month": "1B", "input_share": 0.6, "peak_to_mean": 2},
    "options": [
        {"name": "haiku", "api": {"model": "claude-haiku-4.5"}},
        {
            "name": "own",
            "self_hosted": {
                "model": "llama-3.3-70b",
                "gpu": "h100-sxm-80gb",
                "gpu_hourly_price": 2.5,
                "tokens_per_second_per_replica": {"low": 500, "high": 2000},
            },
        },
    ],
}
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.sampled_from([0, -1, 1e-300, 1e15, 1e16, 1.7e308, "1e400", "10B", "-1M", True, None]),
)
texts = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["\x1b[31m", "a\nb", "../../etc/passwd", "/dev/zero", "*x", "&a", "{{"]),
)


@st.composite
def hostile_scenario_text(draw: st.DrawFn) -> str:
    """GOOD with values replaced by hostile numbers or text, as YAML with optional tricks."""
    import copy

    data = copy.deepcopy(GOOD)
    slots = [
        ("workload", "tokens_per_month"),
        ("workload", "input_share"),
        ("workload", "peak_to_mean"),
        ("workload", "from_logs"),
        ("options", 0, "name"),
        ("options", 1, "self_hosted", "gpu_hourly_price"),
        ("options", 1, "self_hosted", "gpu_count"),
        ("options", 1, "self_hosted", "tokens_per_second_per_replica"),
        ("options", 1, "self_hosted", "bench_result"),
        ("hours_per_month",),
    ]
    for path in draw(st.lists(st.sampled_from(slots), min_size=1, max_size=3, unique=True)):
        node = data
        for key in path[:-1]:
            node = node[key]  # type: ignore[index]
        node[path[-1]] = draw(st.one_of(numbers, texts))  # type: ignore[index]
    text = yaml.safe_dump(data, allow_unicode=True)
    trick = draw(st.sampled_from(["none", "alias", "duplicate", "deep", "bytes"]))
    if trick == "alias":
        text = "x: &a [1, 2, 3]\n" + text.replace("peak_to_mean: 2", "peak_to_mean: *a")
    elif trick == "duplicate":
        text += "workload: {}\n"
    elif trick == "deep":
        text += "decision: " + "[" * draw(st.integers(30, 3000)) + "\n"
    elif trick == "bytes":
        text = text.replace("haiku", draw(st.sampled_from(["\udcff", "\u202e", "\x00", "\x85"])))
    return text


@FUZZ
@given(hostile_scenario_text(), st.sampled_from(sorted(COMMANDS)))
def test_generated_hostile_scenarios(
    tmp_path_factory: pytest.TempPathFactory, text: str, command: str
) -> None:
    folder = tmp_path_factory.mktemp("s")
    path = folder / "s.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    check_refusal_or_result(invoke(command, path, folder))
