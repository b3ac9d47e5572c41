"""Load profiles: arrival schedules, the sweep/goodput search, prompt shapes."""

from __future__ import annotations

import itertools
import statistics

import pytest

from llm_tco.bench.client import ClientConfig, _Stream, base_url, build_payload
from llm_tco.bench.profiles import LevelPlan, arrival_offsets, next_concurrency
from llm_tco.bench.prompts import LengthSpec, replay_prompts, synthetic_prompts
from llm_tco.errors import BenchError


def test_constant_arrivals_are_evenly_spaced() -> None:
    # 4 req/s -> one every 0.25 s.
    offsets = arrival_offsets(LevelPlan(arrival="constant", rate=4.0), [], 5)
    assert offsets == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])


def test_poisson_arrivals_have_the_asked_mean_gap() -> None:
    offsets = arrival_offsets(LevelPlan(arrival="poisson", rate=10.0), [], 20_001, seed=1)
    gaps = [b - a for a, b in itertools.pairwise(offsets)]
    # Exponential gaps with rate 10/s: mean 0.1 s and standard deviation 0.1 s.
    assert statistics.mean(gaps) == pytest.approx(0.1, rel=0.03)
    assert statistics.stdev(gaps) == pytest.approx(0.1, rel=0.05)


def test_replay_keeps_logged_offsets_scaled_by_speed() -> None:
    prompts = replay_prompts([(100.0, 10, 5), (101.0, 20, 5), (104.0, 30, 5)])
    plan = LevelPlan(arrival="replay", rate=2.0)  # twice as fast
    assert arrival_offsets(plan, prompts, 3) == pytest.approx([0.0, 0.5, 2.0])


def test_search_doubles_while_passing_then_bisects() -> None:
    assert next_concurrency([], 64) == 1
    assert next_concurrency([(1, True, 100.0)], 64) == 2
    tried = [(1, True, 100.0), (2, True, 190.0), (4, True, 360.0), (8, False, 500.0)]
    assert next_concurrency(tried, 64) == 6  # between 4 (passes) and 8 (fails)
    tried += [(6, True, 450.0)]
    assert next_concurrency(tried, 64) == 7
    tried += [(7, False, 470.0)]
    assert next_concurrency(tried, 64) is None  # 6 passes, 7 fails: done


def test_search_stops_at_saturation_and_when_nothing_passes() -> None:
    # 4 -> 8 gained 2% (< 5%): the server is saturated, more load only queues.
    tried = [(1, True, 100.0), (2, True, 200.0), (4, True, 390.0), (8, True, 398.0)]
    assert next_concurrency(tried, 64) is None
    assert next_concurrency([(1, False, 50.0)], 64) is None
    # Never past the bound.
    assert next_concurrency([(1, True, 1.0), (2, True, 2.0)], 3) == 3
    assert next_concurrency([(1, True, 1.0), (2, True, 2.0), (3, True, 3.0)], 3) is None


def test_prompts_share_no_prefix_unless_asked() -> None:
    spec = LengthSpec.parse("32", field="input-len")
    prompts = synthetic_prompts(200, spec, LengthSpec.parse("8", field="x"), seed=3)
    # The first four words are a random tag: all distinct.
    assert len({" ".join(p.text.split()[:4]) for p in prompts}) == 200
    assert all(len(p.text.split()) == 32 and p.max_tokens == 8 for p in prompts)
    shared = synthetic_prompts(10, spec, spec, shared_prefix_tokens=16, seed=3)
    assert len({" ".join(p.text.split()[:16]) for p in shared}) == 1
    assert all(p.input_tokens_estimate == 48 for p in shared)


def test_length_spec_parsing() -> None:
    assert LengthSpec.parse("64:256", field="x").low == 64
    for bad in ("abc", "0", "10:5"):
        with pytest.raises(BenchError):
            LengthSpec.parse(bad, field="input-len")


def test_payload_and_stream_parsing() -> None:
    config = ClientConfig(endpoint="http://127.0.0.1:8000/v1/", model="m", api="chat")
    assert base_url(config.endpoint) == "http://127.0.0.1:8000"
    prompt = synthetic_prompts(1, LengthSpec(low=4, high=4), LengthSpec(low=3, high=3))[0]
    payload = build_payload(config, prompt)
    assert payload["messages"][0]["content"] == prompt.text
    assert payload["stream"] and payload["max_tokens"] == 3

    ticks = iter([1.0, 2.0])
    stream = _Stream(lambda: next(ticks))
    stream.feed(": keep-alive comment")
    stream.feed('data: {"choices": [{"delta": {"role": "assistant"}}]}')  # no content: not timed
    stream.feed('data: {"choices": [{"delta": {"content": "Hi"}}]}')
    stream.feed('data: {"choices": [{"delta": {"content": " there"}}]}')
    stream.feed('data: {"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 2}}')
    stream.feed("data: [DONE]")
    assert stream.chunk_times == [1.0, 2.0]
    assert (stream.prompt_tokens, stream.completion_tokens) == (7, 2)
    assert stream.done
