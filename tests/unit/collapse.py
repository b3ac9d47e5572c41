"""Every number a scenario sets, as a path -> value map (the paths ranges use)."""

from __future__ import annotations

from typing import Any

from llm_tco.scenario import Scenario


def numeric_inputs(scenario: Scenario) -> dict[str, float]:
    found: dict[str, float] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else key)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                label = item.get("name", i) if isinstance(item, dict) else i
                walk(item, f"{path}[{label}]")
        elif isinstance(node, float):
            found[path] = node

    data = scenario.model_dump(exclude={"uncertain", "decision", "sweep"}, exclude_none=True)
    walk(data, "")
    return found
