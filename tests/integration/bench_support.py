"""Test support for the benchmark harness: a tiny real llama.cpp server and a fault proxy.

Everything listens on 127.0.0.1 only, and every wait here is bounded in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def llama_server_available() -> bool:
    try:
        import llama_cpp.server  # noqa: F401
    except ImportError:
        return False
    return True


def llama_server_missing() -> str | None:
    """Why the llama.cpp tests cannot run here (the skip reason, naming the extra that installs
    the server), or None. Where every engine is required (``LLM_TCO_REQUIRE_BACKENDS``, which
    ``.ci/run`` sets) a missing server is an error instead. Keyed on the project's variable,
    not on ``CI``: the README's test command run in some CI job without the extra skips."""
    if llama_server_available():
        return None
    reason = 'llama-cpp-python[server] is not installed: pip install -e ".[bench-test]"'
    if os.environ.get("LLM_TCO_REQUIRE_BACKENDS"):
        raise RuntimeError(f"{reason} (LLM_TCO_REQUIRE_BACKENDS is set)")
    return reason


@contextlib.contextmanager
def llama_server(
    model_path: Path,
    *,
    threads: int = 1,
    startup_s: float = 90.0,
    cpus: set[int] | None = None,
) -> Iterator[str]:
    """Run ``python -m llama_cpp.server`` on a free loopback port; yield its URL.

    ``cpus`` pins the server to those cores (so a benchmark client on another core does not
    slow it down).
    """
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model_path),
        "--model_alias",
        "tiny",
        "--host",
        HOST,
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        str(threads),
        "--n_threads_batch",
        str(threads),
        # Without this a new request cancels the one being generated.
        "--interrupt_requests",
        "False",
    ]
    log_path = model_path.with_suffix(".server.log")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ},
            preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
        )
        url = f"http://{HOST}:{port}"
        try:
            deadline = time.monotonic() + startup_s
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"llama.cpp server exited: {log_path.read_text()[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/v1/models", timeout=2.0).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"llama.cpp server did not start in {startup_s} s")
                time.sleep(0.25)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@dataclass
class FaultProxy:
    """An HTTP proxy on loopback that injects one fault per request, from ``faults`` in turn.

    Faults: ``ok`` (forward), ``delay`` (forward after ``delay_s``), ``503`` (answer 503),
    ``drop`` (close without a reply), ``truncate`` (forward, then cut the reply after
    ``truncate_bytes`` bytes), ``hang`` (never answer), ``redirect`` (307 to ``redirect_to``).
    Each connection carries one request (``Connection: close`` both ways).
    """

    upstream: str
    faults: list[str] = field(default_factory=lambda: ["ok"])
    delay_s: float = 0.3
    truncate_bytes: int = 900
    redirect_to: str = "http://127.0.0.1:9/"
    seen: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        host, _, port = self.upstream.removeprefix("http://").partition(":")
        self._up = (host, int(port))
        self._cycle = itertools.cycle(self.faults)
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self.port = 0

    def __enter__(self) -> FaultProxy:
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, HOST, 0)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fault proxy did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        async def close() -> None:
            assert self._server is not None
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    async def _read_request(self, reader: asyncio.StreamReader) -> bytes | None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            return None
        length = 0
        lines = head.split(b"\r\n")
        kept = [lines[0]]
        for line in lines[1:]:
            name = line.split(b":", 1)[0].strip().lower()
            if name == b"content-length":
                length = int(line.split(b":", 1)[1])
            if name not in (b"connection", b"keep-alive") and line:
                kept.append(line)
        body = await reader.readexactly(length) if length else b""
        return b"\r\n".join([*kept, b"Connection: close", b"", b""]) + body

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await self._read_request(reader)
            if request is None:
                return
            fault = next(self._cycle)
            self.seen.append(fault)
            await self._apply(fault, request, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _reply(
        self, writer: asyncio.StreamWriter, status: str, headers: str, body: bytes
    ) -> None:
        writer.write(
            f"HTTP/1.1 {status}\r\n{headers}Content-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()

    async def _apply(self, fault: str, request: bytes, writer: asyncio.StreamWriter) -> None:
        if fault == "503":
            await self._reply(writer, "503 Service Unavailable", "", b'{"error": "injected"}')
        elif fault == "redirect":
            await self._reply(
                writer, "307 Temporary Redirect", f"Location: {self.redirect_to}\r\n", b""
            )
        elif fault == "drop":
            return
        elif fault == "hang":
            await asyncio.sleep(3600)
        else:
            if fault == "delay":
                await asyncio.sleep(self.delay_s)
            await self._forward(
                request, writer, self.truncate_bytes if fault == "truncate" else None
            )

    async def _forward(
        self, request: bytes, writer: asyncio.StreamWriter, limit: int | None
    ) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._up)
        try:
            up_writer.write(request)
            await up_writer.drain()
            sent = 0
            while chunk := await up_reader.read(4096):
                if limit is not None and sent + len(chunk) > limit:
                    writer.write(chunk[: max(0, limit - sent)])
                    await writer.drain()
                    writer.transport.abort()  # cut mid-stream, as a crashed server would
                    return
                sent += len(chunk)
                writer.write(chunk)
                await writer.drain()
        finally:
            up_writer.close()
