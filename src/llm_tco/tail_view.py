"""The tail-latency part of ``llm-tco capacity``: a replica's rate at percentile targets, and the
replicas a request rate needs with and without them (built here, rendered by the command)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from llm_tco.core.capacity import Efficiency
from llm_tco.core.fleetsize import DEFAULT_ROUTING
from llm_tco.core.memory import Layout
from llm_tco.core.speculative import Speculation
from llm_tco.core.tailsize import PercentileSlo, replicas_for_rate, tail_capacity, tail_fleet


class TailSizing(BaseModel):
    """Requests/s per replica at the percentile targets against the mean-only reading."""

    model_config = ConfigDict(frozen=True)

    slo: str
    arrivals: str
    requests_per_second: float  # per replica, every target met at its percentile
    mean_only_requests_per_second: float  # per replica, every target read as a mean
    limited_by: str  # "percentile" (simulation) or "mean" (steady-state targets)
    ttft_ms: dict[str, float] | None  # simulated at requests_per_second: mean, p50 ... p99
    tpot_ms: dict[str, float] | None
    requests_simulated: int
    sized_for_requests_per_second: float | None = None
    routing: str | None = None  # the router the replica count assumes (with a rate)
    # Per-replica req/s at the percentile targets by simulated fleet size, "N" -> rate.
    by_fleet_size: dict[str, float] | None = None
    replicas: int | None = None
    mean_only_replicas: int | None = None
    gpus: int | None = None
    mean_only_gpus: int | None = None


def arrivals_label(burstiness: float) -> str:
    if burstiness == 1:
        return "Poisson arrivals"
    return f"gamma inter-arrival gaps, coefficient of variation {burstiness:g}"


def build_tail_sizing(
    model: Any,
    gpu: Any,
    precision: str,
    kv_precision: str,
    layout: Layout,
    input_len: int,
    output_len: int,
    slo: PercentileSlo,
    efficiency: Efficiency,
    rate: float | None,
    speculation: Speculation | None = None,
    routing: str = DEFAULT_ROUTING,
) -> TailSizing:
    found = tail_capacity(
        model,
        gpu,
        precision,
        kv_precision,
        layout,
        input_len,
        output_len,
        slo,
        efficiency,
        speculation=speculation,
    )
    sim = found.simulated
    view: dict[str, Any] = {
        "slo": slo.describe(),
        "arrivals": arrivals_label(slo.burstiness),
        "requests_per_second": round(found.requests_per_second, 3),
        "mean_only_requests_per_second": round(found.mean_only_requests_per_second, 3),
        "limited_by": found.limited_by,
        "ttft_ms": _rounded(sim.at_rate.ttft_ms) if sim and sim.at_rate else None,
        "tpot_ms": _rounded(sim.at_rate.tpot_ms) if sim and sim.at_rate else None,
        "requests_simulated": sim.requests_simulated if sim else 0,
    }
    if rate is not None:
        fleet = tail_fleet(
            model,
            gpu,
            precision,
            kv_precision,
            layout,
            input_len,
            output_len,
            slo,
            efficiency,
            routing,
            rate,
            speculation=speculation,
        )
        replicas = (
            int(fleet.replicas_for([rate])[0])
            if fleet.requests_per_second_per_replica[0] > 0
            else None
        )
        mean_replicas = replicas_for_rate(rate, found.mean_only_requests_per_second)
        view.update(
            routing=routing,
            by_fleet_size={
                str(n): round(r, 3)
                for n, r in zip(fleet.replicas, fleet.requests_per_second_per_replica, strict=True)
            },
            sized_for_requests_per_second=rate,
            replicas=replicas,
            mean_only_replicas=mean_replicas,
            gpus=None if replicas is None else replicas * layout.gpus,
            mean_only_gpus=None if mean_replicas is None else mean_replicas * layout.gpus,
        )
    return TailSizing(**view)


def _rounded(stats: dict[str, float]) -> dict[str, float]:
    return {key: round(value, 2) for key, value in stats.items()}


def tail_lines(t: TailSizing) -> list[str]:
    """The lines ``capacity`` prints for the tail sizing."""
    lines = [
        f"{t.slo} ({t.arrivals}, {t.requests_simulated} simulated requests): "
        f"{t.requests_per_second:g} req/s per replica; read as means: "
        f"{t.mean_only_requests_per_second:g} req/s per replica"
    ]
    if t.ttft_ms and t.tpot_ms:
        lines.append(
            f"  at {t.requests_per_second:g} req/s: TTFT p50 {t.ttft_ms['p50']:g} / p99 "
            f"{t.ttft_ms['p99']:g} ms, TPOT mean {t.tpot_ms['mean']:g} / p99 "
            f"{t.tpot_ms['p99']:g} ms"
        )
    if t.sized_for_requests_per_second is not None:

        def count(replicas: int | None, gpus: int | None) -> str:
            return "none meet it" if replicas is None else f"{replicas} replicas ({gpus} GPUs)"

        if t.by_fleet_size:
            rates = ", ".join(f"{n}: {r:g}" for n, r in t.by_fleet_size.items())
            lines.append(
                f"  {t.routing} routing, req/s per replica by fleet size: {rates} (larger "
                "fleets: the last)"
            )
        lines.append(
            f"for {t.sized_for_requests_per_second:g} req/s: {count(t.replicas, t.gpus)} at the "
            f"percentile targets ({t.routing} routing); "
            f"{count(t.mean_only_replicas, t.mean_only_gpus)} by the mean-only sizing"
        )
    return lines
