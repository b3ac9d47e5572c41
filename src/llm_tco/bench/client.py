"""Streaming client for OpenAI-compatible servers (vLLM, SGLang, TGI, llama.cpp, hosted APIs).

One :class:`StreamingClient` holds one ``httpx.AsyncClient`` bound to the endpoint the user gave;
redirects are never followed, so no other host is ever contacted. :meth:`StreamingClient.send`
never raises for a failed request: it returns a :class:`RequestRecord` whose ``error_kind`` says
what went wrong, so a bad server cannot crash a run.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from llm_tco.bench.metrics import ErrorKind, RequestRecord
from llm_tco.bench.prompts import PromptSpec

Api = Literal["completions", "chat"]
PATHS: dict[Api, str] = {"completions": "/v1/completions", "chat": "/v1/chat/completions"}
RETRYABLE: set[ErrorKind] = {"http_5xx", "rate_limited", "connect", "reset"}
# Bounds on what one reply may make us hold: an SSE line, the content chunks, an error body.
MAX_LINE_BYTES = 1024 * 1024
MAX_CHUNKS = 1_000_000
MAX_ERROR_BYTES = 200
MAX_TOKEN_COUNT = 10**9  # no single request has a billion tokens


class ProtocolError(Exception):
    """The reply is not the OpenAI streaming format in a way we cannot use."""


def _token_count(usage: dict[str, Any], key: str) -> int | None:
    """``usage[key]`` as a token count: a whole number, 0 to 1e9 (None when absent)."""
    value = usage.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProtocolError(f"usage.{key} is not a number: {str(value)[:40]!r}")
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise ProtocolError(f"usage.{key} is not a whole number: {value!r}")
    if not 0 <= value <= MAX_TOKEN_COUNT:
        raise ProtocolError(f"usage.{key} is out of range: {value!r}")
    return int(value)


@dataclass(frozen=True)
class ClientConfig:
    """How to talk to the server. Timeouts in seconds."""

    endpoint: str
    model: str
    api: Api = "completions"
    api_key: str | None = None
    request_timeout_s: float = 120.0
    connect_timeout_s: float = 10.0
    ignore_eos: bool = True
    stream_usage: bool = True
    temperature: float | None = None
    retries: int = 0
    retry_backoff_s: float = 0.5
    max_connections: int = 1024


def base_url(endpoint: str) -> str:
    """The server root: a trailing ``/v1`` (as users often paste it) is dropped."""
    url = endpoint.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


def build_payload(config: ClientConfig, prompt: PromptSpec) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "model": config.model,
        "max_tokens": prompt.max_tokens,
        "stream": True,
    }
    if config.api == "chat":
        payload["messages"] = [{"role": "user", "content": prompt.text}]
    else:
        payload["prompt"] = prompt.text
    if config.stream_usage:
        payload["stream_options"] = {"include_usage": True}
    if config.ignore_eos:
        # vLLM/SGLang extension: generate exactly max_tokens, so lengths are what was asked.
        payload["ignore_eos"] = True
    if config.temperature is not None:
        payload["temperature"] = config.temperature
    return payload


class _Stream:
    """Accumulates what one streamed reply has shown so far."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.chunk_times: list[float] = []
        self.prompt_tokens: int | None = None
        self.completion_tokens: int | None = None
        self.done = False
        self.saw_bytes = False

    def feed(self, line: str) -> None:
        """One SSE line. Content chunks are timed; ``usage`` is kept; ``[DONE]`` ends it.

        Raises :class:`ProtocolError` for an event whose shape we cannot use (not an object,
        ``choices`` not a list, a ``delta`` or text that is not what the format says, a usage
        count that is not a whole number of tokens, or an ``error`` event)."""
        if not line.startswith("data:"):
            return  # blank separators, comments, ``event:`` lines
        data = line[5:].strip()
        if data == "[DONE]":
            self.done = True
            return
        event = json.loads(data)
        if not isinstance(event, dict):
            raise ProtocolError(f"event is not a JSON object: {data[:40]!r}")
        if event.get("error"):
            raise ProtocolError(f"server sent an error event: {str(event['error'])[:120]}")
        usage = event.get("usage")
        if usage:
            if not isinstance(usage, dict):
                raise ProtocolError(f"usage is not an object: {str(usage)[:40]!r}")
            self.prompt_tokens = _token_count(usage, "prompt_tokens")
            self.completion_tokens = _token_count(usage, "completion_tokens")
        choices = event.get("choices") or []
        if not isinstance(choices, list):
            raise ProtocolError("choices is not a list")
        for choice in choices:
            if not isinstance(choice, dict):
                raise ProtocolError("a choice is not an object")
            delta = choice.get("delta") or {}
            if not isinstance(delta, dict):
                raise ProtocolError(f"delta is not an object: {str(delta)[:40]!r}")
            text = choice.get("text") or delta.get("content") or delta.get("reasoning_content")
            if text and not isinstance(text, str):
                raise ProtocolError(f"content is not text: {str(text)[:40]!r}")
            if text:
                if len(self.chunk_times) >= MAX_CHUNKS:
                    raise ProtocolError(f"more than {MAX_CHUNKS:,} content chunks")
                self.chunk_times.append(self.clock())


async def _lines(response: httpx.Response) -> AsyncIterator[str]:
    """The reply's lines (``\\n`` or ``\\r\\n``), none longer than MAX_LINE_BYTES, in time
    linear in the reply whatever its chunking."""
    pending = bytearray()
    too_long = f"a stream line over {MAX_LINE_BYTES // 1024} KiB"
    async for chunk in response.aiter_bytes():
        *complete, rest = chunk.split(b"\n")
        for part in complete:
            pending += part
            if len(pending) > MAX_LINE_BYTES:
                raise ProtocolError(too_long)
            yield pending.rstrip(b"\r").decode("utf-8", "replace")
            pending = bytearray()
        pending += rest
        if len(pending) > MAX_LINE_BYTES:
            raise ProtocolError(too_long)
    if pending:
        yield pending.rstrip(b"\r").decode("utf-8", "replace")


async def _head(response: httpx.Response, limit: int = MAX_ERROR_BYTES) -> str:
    """The first ``limit`` bytes of a body, without reading the rest."""
    head = b""
    async for chunk in response.aiter_bytes():
        head += chunk
        if len(head) >= limit:
            break
    return head[:limit].decode("utf-8", "replace")


def _classify_status(status: int) -> ErrorKind:
    if status == 429:
        return "rate_limited"
    if 300 <= status < 400:
        return "redirect"
    return "http_5xx" if status >= 500 else "http_4xx"


class StreamingClient:
    """Sends streamed requests to one endpoint and records their timings."""

    def __init__(self, config: ClientConfig, *, clock: Callable[[], float] | None = None) -> None:
        self.config = config
        origin = time.perf_counter()
        self.clock = clock or (lambda: time.perf_counter() - origin)
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        limits = httpx.Limits(
            max_connections=config.max_connections,
            max_keepalive_connections=config.max_connections,
        )
        self._http = httpx.AsyncClient(
            base_url=base_url(config.endpoint),
            headers=headers,
            timeout=httpx.Timeout(config.request_timeout_s, connect=config.connect_timeout_s),
            limits=limits,
            follow_redirects=False,
            trust_env=False,  # never route through a proxy from the environment
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> StreamingClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def send(self, prompt: PromptSpec) -> RequestRecord:
        """Send one request, retrying retryable failures up to ``config.retries`` times."""
        attempts = 0
        while True:
            attempts += 1
            record = await self._send_once(prompt)
            retry = record.error_kind in RETRYABLE and attempts <= self.config.retries
            if not retry:
                return record.model_copy(update={"attempts": attempts})
            await asyncio.sleep(self.config.retry_backoff_s * attempts)

    async def _send_once(self, prompt: PromptSpec) -> RequestRecord:
        stream = _Stream(self.clock)
        start = self.clock()
        status: int | None = None
        kind: ErrorKind | None = None
        detail: str | None = None
        try:
            # A hard ceiling on the whole request, on top of httpx's per-read timeout.
            async with asyncio.timeout(self.config.request_timeout_s):
                payload = build_payload(self.config, prompt)
                async with self._http.stream(
                    "POST", PATHS[self.config.api], json=payload
                ) as response:
                    status = response.status_code
                    if status != 200:
                        kind = _classify_status(status)
                        detail = await _head(response)
                    else:
                        async for line in _lines(response):
                            stream.saw_bytes = True
                            stream.feed(line)
                            if stream.done:
                                break
                        if not stream.done:
                            kind, detail = "truncated", "stream ended without [DONE]"
        except asyncio.CancelledError:
            # Ctrl-C or the level's time limit: keep what was measured. Only the runner cancels
            # these tasks, and it awaits them for exactly this record.
            kind, detail = "cancelled", "stopped before the reply ended"
        except TimeoutError:
            kind, detail = "timeout", f"no reply within {self.config.request_timeout_s:g} s"
        except httpx.TimeoutException as exc:
            kind, detail = "timeout", type(exc).__name__
        except httpx.ConnectError as exc:
            kind, detail = "connect", str(exc)[:200]
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            kind = "truncated" if stream.chunk_times else "reset"
            detail = f"{type(exc).__name__}: {str(exc)[:160]}"
        except json.JSONDecodeError as exc:
            kind, detail = "protocol", f"bad JSON in stream: {exc.msg}"
        except (ProtocolError, RecursionError) as exc:
            kind, detail = "protocol", str(exc)[:200] or type(exc).__name__
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            kind, detail = "connect", f"bad endpoint: {str(exc)[:160]}"
        except httpx.HTTPError as exc:
            kind, detail = "protocol", f"{type(exc).__name__}: {str(exc)[:160]}"
        except Exception as exc:  # never lose a sent request: whatever it was, record it
            while isinstance(exc, ExceptionGroup) and exc.exceptions:
                exc = exc.exceptions[0]  # e.g. a port out of range, raised in a task group
            opened = status is not None
            kind = "connect" if isinstance(exc, OSError | OverflowError) and not opened else "other"
            detail = f"{type(exc).__name__}: {str(exc)[:160]}"
        end = self.clock()
        return self._record(prompt, stream, start, end, status, kind, detail)

    @staticmethod
    def _record(
        prompt: PromptSpec,
        stream: _Stream,
        start: float,
        end: float,
        status: int | None,
        kind: ErrorKind | None,
        detail: str | None,
    ) -> RequestRecord:
        completion = stream.completion_tokens
        prompt_tokens = stream.prompt_tokens
        return RequestRecord(
            start_s=start,
            first_token_s=stream.chunk_times[0] if stream.chunk_times else None,
            end_s=end,
            chunk_times_s=[round(t, 6) for t in stream.chunk_times],
            input_tokens=prompt_tokens
            if prompt_tokens is not None
            else prompt.input_tokens_estimate,
            input_tokens_source="usage" if prompt_tokens is not None else "estimate",
            output_tokens=completion if completion is not None else len(stream.chunk_times),
            output_tokens_source="usage" if completion is not None else "chunks",
            status_code=status,
            error_kind=kind,
            error_detail=detail,
        )
