"""Search every way to self-host a model for a workload, and every hosted API that serves it.

Each layout (GPU x precision x GPUs per replica x engine) is sized once by the capacity model;
then every (layout, offer) pair is priced at once as numpy arrays through the one replica
round-up and line-item formulas of :mod:`llm_tco.core.costs` (one array call per GPUs-per-replica
group). A candidate is feasible when its replica holds the model, meets the SLO, and has a
price. The cheapest feasible one is chosen; the Pareto front is taken over monthly cost, TTFT
and TPOT at the peak load one replica carries.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from llm_tco.capacity_factors import catalog_efficiencies, error_band
from llm_tco.catalog.loader import DATA_DIR, Catalog
from llm_tco.core.costs import SelfHostedOption, replica_count, self_hosted_line_items
from llm_tco.core.units import SECONDS_PER_HOUR, format_tokens, format_usd, usd_per_mtok
from llm_tco.plan.hosted import hosted_quotes, price_hosted
from llm_tco.plan.model import PlannedDeployment, PlanResult
from llm_tco.plan.quality import quality_note
from llm_tco.plan.space import (
    CapacityFn,
    PricedOffer,
    Sized,
    Space,
    at_load,
    layouts,
    modelled_capacity,
    priced_offers,
    request_shape,
    size_all,
)
from llm_tco.resolve import Notes, ops_items

FloatArray = NDArray[np.float64]


@dataclass
class Priced:
    """Every feasible (layout, offer) pair as arrays, one entry per candidate."""

    sized: list[Sized]
    offers: list[PricedOffer]
    layout: NDArray[np.int64]  # index into ``sized``
    offer: NDArray[np.int64]  # index into ``offers``
    replicas: FloatArray  # replicas carrying the peak (spares not counted)
    monthly: FloatArray


def price_candidates(
    space: Space, sized: list[Sized], offers: dict[str, list[PricedOffer]], catalog: Catalog
) -> Priced:
    """Monthly cost of every (layout, offer) pair, vectorised per GPUs-per-replica group."""
    flat: list[PricedOffer] = []
    start: dict[str, int] = {}
    for gpu_id, rows in offers.items():
        start[gpu_id] = len(flat)
        flat.extend(rows)
    pairs = [
        (i, start[s.deploy.gpu.id] + j)
        for i, s in enumerate(sized)
        for j in range(len(offers.get(s.deploy.gpu.id, [])))
    ]
    layout = np.array([p[0] for p in pairs], dtype=np.int64)
    offer = np.array([p[1] for p in pairs], dtype=np.int64)
    replicas = np.zeros(len(pairs))
    monthly = np.zeros(len(pairs))
    if not pairs:
        return Priced(sized, flat, layout, offer, replicas, monthly)
    capacity = np.array([s.total_tokens_per_second for s in sized])[layout]
    per_gpu = np.array([o.monthly_usd_per_gpu for o in flat])[offer]
    power = np.array([o.power_monthly_usd_per_gpu for o in flat])[offer]
    size = np.array([s.deploy.gpus_per_replica for s in sized])[layout]
    ops = ops_items(space.option.name, space.spec, catalog, Notes())
    for g in np.unique(size):
        at = size == g
        core = SelfHostedOption(
            name=space.option.name,
            gpu_monthly_usd=per_gpu[at],
            gpus_per_replica=int(g),
            replicas=None,
            capacity_tokens_per_second=capacity[at],
            hours_per_month=space.hours_per_month,
            power_monthly_usd_per_gpu=power[at],
            redundancy_replicas=1 if space.spec.redundancy == "n+1" else 0,
            fixed_items=tuple(ops.items),
            variable_per_mtok=space.spec.variable_per_mtok,
            retry_rate=space.option.retry_rate,
            acceptance_rate=space.option.acceptance_rate,
            min_replicas=space.spec.min_replicas,
        )
        count = replica_count(core, space.workload)
        assert count is not None
        replicas[at] = count
        items = self_hosted_line_items(core, space.workload)
        monthly[at] = sum(np.broadcast_to(v, (int(at.sum()),)) for v in items.values())
    return Priced(sized, flat, layout, offer, replicas, monthly)


def pareto_mask(points: FloatArray) -> NDArray[np.bool_]:
    """Rows of ``points`` (n x k, lower is better in every column) that no other row dominates
    (no worse in every column and better in one)."""
    if len(points) == 0:
        return np.zeros(0, dtype=bool)
    no_worse = np.all(points[:, None, :] <= points[None, :, :], axis=2)  # [j, i]: j <= i
    better = np.any(points[:, None, :] < points[None, :, :], axis=2)
    dominated = np.any(no_worse & better, axis=0)
    result: NDArray[np.bool_] = ~dominated
    return result


def search(
    space: Space,
    catalog: Catalog,
    capacity: CapacityFn | None = None,
    hosted: bool = True,
    keep: int | None = None,
) -> PlanResult:
    """Every candidate for ``space``, ranked; ``capacity`` replaces the capacity model (a
    stated or measured capacity per layout); ``hosted`` False skips the hosted-API listing;
    ``keep`` lists only the cheapest few and each layout's cheapest offer (the cheapest and the
    front are the same as with every candidate listed)."""
    started = time.perf_counter()
    deploys = layouts(space, catalog, catalog_efficiencies(catalog, space.arch.experts is not None))
    sized = size_all(space, deploys, capacity or modelled_capacity(space))
    gpus = list({s.deploy.gpu.id: s.deploy.gpu for s in sized}.values())
    offers = priced_offers(space, catalog, gpus)
    for gpu in gpus:
        if not offers[gpu.id]:
            space.drop(
                "no_offer",
                gpu.id,
                f"the catalog has no rental offer or purchase price for {gpu.id}",
            )
    priced = price_candidates(space, sized, offers, catalog)
    rows = _rows(space, priced, modelled=capacity is None, keep=keep)
    result = _result(space, priced, rows, len(priced.monthly))
    if capacity is None and rows:
        band = error_band(space.arch.experts is not None, catalog.data_dir or DATA_DIR)
        if band is not None:
            kind = {"moe": "MoE models", "dense": "dense models"}.get(band.group, "all models")
            note = (
                f"TTFT, TPOT, utilisation and GPU counts are the capacity model's; its "
                f"out-of-source error on {kind}: {band.describe()}. A pilot "
                "(llm-tco bench, then bench_result: in the scenario) replaces it with a "
                "measurement"
            )
            result = result.model_copy(update={"notes": [note, *result.notes]})
    if hosted:
        apis = price_hosted(hosted_quotes(space.arch, catalog), space.workload)
        note = _hosted_note(space, apis, result.cheapest, catalog)
        result = result.model_copy(update={"hosted_apis": apis, "hosted_note": note})
    return result.model_copy(update={"search_seconds": time.perf_counter() - started})


def peak_tokens_per_second(space: Space) -> float:
    """The peak load the replicas carry (retries included), total tokens/s."""
    seconds = space.hours_per_month * SECONDS_PER_HOUR
    mean = space.workload.total_tokens_per_month * (1 + space.option.retry_rate) / seconds
    return float(mean * space.workload.peak_to_mean)


def _kept(priced: Priced, keep: int | None) -> NDArray[np.int64]:
    """Candidates to list, cheapest first: all, or the ``keep`` cheapest (with every tie at
    the last one's cost) plus the cheapest offer of each layout (the front is taken among
    those)."""
    order = np.argsort(priced.monthly, kind="stable")
    if keep is None or len(order) <= keep:
        return order
    limit = priced.monthly[order[keep - 1]]
    _, first = np.unique(priced.layout[order], return_index=True)  # cheapest of each layout
    mask = priced.monthly[order] <= limit
    mask[first] = True
    result: NDArray[np.int64] = order[mask]
    return result


def _rows(
    space: Space, priced: Priced, modelled: bool, keep: int | None = None
) -> list[PlannedDeployment]:
    """One row per listed candidate (see :func:`_kept`), cheapest first (ties: faster, then
    by name)."""
    peak = peak_tokens_per_second(space)
    latency: dict[int, tuple[float, float, int]] = {}
    rows = []
    order = _kept(priced, keep)
    spares = 1 if space.spec.redundancy == "n+1" else 0
    total = space.workload.total_tokens_per_month
    for k in order:
        i, j = int(priced.layout[k]), int(priced.offer[k])
        s, o = priced.sized[i], priced.offers[j]
        replicas = int(priced.replicas[k])
        utilisation = peak / (s.total_tokens_per_second * replicas)
        if i not in latency:
            latency[i] = at_load(space, s, utilisation, modelled)
        ttft, tpot, running = latency[i]
        d = s.deploy
        monthly = float(priced.monthly[k])
        rows.append(
            # Built from typed arrays and catalog rows: validating thousands of rows again
            # would cost more than the search.
            PlannedDeployment.model_construct(
                gpu=d.gpu.id,
                gpu_name=d.gpu.name,
                precision=d.precision,
                kv_precision=d.kv_precision,
                gpus_per_replica=d.gpus_per_replica,
                engine=d.engine,
                offer=o.id,
                provider=o.provider,
                billing=o.billing,
                replicas=replicas + spares,
                gpus=(replicas + spares) * d.gpus_per_replica,
                gpu_monthly_usd=o.monthly_usd_per_gpu,
                monthly_cost=monthly,
                cost_per_mtok=usd_per_mtok(monthly, total),
                capacity_tokens_per_second_per_replica=s.total_tokens_per_second,
                utilisation_at_peak=utilisation,
                ttft_ms_at_load=ttft,
                tpot_ms_at_load=tpot,
                concurrency_at_load=running,
                gpu_price_formula=o.formula,
                gpu_price_source=o.source,
                capacity_source=s.capacity.source,
                quality_note=quality_note(space.arch, d.precision),
                pareto=False,
            )
        )
    rows.sort(key=lambda r: (r.monthly_cost, r.tpot_ms_at_load, r.gpu, r.offer, r.engine))
    return rows


def _result(
    space: Space, priced: Priced, rows: list[PlannedDeployment], feasible: int
) -> PlanResult:
    front = _front(rows)
    marked = {id(r) for r in front}
    rows = [r.model_copy(update={"pareto": True}) if id(r) in marked else r for r in rows]
    front = [r for r in rows if r.pareto]
    counts: dict[str, int] = {}
    for d in space.dropped:
        counts[d.reason] = counts.get(d.reason, 0) + 1
    cheapest = rows[0] if rows else None
    input_tokens, output_tokens = request_shape(space.workload)
    searched = feasible + sum(
        counts.get(k, 0) for k in ("does_not_fit", "misses_slo", "no_engine", "no_offer")
    )
    notes = sorted({r.quality_note for r in rows if r.quality_note})
    return PlanResult(
        model=space.arch.id,
        model_name=space.arch.name,
        option=space.option.name,
        total_tokens_per_month=float(space.workload.total_tokens_per_month),
        peak_tokens_per_second=peak_tokens_per_second(space),
        input_tokens_per_request=input_tokens,
        output_tokens_per_request=output_tokens,
        ttft_slo_ms=space.spec.ttft_slo_ms,
        tpot_slo_ms=space.spec.tpot_slo_ms,
        searched=searched,
        feasible=feasible,
        cheapest=cheapest,
        why=_why(space, cheapest, rows, counts, feasible),
        deployments=rows,
        pareto=front,
        hosted_apis=[],
        hosted_note="hosted APIs not searched",
        dropped=list(space.dropped),
        dropped_counts=counts,
        notes=notes,
        search_seconds=0.0,
    )


def _front(rows: list[PlannedDeployment]) -> list[PlannedDeployment]:
    """Cost vs latency front: the cheapest offer of each layout, undominated."""
    best: dict[tuple[Any, ...], PlannedDeployment] = {}
    for r in rows:  # cheapest first
        best.setdefault((r.gpu, r.precision, r.gpus_per_replica, r.engine), r)
    candidates = list(best.values())
    points = np.array(
        [[r.monthly_cost, r.ttft_ms_at_load, r.tpot_ms_at_load] for r in candidates]
    ).reshape(-1, 3)
    mask = pareto_mask(points)
    return [r for r, keep in zip(candidates, mask, strict=True) if keep]


def describe(r: PlannedDeployment) -> str:
    """'2 x (4 x h100-sxm-80gb) fp8 on vllm, runpod on-demand'."""
    return (
        f"{r.replicas} x ({r.gpus_per_replica} x {r.gpu}) {r.precision} on {r.engine}, "
        f"{r.provider} {r.billing}"
    )


def _why(
    space: Space,
    cheapest: PlannedDeployment | None,
    rows: list[PlannedDeployment],
    counts: dict[str, int],
    feasible: int,
) -> str:
    slo = []
    if space.spec.ttft_slo_ms is not None:
        slo.append(f"TTFT <= {space.spec.ttft_slo_ms:g} ms")
    if space.spec.tpot_slo_ms is not None:
        slo.append(f"TPOT <= {space.spec.tpot_slo_ms:g} ms")
    target = f"the peak of {format_tokens(peak_tokens_per_second(space))} tokens/s" + (
        f" within {' and '.join(slo)}" if slo else ""
    )
    if cheapest is None:
        parts = [
            f"{counts[k]} {label}"
            for k, label in (
                ("does_not_fit", "do not fit"),
                ("misses_slo", "miss the SLO"),
                ("no_engine", "have no engine"),
                ("no_offer", "GPU(s) have no offer"),
            )
            if counts.get(k)
        ]
        return f"no deployment of {space.arch.id} can serve {target}: " + (
            ", ".join(parts) or "no GPU in the catalog"
        )
    text = (
        f"cheapest of {feasible} feasible deployments that serve {target}: "
        f"{describe(cheapest)}, {format_usd(cheapest.monthly_cost)}/month"
    )
    same = (cheapest.gpu, cheapest.precision, cheapest.gpus_per_replica)
    others = [r for r in rows[1:] if (r.gpu, r.precision, r.gpus_per_replica) != same]
    if others:
        nxt = others[0]
        text += (
            f"; next other layout: {describe(nxt)}, "
            f"+{format_usd(nxt.monthly_cost - cheapest.monthly_cost)}/month"
        )
    return text


def _hosted_note(
    space: Space, apis: list[Any], cheapest: PlannedDeployment | None, catalog: Catalog
) -> str:
    if not apis:
        return (
            f"no hosted API for {space.arch.id} in genai-prices {catalog.genai.version} data or "
            "the catalog's own rows"
        )
    best = apis[0]
    text = (
        f"{len(apis)} hosted APIs serve {space.arch.id}; cheapest {best.provider} "
        f"({best.model}) at {format_usd(best.monthly_cost)}/month"
    )
    if cheapest is not None:
        if best.monthly_cost < cheapest.monthly_cost:
            ratio = cheapest.monthly_cost / max(best.monthly_cost, 1e-9)
            text += f", {ratio:.1f}x cheaper than the cheapest self-hosted deployment"
        else:
            text += ", dearer than the cheapest self-hosted deployment"
    return text
