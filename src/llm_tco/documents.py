"""Read a YAML or JSON document from outside (a scenario file, a request body) within bounds.

Every limit is named and, past it, the reader raises one :class:`ScenarioError` saying which
limit and where (line and column for YAML). The limits hold whatever the input:

* size: at most ``MAX_DOCUMENT_BYTES`` (``MAX_YAML_BYTES`` for YAML), and only UTF-8 text;
* nesting: at most ``MAX_DEPTH`` levels of lists and mappings;
* values: at most ``MAX_VALUES`` after aliases are expanded (a 367-byte "billion laughs"
  expands to 10^9), and no alias that contains itself;

YAML is scanned by libyaml (C) when PyYAML has it, and composed here in Python so the bounds
apply node by node: a 5 MB scalar scans in ~0.2 s instead of ~12 s with the pure-Python scanner.
* keys: a mapping that repeats a key is refused, not silently "last one wins";
* integers: more than ``MAX_INTEGER_DIGITS`` digits become :class:`HugeInteger`, which every
  numeric field refuses by name (Python itself refuses to convert past 4,300 digits);
* time: YAML parsing stops after ``PARSE_SECONDS``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Literal

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from llm_tco.errors import ScenarioError


def _event_parser() -> Any:
    """libyaml's event parser; without it, the pure-Python one (the same, ~60x slower)."""
    try:
        from yaml._yaml import CParser

        return CParser
    except ImportError:  # pragma: no cover - PyYAML built without libyaml
        from yaml.parser import Parser
        from yaml.reader import Reader
        from yaml.scanner import Scanner

        class PyParser(Reader, Scanner, Parser):
            def __init__(self, stream: str) -> None:
                Reader.__init__(self, stream)
                Scanner.__init__(self)
                Parser.__init__(self)

        return PyParser


_EventParser: Any = _event_parser()
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
# A scenario is a few KB. libyaml scans ~30 MB/s while holding the interpreter lock, so 1 MB
# keeps any one scan under ~40 ms (a web server stays responsive while it runs).
MAX_YAML_BYTES = 1024 * 1024
MAX_DEPTH = 32
# 200 options of ~30 fields is 12,000 keys and values; composing 50,000 YAML nodes takes ~2 s.
MAX_VALUES = 50_000
MAX_INTEGER_DIGITS = 100
PARSE_SECONDS = 5.0
Kind = Literal["yaml", "json"]


@dataclass(frozen=True)
class HugeInteger:
    """An integer literal too long to be any quantity; numeric fields refuse it by name."""

    digits: int

    def __str__(self) -> str:
        return f"an integer of {self.digits:,} digits"


def _where(origin: str, node: Node | None) -> str:
    if node is None or node.start_mark is None:
        return origin
    mark = node.start_mark
    return f"{origin} line {mark.line + 1} column {mark.column + 1}"


class _BoundedLoader(Composer, SafeConstructor, Resolver, _EventParser):  # type: ignore[misc]
    """yaml.safe_load's types, with a depth, size, expansion, duplicate-key, integer-size and
    time bound."""

    origin = "document"

    def __init__(self, stream: str) -> None:
        _EventParser.__init__(self, stream)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self._depth = 0
        self._nodes = 0
        self._deadline = time.monotonic() + PARSE_SECONDS

    def _fail(self, message: str, node: Node | None = None, hint: str | None = None) -> None:
        raise ScenarioError(message, field=_where(self.origin, node), hint=hint)

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._nodes += 1
        if self._nodes > MAX_VALUES:
            self._fail(f"more than {MAX_VALUES:,} values", hint="a scenario is small")
        if self._nodes % 1000 == 0 and time.monotonic() > self._deadline:
            self._fail(f"YAML took over {PARSE_SECONDS:g} s to parse", hint="send a smaller file")
        nested = self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent)
        if nested:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                event: Any = self.peek_event()
                raise ScenarioError(
                    f"nested deeper than {MAX_DEPTH} levels",
                    field=f"{self.origin} line {event.start_mark.line + 1}",
                )
        try:
            return super().compose_node(parent, index)
        finally:
            if nested:
                self._depth -= 1

    def get_single_node(self) -> Any:
        node = super().get_single_node()
        if node is not None:
            _check_expansion(node, self.origin)
        return node

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if not isinstance(key_node, ScalarNode) or key_node.tag.endswith(":merge"):
                    continue
                key = self.construct_object(key_node)
                if key in seen:
                    self._fail(
                        f"duplicate key '{key}'", key_node, hint="give each key once in a mapping"
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: Any) -> Any:
        text = str(node.value).replace("_", "").lstrip("+-")
        if len(text) > MAX_INTEGER_DIGITS:
            return HugeInteger(len(text))
        return super().construct_yaml_int(node)


_BoundedLoader.add_constructor("tag:yaml.org,2002:int", _BoundedLoader.construct_yaml_int)


def _check_expansion(root: Node, origin: str) -> None:
    """Count values as if every alias were expanded; refuse cycles and more than MAX_VALUES."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    # Iterative post-order walk: (node, children visited?)
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        ident = id(node)
        if expanded:
            on_path.discard(ident)
            children = _children(node)
            total = 1 + sum(sizes[id(c)] for c in children)
            if total > MAX_VALUES:
                raise ScenarioError(
                    f"the document expands to more than {MAX_VALUES:,} values (YAML aliases)",
                    field=_where(origin, node),
                    hint="write the values out, or use fewer aliases",
                )
            sizes[ident] = total
            continue
        if ident in sizes:
            continue
        if ident in on_path:
            raise ScenarioError("a YAML alias contains itself", field=_where(origin, node))
        on_path.add(ident)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                raise ScenarioError("a YAML alias contains itself", field=_where(origin, child))
            if id(child) not in sizes:
                stack.append((child, False))


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ScenarioError(f"duplicate key '{key}'", hint="give each key once in an object")
        result[key] = value
    return result


def _json_int(text: str) -> int | HugeInteger:
    digits = len(text.lstrip("-"))
    return HugeInteger(digits) if digits > MAX_INTEGER_DIGITS else int(text)


def check_shape(data: Any, origin: str) -> None:
    """Depth and value count of parsed data (JSON has no aliases, so this is its size)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise ScenarioError(f"more than {MAX_VALUES:,} values", field=origin)
        if isinstance(node, dict | list):
            if depth >= MAX_DEPTH:
                raise ScenarioError(f"nested deeper than {MAX_DEPTH} levels", field=origin)
            values = node.values() if isinstance(node, dict) else node
            stack.extend((v, depth + 1) for v in values)


def decode_text(raw: bytes, origin: str) -> str:
    """UTF-8 text of at most MAX_DOCUMENT_BYTES, or one error naming ``origin``."""
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise ScenarioError(
            f"over {MAX_DOCUMENT_BYTES // 1024 // 1024} MB",
            field=origin,
            hint="a scenario is small",
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"not UTF-8 text (byte {exc.start} is 0x{raw[exc.start]:02x})", field=origin
        ) from None


def parse_document(text: str, kind: Kind, origin: str) -> Any:
    """Parse ``text`` as YAML or JSON within the module's bounds; errors name ``origin``."""
    limit = MAX_YAML_BYTES if kind == "yaml" else MAX_DOCUMENT_BYTES
    if len(text) > limit:
        raise ScenarioError(
            f"{kind.upper()} over {limit // 1024 // 1024} MB",
            field=origin,
            hint="a scenario is small",
        )
    # Every value but the first follows a separator: more separators than MAX_VALUES * 2
    # (keys and values) means too many values, refused before any parsing.
    if text.count(",") + text.count("\n") > 2 * MAX_VALUES:
        raise ScenarioError(f"more than {MAX_VALUES:,} values", field=origin)
    if kind == "json":
        try:
            data = json.loads(text, object_pairs_hook=_json_pairs, parse_int=_json_int)
        except json.JSONDecodeError as exc:
            raise ScenarioError(
                f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", field=origin
            ) from None
        except RecursionError:
            raise ScenarioError(f"nested deeper than {MAX_DEPTH} levels", field=origin) from None
        except ScenarioError as exc:
            exc.field = origin
            raise
        check_shape(data, origin)
        return data
    loader = _BoundedLoader(text)
    loader.origin = origin
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{origin} line {mark.line + 1} column {mark.column + 1}" if mark else origin
        problem = exc.problem or exc.context or "syntax error"
        if "nesting depth" in problem:
            # libyaml 0.2.6+ (PyYAML 6.0.4 wheels) stops deep flow nesting in its scanner,
            # before the composer's own depth check sees it: the same refusal either way.
            raise ScenarioError(f"nested deeper than {MAX_DEPTH} levels", field=where) from None
        raise ScenarioError(f"not valid YAML: {problem}", field=where) from None
    except yaml.YAMLError as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ScenarioError(f"not valid YAML: {detail}", field=origin) from None
    except (RecursionError, MemoryError):
        raise ScenarioError(f"nested deeper than {MAX_DEPTH} levels", field=origin) from None
    except ValueError as exc:  # e.g. a timestamp or float the constructor cannot convert
        raise ScenarioError(f"not valid YAML: {exc}", field=origin) from None
    finally:
        loader.dispose()
