"""A misbehaving OpenAI-compatible server for the benchmark client's tests (loopback only).

The model name a request asks for picks the behaviour (``BEHAVIOURS``): a correct stream, or
one of the replies the issue found losing requests. Every reply is bounded in size and time,
and the server handles one request per connection, then closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Iterator

OK_CHUNKS = 4


def _event(payload: object) -> bytes:
    return b"data: " + (payload if isinstance(payload, bytes) else json.dumps(payload).encode())


def _content(text: str = "hi") -> bytes:
    return _event({"choices": [{"text": text, "index": 0}]})


def _usage(completion: object, prompt: object = 7) -> bytes:
    # json.dumps writes NaN as the bare token NaN, which Python's (lenient) parser reads back.
    return _event(
        {"choices": [], "usage": {"prompt_tokens": prompt, "completion_tokens": completion}}
    )


DONE = b"data: [DONE]"
# name -> (HTTP status, SSE lines). Lines are joined with blank lines, as SSE frames are.
BEHAVIOURS: dict[str, tuple[int, list[bytes]]] = {
    "ok": (200, [_content()] * OK_CHUNKS + [_usage(OK_CHUNKS), DONE]),
    "data-int": (200, [_content(), b"data: 5", DONE]),
    "data-list": (200, [b"data: [1, 2]", DONE]),
    "string-delta": (200, [_event({"choices": [{"delta": "hello"}]}), DONE]),
    "string-choices": (200, [_event({"choices": "abc"}), DONE]),
    "number-content": (200, [_event({"choices": [{"delta": {"content": 5}}]}), DONE]),
    "usage-string": (200, [_content(), _usage("12"), DONE]),
    "usage-negative": (200, [_content(), _usage(-3), DONE]),
    "usage-fractional": (200, [_content(), _usage(2.5), DONE]),
    "usage-nan": (200, [_content(), _usage(float("nan")), DONE]),
    "usage-huge": (200, [_content(), _usage(10**30), DONE]),
    "usage-not-object": (200, [_content(), _event({"usage": "lots"}), DONE]),
    "bad-json": (200, [_content(), b"data: {not json", DONE]),
    "error-event": (200, [_event({"error": {"message": "overloaded"}}), DONE]),
    "no-done": (200, [_content(), _content()]),
    "long-line": (200, [b"data: " + b"x" * (2 * 1024 * 1024), DONE]),
    "http-500": (500, [b"x" * (4 * 1024 * 1024)]),
    "http-404": (404, [b'{"error": "no such model"}']),
}
FAILING = sorted(set(BEHAVIOURS) - {"ok"})


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        body = json.loads(await asyncio.wait_for(reader.readexactly(min(length, 10**7)), 10))
        status, lines = BEHAVIOURS.get(str(body.get("model")), BEHAVIOURS["ok"])
        kind = "text/event-stream" if status == 200 else "application/json"
        writer.write(
            f"HTTP/1.1 {status} X\r\ncontent-type: {kind}\r\nconnection: close\r\n\r\n".encode()
        )
        for line in lines:
            writer.write(line + (b"\n\n" if status == 200 else b""))
            await writer.drain()
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


@contextlib.contextmanager
def fake_server() -> Iterator[str]:
    """Run the server on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, object] = {}

    async def start() -> None:
        server = await asyncio.start_server(_handle, "127.0.0.1", 0)
        holder["server"] = server
        holder["port"] = server.sockets[0].getsockname()[1]
        ready.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop)
    if not ready.wait(10):
        raise RuntimeError("the fake server did not start")
    try:
        yield f"http://127.0.0.1:{holder['port']}"
    finally:

        async def stop() -> None:
            server = holder["server"]
            assert isinstance(server, asyncio.Server)
            server.close()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
