"""A live server and headless Chromium (Debian's `chromium` package) for the browser tests."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = next(
    (p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).exists()),
    None,
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    uvicorn = pytest.importorskip("uvicorn", reason="uvicorn is not installed: pip install -e .")
    from llm_tco.web.app import create_app

    port = _free_port()
    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")  # Playwright's sync API holds an event loop while open
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason='Playwright is not installed: pip install -e ".[dev]"'
    )
    if CHROMIUM is None:
        pytest.skip(
            "no chromium: apt-get install -y chromium (Debian's package; Playwright drives it)"
        )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: object, server_url: str) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1500, "height": 1000})  # type: ignore[attr-defined]
    page = context.new_page()
    # The page must work offline: fail any request that leaves the test server.
    page.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(server_url) else route.abort()
        ),
    )
    yield page
    context.close()
