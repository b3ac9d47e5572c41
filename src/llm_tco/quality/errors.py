"""The quality pilot's error: bad prompts, endpoints, graders or state, named with the fix."""

from __future__ import annotations

from llm_tco.errors import LlmTcoError


class QualityError(LlmTcoError):
    """A prompts file, endpoint, grader, state file or budget given to `llm-tco quality` is
    invalid."""
