"""Helpers shared by tests: evaluate scenario dicts and the shipped examples.

Imported as ``support`` (pytest puts this folder on sys.path via conftest.py); a package named
``tests`` installed by some other distribution cannot shadow it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llm_tco.evaluate import evaluate
from llm_tco.result import Result
from llm_tco.scenario import load_scenario, scenario_from_data

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def run(data: dict[str, Any], **kwargs: Any) -> Result:
    return evaluate(scenario_from_data(data), **kwargs)


def run_example(name: str) -> Result:
    return evaluate(load_scenario(EXAMPLES / name))


def api_client(app: Any = None, **kwargs: Any) -> Any:
    """An in-process client as a browser on this machine talks to the app: Host 127.0.0.1,
    JSON bodies unless a request says otherwise."""
    from fastapi.testclient import TestClient

    from llm_tco.web.app import create_app

    headers = {"content-type": "application/json", **kwargs.pop("headers", {})}
    return TestClient(
        app if app is not None else create_app(),
        base_url="http://127.0.0.1",
        headers=headers,
        **kwargs,
    )


def genai_price_data(input_price: float, output_price: float) -> list[dict[str, object]]:
    """A one-provider, one-model copy of genai-prices' published data file (the JSON shape of
    its ``prices/new_data/v2/data.json``): DeepSeek's deepseek-v3.2 at the given USD/MTok."""
    return [
        {
            "id": "deepseek",
            "name": "Deepseek",
            "pricing_urls": ["https://api-docs.deepseek.com/quick_start/pricing"],
            "api_pattern": "https://api\\.deepseek\\.com",
            "model_match": {"starts_with": "deepseek"},
            "models": [
                {
                    "id": "deepseek-v3.2",
                    "match": {"equals": "deepseek-v3.2"},
                    "prices": {"input_mtok": input_price, "output_mtok": output_price},
                }
            ],
        }
    ]
