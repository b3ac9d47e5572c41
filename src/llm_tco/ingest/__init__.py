"""Derive a workload from request logs: many formats in, one hourly cube, one summary out."""

from __future__ import annotations

from llm_tco.ingest.api import ingest, workload_from_logs

__all__ = ["ingest", "workload_from_logs"]
