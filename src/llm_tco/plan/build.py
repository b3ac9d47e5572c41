"""A search space from a scenario: its workload, and the self-hosted option it stands in for."""

from __future__ import annotations

from dataclasses import dataclass

from llm_tco.catalog.loader import Catalog
from llm_tco.errors import LlmTcoError, ScenarioError
from llm_tco.plan.space import Space
from llm_tco.resolve import resolve_workload
from llm_tco.scenario import OptionSpec, Scenario, SelfHostedSpec

AUTO = "auto"
CHEAPEST = "cheapest"


@dataclass(frozen=True)
class Limits:
    """What the user restricts: None leaves a dimension to the search."""

    gpus: tuple[str, ...] | None = None
    precisions: tuple[str, ...] | None = None
    forbid_precisions: tuple[str, ...] = ()
    engines: tuple[str, ...] | None = None


def is_search(spec: SelfHostedSpec) -> bool:
    """Whether a self-hosted option asks the search to choose (``gpu: auto``,
    ``precision: auto`` or ``offer: cheapest``)."""
    return spec.gpu == AUTO or spec.precision == AUTO or spec.offer == CHEAPEST


def option_limits(spec: SelfHostedSpec) -> Limits:
    """The choices a scenario option fixes: a named GPU, precision or engine stays fixed."""
    gpus: tuple[str, ...] | None = (spec.gpu,)
    if spec.gpu == AUTO:
        gpus = tuple(spec.allowed_gpus) if spec.allowed_gpus else None
    return Limits(
        gpus=gpus,
        precisions=(
            (tuple(spec.allowed_precisions) if spec.allowed_precisions else None)
            if spec.precision == AUTO
            else (spec.precision,)
        ),
        forbid_precisions=tuple(spec.forbid_precisions),
        engines=(spec.engine,) if "engine" in spec.model_fields_set else None,
    )


def self_hosted_option(scenario: Scenario, name: str | None) -> OptionSpec | None:
    """The named option, or the scenario's first self-hosted option (None when it has none)."""
    if name is not None:
        for option in scenario.options:
            if option.name == name:
                if option.self_hosted is None:
                    raise ScenarioError(
                        f"option {name} is not self-hosted",
                        field="--option",
                        hint="name a self_hosted option, or give --model",
                    )
                return option
        names = ", ".join(o.name for o in scenario.options)
        raise ScenarioError(f"no option named {name}", field="--option", hint=f"options: {names}")
    return next((o for o in scenario.options if o.self_hosted is not None), None)


def space_for(
    scenario: Scenario,
    catalog: Catalog,
    option_name: str | None = None,
    model: str | None = None,
    limits: Limits | None = None,
) -> Space:
    """The search for one option of ``scenario`` (its ops, SLOs, redundancy and retries), or
    for ``model`` with default self-hosting terms when the scenario has no such option.

    ``limits`` None: the option's own choices hold (a named GPU, precision, engine or GPUs per
    replica stays fixed), as for ``gpu: auto`` in ``evaluate``; given: only those limits (and
    the option's forbidden precisions), as ``llm-tco plan`` searches."""
    option = self_hosted_option(scenario, option_name)
    if option is None:
        if model is None:
            raise ScenarioError(
                "the scenario has no self-hosted option",
                field="options",
                hint="give --model NAME to search deployments of a catalog model",
            )
        spec = SelfHostedSpec(model=model, gpu=AUTO, offer=CHEAPEST)
        option = OptionSpec(name=f"{model}-self-hosted", self_hosted=spec)
    assert option.self_hosted is not None
    spec = option.self_hosted
    if model is not None:
        spec = spec.model_copy(update={"model": model})
    if spec.model is None:
        raise ScenarioError(
            "a deployment search needs a catalog model",
            field=f"options[{option.name}].self_hosted.model",
            hint="name a model from `llm-tco catalog models`",
        )
    try:
        arch = catalog.model(spec.model)
    except LlmTcoError as exc:
        exc.field = f"options[{option.name}].self_hosted.model"
        raise
    workload, _ = resolve_workload(scenario.workload, scenario.hours_per_month)
    chosen = limits or option_limits(spec)
    if limits is not None:  # a search the user asked for: the option's forbidden precisions hold
        chosen = Limits(
            limits.gpus,
            limits.precisions,
            tuple(dict.fromkeys([*limits.forbid_precisions, *spec.forbid_precisions])),
            limits.engines,
        )
    return Space(
        arch=arch,
        workload=workload,
        hours_per_month=scenario.hours_per_month,
        option=option,
        spec=spec,
        gpus=chosen.gpus,
        precisions=chosen.precisions,
        forbid_precisions=chosen.forbid_precisions,
        engines=chosen.engines,
        gpus_per_replica=spec.gpus_per_replica if limits is None else None,
    )
