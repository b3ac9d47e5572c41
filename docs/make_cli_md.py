"""Write docs/cli.md: every `llm-tco` command's help, read from the command line app itself.

    python docs/make_cli_md.py          # rewrite docs/cli.md
    python docs/make_cli_md.py --check  # exit 1 when docs/cli.md is out of date

tests/unit/test_cli_docs.py fails when the file differs from what this writes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from llm_tco.cli import app

OUT = Path(__file__).with_name("cli.md")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


# typer carries its own copy of click, so parameters and commands are read by their attributes.
Command = Any


def _options(command: Command, ctx: Any) -> list[str]:
    """Arguments and options as `--help` lists them: names, what each takes, help, default."""
    lines = []
    for kind in ("argument", "option"):
        shown = [p for p in command.params if p.param_type_name == kind and not p.hidden]
        if shown:
            lines += [f"| {kind} | help |", "|---|---|"]
            for param in shown:
                names, help_text = param.get_help_record(ctx)
                lines.append(f"| `{_cell(names)}` | {_cell(help_text)} |")
            lines.append("")
    return lines


def _usage(command: Command) -> str:
    args = [p for p in command.params if p.param_type_name == "argument"]
    pieces = ["[OPTIONS]"]
    pieces += [p.name.upper() + ("..." if p.nargs == -1 else "") for p in args]
    if hasattr(command, "list_commands"):
        pieces.append("COMMAND [ARGS]...")
    return " ".join(pieces)


def _section(command: Command, path: list[str], parent: Any) -> list[str]:
    ctx = command.context_class(command, info_name=path[-1], parent=parent)
    title = " ".join(path)
    lines = [f"{'#' * min(len(path) + 1, 4)} `{title}`", ""]
    if command.help:
        lines += [command.help.strip(), ""]
    lines += ["```", f"{title} {_usage(command)}", "```", ""]
    lines += _options(command, ctx)
    if hasattr(command, "list_commands"):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                lines += _section(sub, [*path, name], ctx)
    return lines


def render() -> str:
    root = typer.main.get_command(app)
    head = [
        "# Command line reference",
        "",
        "Every `llm-tco` command with its arguments and options, as `llm-tco COMMAND --help`",
        "prints them. This file is written by `python docs/make_cli_md.py`; a test fails when it",
        "is out of date.",
        "",
    ]
    return "\n".join(head + _section(root, ["llm-tco"], None)).rstrip() + "\n"


def main() -> None:
    text = render()
    if "--check" in sys.argv[1:]:
        if OUT.read_text(encoding="utf-8") != text:
            sys.exit(f"{OUT.name} is out of date: run python docs/make_cli_md.py")
        return
    OUT.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
