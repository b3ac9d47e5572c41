"""The quality pilot's parts: prompt files and sampling, graders, endpoints, judge verdicts,
Retry-After, and the scenario written with --out."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest

from llm_tco.quality.client import retry_after_seconds
from llm_tco.quality.endpoints import parse_endpoint
from llm_tco.quality.errors import QualityError
from llm_tco.quality.graders import bind, local_grade, parse_grader
from llm_tco.quality.judge import read_verdict
from llm_tco.quality.prompts import Message, PromptItem, load_prompts, stratified_sample
from llm_tco.quality.runner import worst_case_usd


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_jsonl_and_csv_prompts(tmp_path: Path) -> None:
    jsonl = _write(
        tmp_path / "p.jsonl",
        [
            {"prompt": "2+2?", "reference": "4", "task": "math"},
            {
                "messages": [
                    {"role": "system", "content": "be brief"},
                    {"role": "user", "content": "hi"},
                ]
            },
            {"prompt": "2+2?", "reference": "4", "task": "math"},  # duplicate: kept once
        ],
    )
    items = load_prompts(jsonl)
    assert len(items) == 2 and items[1].task == "all" and len(items[1].messages) == 2
    csv = tmp_path / "p.csv"
    csv.write_text('prompt,reference,task\n"a, b",x,t1\nc,,t2\n')
    rows = load_prompts(csv)
    assert [r.messages[0].content for r in rows] == ["a, b", "c"] and rows[1].reference is None


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"reference": "x"}, "p.jsonl line 1"),
        ({"prompt": "a", "messages": []}, "p.jsonl line 1"),
        ({"prompt": "a", "colour": "red"}, "p.jsonl line 1.colour"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "p.jsonl line 1.messages.0.role"),
    ],
)
def test_bad_prompt_rows_name_the_line(tmp_path: Path, row: dict, field: str) -> None:
    with pytest.raises(QualityError) as caught:
        load_prompts(_write(tmp_path / "p.jsonl", [row]))
    assert caught.value.field == field


def _items(counts: dict[str, int]) -> list[PromptItem]:
    return [
        PromptItem(messages=(Message(role="user", content=f"{task} {i}"),), task=task)
        for task, n in counts.items()
        for i in range(n)
    ]


def test_stratified_sample_keeps_each_label_in_proportion() -> None:
    items = _items({"a": 600, "b": 300, "c": 100})
    sample = stratified_sample(items, 500, seed=1)
    # 500 of 1000: exactly half of each label.
    assert Counter(i.task for i in sample) == {"a": 300, "b": 150, "c": 50}
    assert stratified_sample(items, 500, seed=1) == sample  # same seed, same sample
    assert stratified_sample(items, 500, seed=2) != sample
    # 10 of 1000 with a label of 1%: largest remainder gives a 6, b 3, c 1.
    assert Counter(i.task for i in stratified_sample(items, 10, 0)) == {"a": 6, "b": 3, "c": 1}
    small = _items({"a": 98, "b": 1, "c": 1})
    # 3 of 100: every label gets one, though b and c hold 1% each.
    assert Counter(i.task for i in stratified_sample(small, 3, 0)) == {"a": 1, "b": 1, "c": 1}


def _item(reference: str | None = None, task: str = "t") -> PromptItem:
    return PromptItem(messages=(Message(role="user", content="q"),), reference=reference, task=task)


def test_graders(tmp_path: Path) -> None:
    def grade(spec: str, answer: str, reference: str | None = None) -> bool:
        return local_grade([bind(parse_grader(spec))], answer, _item(reference)).passed

    assert grade("exact", "  Paris ", "paris") and not grade("exact", "Paris, France", "paris")
    assert grade(r"regex:\bPASS\b", "it is a PASS") and not grade(r"regex:^PASS", "no")
    assert grade("json", '```json\n{"a": 1}\n```') and not grade("json", "{a: 1}")
    schema = tmp_path / "s.json"
    schema.write_text(
        json.dumps(
            {"type": "object", "required": ["age"], "properties": {"age": {"type": "integer"}}}
        )
    )
    assert grade(f"json-schema:{schema}", '{"age": 3}')
    assert not grade(f"json-schema:{schema}", '{"age": "three"}')
    assert grade("numeric:0.01", "the answer is 1,000.5", "1000") and not grade(
        "numeric:0.01", "1100", "1000"
    )


def test_python_grader_is_the_users_function(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "my_checks.py").write_text(
        "def long_enough(answer, reference, task):\n"
        "    return len(answer) >= 5, f'{len(answer)} characters'\n"
        "def broken(answer, reference, task):\n"
        "    raise ValueError('bug')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    grader = [bind(parse_grader("python:my_checks:long_enough"))]
    assert local_grade(grader, "hello", _item()).passed
    short = local_grade(grader, "hey", _item())
    assert not short.passed and short.detail == "3 characters"
    crashed = local_grade([bind(parse_grader("python:my_checks:broken"))], "x", _item())
    assert not crashed.passed and crashed.reason == "python: raised ValueError"


def test_a_schema_failure_does_not_quote_the_answer(tmp_path: Path) -> None:
    schema = tmp_path / "s.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"name": {"type": "integer"}}}))
    result = local_grade(
        [bind(parse_grader(f"json-schema:{schema}"))], '{"name": "SECRET-42"}', _item()
    )
    assert not result.passed and "SECRET" not in result.reason
    assert (
        result.detail is not None and "SECRET-42" in result.detail
    )  # kept only with --keep-outputs


def test_task_graders_apply_to_their_task_only() -> None:
    graders = [bind(parse_grader("math=numeric:0")), bind(parse_grader("regex:."))]
    assert local_grade(graders, "5", _item("5", task="math")).passed
    assert not local_grade(graders, "6", _item("5", task="math")).passed
    assert local_grade(graders, "six", _item(None, task="chat")).passed


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("bleu", "unknown grader"),
        ("regex:(", "bad pattern"),
        ("python:nosuchmodule:f", "cannot import"),
        ("numeric:2", "between 0 and 1"),
        ("exact:x", "takes no argument"),
    ],
)
def test_bad_graders_are_refused(spec: str, message: str) -> None:
    with pytest.raises(QualityError, match=message):
        bind(parse_grader(spec))


def test_endpoint_flag() -> None:
    e = parse_endpoint(
        "haiku=https://api.example.com/v1,model=claude-haiku-4-5,price_in=1,price_out=5"
    )
    assert (e.name, e.url, e.model, e.input_per_mtok, e.output_per_mtok) == (
        "haiku",
        "https://api.example.com/v1",
        "claude-haiku-4-5",
        1.0,
        5.0,
    )
    # 1,000 tokens in and 200 out at $1/$5 per MTok: 0.001 + 0.001 = $0.002.
    assert e.cost_usd(1000, 200) == pytest.approx(0.002)
    for bad, field in [
        ("nourl", "--endpoint"),
        ("a=ftp://x,model=m", "--endpoint a"),
        ("a=http://x", "--endpoint a"),
        ("a=http://x,model=m,price=3", "--endpoint a"),
        ("a=http://x,model=m,price_in=-1", "--endpoint a.price_in"),
    ]:
        with pytest.raises(QualityError) as caught:
            parse_endpoint(bad)
        assert caught.value.field == field, bad


def test_worst_case_cost_bounds_a_request() -> None:
    # "héllo" is 6 bytes + 8 per message = 14 tokens in at most; max_tokens 100 out.
    # At $2/$10 per MTok: 14*2/1e6 + 100*10/1e6 = $0.001028.
    e = parse_endpoint("a=http://x,model=m,price_in=2,price_out=10,max_tokens=100")
    item = PromptItem(messages=(Message(role="user", content="héllo"),))
    assert worst_case_usd(e, item) == pytest.approx(0.001028)


def test_judge_verdicts() -> None:
    assert read_verdict("Looks right.\nVERDICT: PASS").passed
    assert not read_verdict("VERDICT: PASS? no, VERDICT: **FAIL**").passed  # the last one counts
    unclear = read_verdict("I think it is fine")
    assert not unclear.passed and unclear.reason == "judge: no verdict"


def test_pairwise_verdicts_follow_the_candidates_position() -> None:
    from llm_tco.quality.judge import candidate_first, read_preference

    assert read_preference("VERDICT: A", first=True) == "win"
    assert read_preference("VERDICT: A", first=False) == "loss"
    assert read_preference("so... VERDICT: b", first=False) == "win"
    assert read_preference("VERDICT: TIE", first=True) == "tie"
    assert read_preference("both fine", first=True) is None
    # The order is fixed by the hash and splits about half each way over many prompts.
    firsts = sum(candidate_first(f"{i:016x}", "llama") for i in range(1000))
    assert 440 < firsts < 560


def test_retry_after_seconds_and_dates() -> None:
    assert retry_after_seconds("3") == 3.0 and retry_after_seconds("-1") == 0.0
    now = dt.datetime(2026, 12, 1, 12, 0, 0, tzinfo=dt.UTC)
    assert retry_after_seconds("Tue, 01 Dec 2026 12:00:07 GMT", now) == pytest.approx(7.0)
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def _result(accepted: tuple[int, int], tmp_path: Path):  # type: ignore[no-untyped-def]
    from llm_tco.quality.endpoints import Endpoint
    from llm_tco.quality.result import QualityResult
    from llm_tco.quality.store import RequestRow
    from llm_tco.quality.summary import differences, summarise_endpoint

    items = [PromptItem(messages=(Message(role="user", content=str(i)),)) for i in range(10)]
    endpoints = [
        Endpoint(name="api", url="http://a", model="m", input_per_mtok=1, output_per_mtok=5),
        Endpoint(name="own", url="http://b", model="m"),
    ]
    rows = [
        RequestRow(
            role="answer",
            endpoint=e.name,
            prompt_id=item.id,
            task=item.task,
            attempt=1,
            status_code=200,
            latency_ms=10,
            input_tokens=100,
            output_tokens=20,
            cost_usd=e.cost_usd(100, 20),
            accepted=i < n,
        )
        for e, n in zip(endpoints, accepted, strict=True)
        for i, item in enumerate(items)
    ]
    summaries = [summarise_endpoint(e, items, rows, 1) for e in endpoints]
    return QualityResult(
        created_at="2026-12-01T12:00:00+00:00", prompts_file=str(tmp_path / "p.jsonl"),
        sample_size=10, seed=0, tasks={"all": 10}, graders=["exact"], max_attempts=1,
        endpoints=summaries, differences=differences(summaries), requests_sent=20,
        records_kept=20, stopped="done", keep_outputs=False,
    )  # fmt: skip


def test_out_updates_the_base_scenarios_options(tmp_path: Path) -> None:
    import yaml

    from llm_tco.quality.scenario_out import write_scenario
    from llm_tco.scenario import load_scenario

    base = tmp_path / "base.yaml"
    base.write_text(
        yaml.safe_dump(
            {
                "workload": {"tokens_per_month": "1B", "input_share": 0.8},
                "options": [
                    {
                        "name": "own",
                        "self_hosted": {
                            "model": "llama-3.3-70b",
                            "gpu": "h100-sxm-80gb",
                            "gpu_count": 2,
                            "gpu_hourly_price": 2.5,
                        },
                    },
                    {"name": "other", "api": {"input_per_mtok": 1, "output_per_mtok": 2}},
                ],
            }
        )
    )
    out = tmp_path / "s.yaml"
    warnings = write_scenario(_result((9, 6), tmp_path), out, base)
    assert warnings == []
    scenario = load_scenario(out)
    names = [o.name for o in scenario.options]
    assert names == ["own", "other", "api"]  # own updated in place, api added at its price
    own = scenario.options[0]
    # 6 of 10: the point is 0.6 and the ends are Wilson's (0.3127, 0.8318).
    assert own.acceptance_rate == 0.6 and own.self_hosted is not None
    dist = scenario.uncertain["options[own].acceptance_rate"]
    assert dist.bounds == pytest.approx((0.3127, 0.8318), abs=1e-4)
    assert own.acceptance_source is not None and "6 of 10" in own.acceptance_source
    assert scenario.options[1].acceptance_source is None
    # Nothing accepted: left out with a warning rather than a zero acceptance rate.
    warnings = write_scenario(_result((0, 6), tmp_path), out, base)
    assert warnings and "api: none of 10" in warnings[0]
    with pytest.raises(QualityError, match="monthly volume"):
        write_scenario(_result((9, 6), tmp_path), out)


def test_recommend_cites_measured_rates_and_overlapping_intervals() -> None:
    from llm_tco.core import recommend as core

    def option(name: str, usd: float, rate: float, ends: tuple[float, float]) -> core.OptionFacts:
        return core.OptionFacts(
            name=name, kind="api", monthly_usd=usd, acceptance_rate=rate,
            acceptance_range=ends, acceptance_source=f"{name}: measured",
        )  # fmt: skip

    facts = core.Facts(
        tokens_per_month=1e9,
        hours_per_month=720,
        peak_to_mean=1,
        options=(option("a", 100, 0.9, (0.85, 0.94)), option("b", 50, 0.6, (0.5, 0.7))),
    )
    verdict = core.recommend(facts)
    # Per accepted output: a 100/0.9 = $111, b 50/0.6 = $83: b.
    assert verdict.choose.name == "b"
    reason = next(r for r in verdict.reasons if r.code == "measured_acceptance")
    assert "a 90.0% (95% interval 85.0%-94.0%)" in reason.text
    assert reason.weight == "supports" and "a: measured" in reason.evidence
    close = core.Facts(1e9, 720, 1, (option("a", 100, 0.9, (0.7, 0.95)), facts.options[1]))
    reason = next(r for r in core.recommend(close).reasons if r.code == "measured_acceptance")
    assert reason.weight == "caveat" and "b's interval overlaps a's" in reason.text


def test_html_report_escapes_what_the_user_wrote(tmp_path: Path) -> None:
    from llm_tco.quality.report import render_html

    result = _result((9, 6), tmp_path)
    result = result.model_copy(
        update={"tasks": {"<script>alert(1)</script>": 10}, "graders": ["regex:<b>"]}
    )
    html = render_html(result)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)" in html
    assert "regex:&lt;b&gt;" in html
    # Wilson 9/10: centre (0.9 + 0.19207)/1.38415 = 0.78898, half 1.96 * 0.13640/1.38415 = 0.19314.
    assert "90.0% [59.6%, 98.2%] (9/10)" in html
