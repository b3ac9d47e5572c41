"""Test support for the quality pilot: the bench's fault proxy, taught two more replies.

``QuotaProxy`` adds the faults ``429`` (Too Many Requests with ``Retry-After``) and
``pass`` / ``fail`` / ``a`` / ``b`` / ``tie`` (a canned chat completion ending ``VERDICT: PASS``
and so on, as a judge model would send; ``slow-pass`` after ``delay_s``), and keeps the JSON
body of every request it received.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

from bench_support import FaultProxy


@dataclass
class QuotaProxy(FaultProxy):
    retry_after: str = "1"
    bodies: list[dict] = field(default_factory=list)

    async def _apply(self, fault: str, request: bytes, writer: asyncio.StreamWriter) -> None:
        _, _, body = request.partition(b"\r\n\r\n")
        self.bodies.append(json.loads(body) if body else {})
        if fault == "429":
            await self._reply(
                writer,
                "429 Too Many Requests",
                f"Retry-After: {self.retry_after}\r\n",
                b'{"error": "rate limited"}',
            )
        elif fault in ("pass", "fail", "a", "b", "tie", "slow-pass"):
            if fault == "slow-pass":
                await asyncio.sleep(self.delay_s)
                fault = "pass"
            reply = {
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": f"Checked.\nVERDICT: {fault.upper()}",
                        },
                    }
                ],
                "usage": {"prompt_tokens": 50, "completion_tokens": 5},
            }
            await self._reply(
                writer, "200 OK", "Content-Type: application/json\r\n", json.dumps(reply).encode()
            )
        else:
            await super()._apply(fault, request, writer)

    def prompts_sent(self) -> list[str]:
        """The user message of each request, in the order received."""
        texts = []
        for body in self.bodies:
            if "messages" in body:
                texts.append(body["messages"][-1]["content"])
            else:
                texts.append(body.get("prompt", ""))
        return texts
