"""An API option's latency (time to first token, time per output token) against the SLO a
self-hosted deployment is sized to: an API that misses it cannot serve, as a GPU deployment
that cannot meet it cannot."""

from __future__ import annotations

from llm_tco.resolve import Notes
from llm_tco.scenario import ApiSpec, OptionSpec, Scenario


def _shared_slo(scenario: Scenario, name: str) -> float | None:
    """The SLO every self-hosted option of the scenario states, when they state the same."""
    values = {
        getattr(o.self_hosted, name)
        for o in scenario.options
        if o.self_hosted is not None and name in o.self_hosted.model_fields_set
    }
    return values.pop() if len(values) == 1 else None


def slo_for(scenario: Scenario, spec: ApiSpec) -> dict[str, tuple[float, str]]:
    """The SLOs the API is held to and where each comes from (ms)."""
    out: dict[str, tuple[float, str]] = {}
    decision = scenario.decision
    for name, own in (("ttft_slo_ms", spec.ttft_slo_ms), ("tpot_slo_ms", spec.tpot_slo_ms)):
        if own is not None:
            out[name] = (own, f"api.{name}")
        elif name == "ttft_slo_ms" and decision and decision.latency_target_ms is not None:
            out[name] = (decision.latency_target_ms, "decision.latency_target_ms")
        elif (shared := _shared_slo(scenario, name)) is not None:
            out[name] = (shared, f"the self-hosted options' {name}")
    return out


def check_latency(
    scenario: Scenario, option: OptionSpec, spec: ApiSpec, notes: Notes
) -> str | None:
    """Why the API cannot meet the SLO (None when it can, or nothing is stated to check)."""
    slos = slo_for(scenario, spec)
    at = f"p{spec.latency_percentile:g} " if spec.latency_percentile is not None else ""
    source = f" ({spec.latency_source})" if spec.latency_source else ""
    missed = []
    for given, slo, label in (
        (spec.ttft_ms, "ttft_slo_ms", "time to first token"),
        (spec.tpot_ms, "tpot_slo_ms", "time per output token"),
    ):
        if given is None or slo not in slos:
            continue
        target, origin = slos[slo]
        if given > target:
            missed.append(f"{label} {at}{given:g} ms{source} is over the {target:g} ms of {origin}")
    _percentile_note(scenario, option, spec, slos, notes)
    if not missed:
        return None
    reason = "; ".join(missed) + ": it cannot meet the latency target"
    notes.warn("latency_slo_missed", reason, option.name)
    return reason


def _percentile_note(
    scenario: Scenario,
    option: OptionSpec,
    spec: ApiSpec,
    slos: dict[str, tuple[float, str]],
    notes: Notes,
) -> None:
    """Warn when the self-hosted SLO the API is held to is read at a higher percentile than
    the API's latency was measured at (a median that meets a p95 target says little)."""
    for slo, given in (("ttft_slo_ms", spec.ttft_ms), ("tpot_slo_ms", spec.tpot_ms)):
        if given is None or slo not in slos or not slos[slo][1].startswith("the self-hosted"):
            continue
        target = _shared_slo(scenario, slo.replace("_ms", "_percentile"))
        if target is None:
            continue
        at = spec.latency_percentile
        if at is None or at < target:
            measured = f"p{at:g}" if at is not None else "no stated percentile"
            notes.warn(
                "latency_percentile_below_target",
                f"{slo} is a p{target:g} target, and the API's latency is at {measured}: "
                "give its latency at that percentile (latency_percentile)",
                option.name,
            )
