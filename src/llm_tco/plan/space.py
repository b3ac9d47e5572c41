"""The candidates a deployment search walks: GPU x precision x GPUs per replica x engine (each
sized once by the capacity model) and the priced offers of each GPU.

Nothing here re-derives a cost or a capacity: memory fit is the memory plan's
(:func:`llm_tco.core.memory.plan_memory`), capacity is
:func:`llm_tco.core.capacity.replica_capacity`, latency at a load is
:func:`llm_tco.core.capacity.predict`, and a GPU's monthly price is
:func:`llm_tco.resolve.gpu_price`, the functions ``evaluate`` uses.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from llm_tco.catalog.loader import Catalog, normalise_name
from llm_tco.catalog.schema import GpuSpec, ModelArch, RentalOffer
from llm_tco.core import capacity as capacity_model
from llm_tco.core import memory
from llm_tco.core.capacity import Efficiency, ReplicaCapacity, select_efficiency
from llm_tco.core.workload import Workload
from llm_tco.errors import LlmTcoError
from llm_tco.plan.model import Dropped
from llm_tco.resolve import Notes, gpu_price
from llm_tco.scenario import OptionSpec, PurchaseSpec, SelfHostedSpec

# Precisions the search tries. fp16 is bf16's twin (same bytes, same speed in the capacity
# model), so it is not tried separately.
PRECISIONS = ("bf16", "fp8", "int8", "int4")
ENGINES = ("vllm", "sglang", "trtllm", "llamacpp")
NVIDIA_ONLY_ENGINES = ("trtllm",)
# GPUs per replica: powers of two from the fewest that hold the model up to one 8-GPU node.
# A replica spread over several nodes runs its tensor-parallel all-reduces over the network,
# which the capacity model's per-GPU link figure does not describe; such layouts are left out
# unless asked for (``max_gpus_per_replica``).
NODE_GPUS = 8


@dataclass(frozen=True)
class Deploy:
    """One replica layout: a model on ``gpus_per_replica`` x ``gpu`` at a precision and engine."""

    gpu: GpuSpec
    precision: str
    kv_precision: str
    gpus_per_replica: int
    engine: str
    efficiency: Efficiency | None


@dataclass(frozen=True)
class Sized:
    """A layout the capacity model (or a stated capacity) sized for the workload."""

    deploy: Deploy
    capacity: ReplicaCapacity
    total_tokens_per_second: float  # one replica, input + output, at the SLO


@dataclass(frozen=True)
class PricedOffer:
    """One way to pay for a GPU, as USD per GPU per month (``resolve.gpu_price``)."""

    id: str
    provider: str
    billing: str
    monthly_usd_per_gpu: float
    power_monthly_usd_per_gpu: float
    formula: str
    source: str


@dataclass
class Space:
    """What to search: the model and workload, and the option whose ops, SLOs, redundancy and
    retries every candidate shares. ``gpus``/``precisions``/``engines`` restrict the search
    (None: everything the catalog has); ``forbid_precisions`` removes precisions."""

    arch: ModelArch
    workload: Workload
    hours_per_month: float
    option: OptionSpec
    spec: SelfHostedSpec
    gpus: tuple[str, ...] | None = None
    precisions: tuple[str, ...] | None = None
    forbid_precisions: tuple[str, ...] = ()
    engines: tuple[str, ...] | None = None
    gpus_per_replica: int | None = None
    max_gpus_per_replica: int = NODE_GPUS
    dropped: list[Dropped] = field(default_factory=list)

    def drop(self, reason: str, gpu: str, detail: str, **where: object) -> None:
        self.dropped.append(
            Dropped.model_validate({"reason": reason, "gpu": gpu, "detail": detail, **where})
        )


def request_shape(workload: Workload) -> tuple[float, float]:
    from llm_tco.evaluate import _request_shape

    return _request_shape(workload)


def context_tokens(spec: SelfHostedSpec, workload: Workload) -> int:
    from llm_tco.evaluate import _context_tokens

    return _context_tokens(spec, workload)


def kv_precision(spec: SelfHostedSpec, precision: str) -> str:
    from llm_tco.evaluate import _kv_precision

    return _kv_precision(spec.model_copy(update={"precision": precision}))


def candidate_gpus(space: Space, catalog: Catalog) -> list[GpuSpec]:
    if space.gpus is None:
        return list(catalog.gpus)
    return [catalog.gpu(name) for name in space.gpus]


def candidate_precisions(space: Space) -> list[str]:
    chosen = space.precisions or PRECISIONS
    return [p for p in chosen if p not in space.forbid_precisions]


def layouts(space: Space, catalog: Catalog, efficiencies: dict[str, Efficiency]) -> list[Deploy]:
    """Every (GPU, precision, GPUs per replica, engine) whose replica holds the model and one
    request; the others are dropped with the memory plan's figures."""
    spec = space.spec
    context = context_tokens(spec, space.workload)
    engines = space.engines or ENGINES
    found = []
    for gpu in candidate_gpus(space, catalog):
        for precision in candidate_precisions(space):
            kv = kv_precision(spec, precision)
            sizes = _sizes(space, gpu, precision, kv, context)
            if not sizes:
                continue
            for size in sizes:
                for engine in engines:
                    eff = select_efficiency(efficiencies, engine, gpu.vendor)
                    where = {"precision": precision, "gpus_per_replica": size, "engine": engine}
                    if engine in NVIDIA_ONLY_ENGINES and gpu.vendor != "nvidia":
                        space.drop(
                            "no_engine", gpu.id, f"{engine} runs on NVIDIA GPUs only", **where
                        )
                        continue
                    if eff is None:
                        space.drop(
                            "no_engine", gpu.id, f"no capacity factors for {engine}", **where
                        )
                        continue
                    found.append(Deploy(gpu, precision, kv, size, engine, eff))
    return found


def _sizes(space: Space, gpu: GpuSpec, precision: str, kv: str, context: int) -> list[int]:
    """GPUs per replica to try (memoised: the memory plan depends on none of the prices); a
    layout that holds nothing is dropped with the memory plan's figures."""
    fixed, top = space.gpus_per_replica, space.max_gpus_per_replica
    key = ("sizes", id(space.arch), id(gpu), precision, kv, context, fixed, top)
    found = _memo(key, (space.arch, gpu), lambda: _fit_sizes(space, gpu, precision, kv, context))
    assert isinstance(found, tuple)
    sizes: tuple[int, ...] = found[0]
    drop: Dropped | None = found[1]
    if drop is not None:
        space.dropped.append(drop)
    return list(sizes)


def _fit_sizes(
    space: Space, gpu: GpuSpec, precision: str, kv: str, context: int
) -> tuple[tuple[int, ...], Dropped | None]:
    scratch = Space(space.arch, space.workload, space.hours_per_month, space.option, space.spec)
    scratch.gpus_per_replica = space.gpus_per_replica
    scratch.max_gpus_per_replica = space.max_gpus_per_replica
    sizes = _plan_sizes(scratch, gpu, precision, kv, context)
    return tuple(sizes), (scratch.dropped[0] if scratch.dropped else None)


def _plan_sizes(space: Space, gpu: GpuSpec, precision: str, kv: str, context: int) -> list[int]:
    arch = space.arch
    if space.gpus_per_replica is not None:
        plan = memory.plan_memory(arch, gpu, precision, kv, space.gpus_per_replica, context)
        if plan.fits:
            return [space.gpus_per_replica]
        space.drop(
            "does_not_fit",
            gpu.id,
            _misfit(arch, plan, space.gpus_per_replica, gpu),
            precision=precision,
            gpus_per_replica=space.gpus_per_replica,
        )
        return []
    fewest = memory.min_gpus_to_fit(arch, gpu, precision, kv, context_tokens=context)
    top = space.max_gpus_per_replica
    if fewest is None or fewest > top:
        largest = max(s for s in memory.TP_SIZES if s <= top)
        plan = memory.plan_memory(arch, gpu, precision, kv, largest, context)
        space.drop("does_not_fit", gpu.id, _misfit(arch, plan, largest, gpu), precision=precision)
        return []
    return [s for s in memory.TP_SIZES if fewest <= s <= top]


def _misfit(arch: ModelArch, plan: memory.MemoryPlan, gpus: int, gpu: GpuSpec) -> str:
    needed = plan.weights_gb + plan.overhead_gb + plan.kv_gb_per_sequence
    return (
        f"{arch.id} at {plan.precision} needs {needed:.0f} GB ({plan.weights_gb:.0f} GB weights) "
        f"for one {plan.context_tokens:,}-token sequence; {gpus} x {gpu.id} hold "
        f"{plan.available_gb:.0f} GB"
    )


CapacityFn = Callable[[Deploy, float, float], ReplicaCapacity]


# The capacity model's answer depends on the layout, the request shape and the SLO only, not on
# volume or prices: it is memoised in-process, so a page edit or a sweep of prices re-sizes
# nothing. Keys hold the catalog rows themselves (compared by identity), bounded in number.
MEMO_ENTRIES = 50_000
_MEMO: dict[tuple[object, ...], tuple[object, ...]] = {}


def _memo(
    key: tuple[object, ...], keep: tuple[object, ...], compute: Callable[[], object]
) -> object:
    """``compute()`` once per key; ``keep`` holds the objects whose ids are in the key."""
    held = _MEMO.get(key)
    if held is not None:
        return held[-1]
    value = compute()
    if len(_MEMO) >= MEMO_ENTRIES:
        _MEMO.clear()
    _MEMO[key] = (*keep, value)
    return value


def _deploy_key(space: Space, d: Deploy) -> tuple[object, ...]:
    return (
        id(space.arch),
        id(d.gpu),
        d.precision,
        d.kv_precision,
        d.gpus_per_replica,
        d.efficiency,
    )


def modelled_capacity(space: Space) -> CapacityFn:
    """The capacity model at the option's SLO, as ``evaluate`` sizes a deployment."""
    slo = capacity_model.Slo(tpot_ms=space.spec.tpot_slo_ms, ttft_ms=space.spec.ttft_slo_ms)

    def capacity(d: Deploy, input_tokens: float, output_tokens: float) -> ReplicaCapacity:
        assert d.efficiency is not None
        eff = d.efficiency

        def run() -> ReplicaCapacity:
            return capacity_model.replica_capacity(
                space.arch,
                d.gpu,
                d.precision,
                d.kv_precision,
                d.gpus_per_replica,
                input_tokens,
                output_tokens,
                slo,
                eff,
            )

        key = ("capacity", *_deploy_key(space, d), input_tokens, output_tokens, slo)
        found = _memo(key, (space.arch, d.gpu), run)
        assert isinstance(found, ReplicaCapacity)
        return found

    return capacity


def size_all(space: Space, deploys: list[Deploy], capacity: CapacityFn) -> list[Sized]:
    """One capacity-model call per layout; those that miss the SLO even at one request, or
    serve nothing, are dropped."""
    input_tokens, output_tokens = request_shape(space.workload)
    sized = []
    for d in deploys:
        where = {"precision": d.precision, "gpus_per_replica": d.gpus_per_replica}
        try:
            found = capacity(d, input_tokens, output_tokens)
        except LlmTcoError as exc:  # e.g. no room for one request's KV at this shape
            space.drop("does_not_fit", d.gpu.id, exc.message, engine=d.engine, **where)
            continue
        total = found.requests_per_second * (input_tokens + output_tokens)
        if not found.meets_slo:
            space.drop("misses_slo", d.gpu.id, _slo_miss(space, found), engine=d.engine, **where)
            continue
        if not math.isfinite(total) or total <= 0:
            space.drop("misses_slo", d.gpu.id, "no load meets the SLO", engine=d.engine, **where)
            continue
        sized.append(Sized(d, found, total))
    return sized


def _slo_miss(space: Space, found: ReplicaCapacity) -> str:
    ttft, tpot = space.spec.ttft_slo_ms, space.spec.tpot_slo_ms
    misses = []
    if ttft is not None and found.ttft_ms > ttft:
        misses.append(f"TTFT {found.ttft_ms:.0f} ms > {ttft:g} ms")
    if tpot is not None and found.tpot_ms > tpot:
        misses.append(f"TPOT {found.tpot_ms:.1f} ms > {tpot:g} ms")
    shown = ", ".join(misses) or f"TTFT {found.ttft_ms:.0f} ms, TPOT {found.tpot_ms:.1f} ms"
    return f"even one request at a time misses the SLO: {shown}"


def current_offers(catalog: Catalog, space: Space) -> list[RentalOffer]:
    """The newest row of each (provider, GPU, GPUs per instance, billing, region): a price
    change is a new dated row, so an older one is dropped as superseded."""
    newest: dict[tuple[str, str, int, str, str | None], RentalOffer] = {}
    for offer in catalog.offers:
        key = (
            normalise_name(offer.provider),
            offer.gpu,
            offer.gpu_count,
            offer.billing,
            offer.region,
        )
        held = newest.get(key)
        if held is None or offer.as_of > held.as_of:
            newest[key] = offer
    kept = {id(o) for o in newest.values()}
    for offer in catalog.offers:
        if id(offer) not in kept:
            key = (
                normalise_name(offer.provider),
                offer.gpu,
                offer.gpu_count,
                offer.billing,
                offer.region,
            )
            later = newest[key]
            space.drop(
                "superseded_offer",
                offer.gpu,
                f"{offer.id} ({offer.as_of}) is superseded by {later.id} ({later.as_of})",
                offer=offer.id,
            )
    return list(newest.values())


def priced_offers(
    space: Space, catalog: Catalog, gpus: list[GpuSpec]
) -> dict[str, list[PricedOffer]]:
    """Every current offer of each GPU, and buying it where the catalog has a purchase price
    (36-month amortisation, the catalog's electricity price and PUE), priced per GPU-month by
    ``resolve.gpu_price``."""
    wanted = {g.id: g for g in gpus}
    by_gpu: dict[str, list[PricedOffer]] = {g.id: [] for g in gpus}
    base = space.spec.model_copy(
        update={
            "gpu_hourly_price": None,
            "gpu_monthly_price": None,
            "offer": None,
            "purchase": None,
        }
    )
    for offer in current_offers(catalog, space):
        gpu = wanted.get(offer.gpu)
        if gpu is None:
            continue
        spec = base.model_copy(update={"offer": offer.id, "gpu": gpu.id})
        price = gpu_price(space.option.name, spec, gpu, space.hours_per_month, catalog, Notes())
        by_gpu[gpu.id].append(
            PricedOffer(
                id=offer.id,
                provider=offer.provider,
                billing=offer.billing,
                monthly_usd_per_gpu=float(price.monthly_usd_per_gpu),
                power_monthly_usd_per_gpu=float(price.power_monthly_usd_per_gpu),
                formula=price.formula,
                source=price.source,
            )
        )
    purchase = purchase_terms(catalog)
    for gpu in gpus:
        if gpu.purchase_price_usd is None or purchase is None:
            continue
        spec = base.model_copy(update={"purchase": purchase, "gpu": gpu.id})
        price = gpu_price(space.option.name, spec, gpu, space.hours_per_month, catalog, Notes())
        by_gpu[gpu.id].append(
            PricedOffer(
                id="purchase",
                provider="bought",
                billing="owned",
                monthly_usd_per_gpu=float(price.monthly_usd_per_gpu),
                power_monthly_usd_per_gpu=float(price.power_monthly_usd_per_gpu),
                formula=price.formula + " + power",
                source=price.source,
            )
        )
    return by_gpu


def purchase_terms(catalog: Catalog) -> PurchaseSpec | None:
    try:
        kwh = catalog.ops_default("electricity_usd_per_kwh").value
        pue = catalog.ops_default("pue").value
    except LlmTcoError:
        return None
    return PurchaseSpec(usd_per_kwh=kwh, pue=pue)


def at_load(
    space: Space, s: Sized, utilisation: float, modelled: bool = True
) -> tuple[float, float, int]:
    """(TTFT ms, TPOT ms, concurrency) of one replica carrying ``utilisation`` of its SLO
    capacity: the capacity model run at the concurrency that share of its operating point
    holds (throughput grows slower than concurrency, so this carries at least that load)."""
    cap = s.capacity
    running = max(1, min(cap.concurrency, math.ceil(cap.concurrency * utilisation - 1e-9)))
    d = s.deploy
    if not modelled or d.efficiency is None or running == cap.concurrency:
        return cap.ttft_ms, cap.tpot_ms, cap.concurrency
    input_tokens, output_tokens = request_shape(space.workload)
    eff = d.efficiency

    def run() -> capacity_model.Prediction:
        return capacity_model.predict(
            space.arch,
            d.gpu,
            d.precision,
            d.kv_precision,
            d.gpus_per_replica,
            input_tokens,
            output_tokens,
            running,
            eff,
        )

    key = ("predict", *_deploy_key(space, d), input_tokens, output_tokens, running)
    found = _memo(key, (space.arch, d.gpu), run)
    assert isinstance(found, capacity_model.Prediction)
    return found.ttft_ms, found.tpot_ms, running
