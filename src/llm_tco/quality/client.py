"""One request to an OpenAI-compatible endpoint, answered in full (no streaming).

Each :class:`EndpointClient` holds one ``httpx.AsyncClient`` bound to the URL the user gave:
redirects are never followed and proxies from the environment are never used, so no other host
is contacted. :meth:`EndpointClient.ask` never raises for a failed request; its :class:`Reply`
says what went wrong, and for a 429 how long the server asked to wait (``Retry-After``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import json
import time
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from llm_tco.bench.client import base_url
from llm_tco.quality.endpoints import Endpoint
from llm_tco.quality.prompts import PromptItem

ErrorKind = Literal[
    "rate_limited",
    "http_4xx",
    "http_5xx",
    "redirect",
    "timeout",
    "connect",
    "reset",
    "protocol",
    "cancelled",
]
PATHS = {"chat": "/v1/chat/completions", "completions": "/v1/completions"}
MAX_ERROR_BYTES = 300
MAX_REPLY_BYTES = 16 * 2**20


@dataclass(frozen=True)
class Reply:
    """What one request gave back. Tokens from the server's ``usage`` block when it sent one,
    else estimated (``tokens_source == "estimate"``); latency in seconds."""

    text: str | None
    latency_s: float
    status_code: int | None
    input_tokens: int = 0
    output_tokens: int = 0
    tokens_source: Literal["usage", "estimate", "none"] = "none"
    error_kind: ErrorKind | None = None
    error_detail: str | None = None  # may echo the request: kept only with --keep-outputs
    retry_after_s: float | None = None
    waited_s: float = 0.0  # paused before sending, for an earlier 429's Retry-After

    @property
    def ok(self) -> bool:
        return self.error_kind is None and self.text is not None


def retry_after_seconds(value: str | None, now: dt.datetime | None = None) -> float | None:
    """A ``Retry-After`` header in seconds: a number of seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


def estimate_tokens(text: str) -> int:
    """About four characters a token, for servers that send no ``usage`` block."""
    return max(1, round(len(text) / 4)) if text else 0


def payload(endpoint: Endpoint, item: PromptItem) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": endpoint.model,
        "max_tokens": endpoint.max_tokens,
        "temperature": endpoint.temperature,
        "stream": False,
    }
    if endpoint.api == "chat":
        body["messages"] = [m.model_dump() for m in item.messages]
    else:
        body["prompt"] = item.text
    return body


def _answer(data: Any, api: str) -> str:
    choice = data["choices"][0]
    if api == "chat":
        content = choice["message"].get("content")
        return content if isinstance(content, str) else ""
    text = choice.get("text")
    return text if isinstance(text, str) else ""


class EndpointClient:
    """Sends whole (non-streamed) requests to one endpoint."""

    def __init__(self, endpoint: Endpoint, *, timeout_s: float = 120.0, connections: int = 8):
        self.endpoint = endpoint
        key = endpoint.api_key()
        self._http = httpx.AsyncClient(
            base_url=base_url(endpoint.url),
            headers={"Authorization": f"Bearer {key}"} if key else {},
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
            limits=httpx.Limits(max_connections=connections),
            follow_redirects=False,
            trust_env=False,  # never route through a proxy from the environment
        )
        self.timeout_s = timeout_s

    async def aclose(self) -> None:
        await self._http.aclose()

    async def ask(self, item: PromptItem) -> Reply:
        """One request for ``item``; cancellation is recorded as ``cancelled``, not raised."""
        start = time.perf_counter()
        status: int | None = None

        def failed(kind: ErrorKind, detail: str) -> Reply:
            return Reply(None, time.perf_counter() - start, status, 0, 0, "none", kind, detail)

        try:
            async with asyncio.timeout(self.timeout_s):
                response = await self._http.post(
                    PATHS[self.endpoint.api], json=payload(self.endpoint, item)
                )
            status = response.status_code
            if status != 200:
                return self._failure(response, time.perf_counter() - start)
            if len(response.content) > MAX_REPLY_BYTES:
                return failed("protocol", f"reply over {MAX_REPLY_BYTES // 2**20} MiB")
            data = response.json()
            text = _answer(data, self.endpoint.api)
            usage = data.get("usage") or {}
        except asyncio.CancelledError:
            return failed("cancelled", "stopped before the reply came")
        except (TimeoutError, httpx.TimeoutException):
            return failed("timeout", f"no reply within {self.timeout_s:g} s")
        except httpx.ConnectError as exc:
            return failed("connect", str(exc)[:200])
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            return failed("reset", type(exc).__name__)
        except (json.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError) as exc:
            return failed("protocol", f"not an OpenAI-style reply: {type(exc).__name__}")
        except httpx.HTTPError as exc:
            return failed("protocol", type(exc).__name__)
        latency = time.perf_counter() - start
        prompt_tokens, completion_tokens = (
            usage.get("prompt_tokens"),
            usage.get("completion_tokens"),
        )
        if isinstance(prompt_tokens, int) and isinstance(completion_tokens, int):
            return Reply(text, latency, status, prompt_tokens, completion_tokens, "usage")
        return Reply(
            text, latency, status, estimate_tokens(item.text), estimate_tokens(text), "estimate"
        )

    def _failure(self, response: httpx.Response, latency: float) -> Reply:
        status = response.status_code
        kind: ErrorKind
        if status == 429:
            kind = "rate_limited"
        elif 300 <= status < 400:
            kind = "redirect"
        else:
            kind = "http_5xx" if status >= 500 else "http_4xx"
        detail = response.content[:MAX_ERROR_BYTES].decode("utf-8", "replace")
        wait = retry_after_seconds(response.headers.get("retry-after"))
        return Reply(None, latency, status, 0, 0, "none", kind, detail, wait)
