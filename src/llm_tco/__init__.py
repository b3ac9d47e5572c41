"""llm-tco: what serving an LLM workload costs each way, where they break even, which to pick."""
