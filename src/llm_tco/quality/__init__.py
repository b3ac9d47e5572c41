"""The quality pilot: the same prompts to several OpenAI-compatible endpoints, each answer
graded, acceptance rates with 95% intervals, and the measured capability tax written into a
scenario (``llm-tco quality``)."""

from llm_tco.quality.pilot import PilotSettings, run_pilot
from llm_tco.quality.result import QualityResult

__all__ = ["PilotSettings", "QualityResult", "run_pilot"]
