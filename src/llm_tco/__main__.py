"""``python -m llm_tco`` runs the CLI."""

from llm_tco.cli import main

main()
