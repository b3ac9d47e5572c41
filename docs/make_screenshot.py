"""Write docs/screenshot.png: the page in headless Chromium on benchmarks/five-options.yaml.

    python docs/make_screenshot.py [OUTPUT]

Needs the `playwright` package and Debian's `chromium` (never `playwright install`).
"""

from __future__ import annotations

import base64
import json
import sys
import threading
import time
from pathlib import Path

import uvicorn
import yaml
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

from conftest import CHROMIUM, CHROMIUM_ARGS, _free_port  # noqa: E402
from llm_tco.web.app import create_app  # noqa: E402


def main(output: Path) -> None:
    scenario = yaml.safe_load((ROOT / "benchmarks" / "five-options.yaml").read_text())
    encoded = base64.urlsafe_b64encode(json.dumps(scenario).encode()).decode().rstrip("=")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1800})
            page.goto(f"http://127.0.0.1:{port}/#s={encoded}")
            page.wait_for_function("Number(document.body.dataset.updates || 0) > 0")
            page.screenshot(path=str(output), full_page=False)
            browser.close()
    finally:
        server.should_exit = True
    print(f"wrote {output}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshot.png")
