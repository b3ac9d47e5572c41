"""``self_hosted: {gpu: auto, precision: auto, offer: cheapest}``: the search chooses, and the
option is then priced as the explicit deployment it chose, by the same code as any other."""

from __future__ import annotations

from llm_tco.catalog.loader import Catalog
from llm_tco.errors import ScenarioError
from llm_tco.plan.build import is_search, space_for
from llm_tco.plan.model import PlannedDeployment, PlanResult
from llm_tco.plan.search import describe, search
from llm_tco.plan.space import purchase_terms
from llm_tco.scenario import OptionSpec, Scenario, SelfHostedSpec


def explicit_spec(
    spec: SelfHostedSpec, chosen: PlannedDeployment, catalog: Catalog
) -> SelfHostedSpec:
    """The option's spec with the search's choice written in (GPUs sized by ``auto``)."""
    update: dict[str, object] = {
        "gpu": chosen.gpu,
        "precision": chosen.precision,
        "engine": chosen.engine,
        "gpu_count": "auto",
        "gpus_per_replica": chosen.gpus_per_replica,
        "offer": None,
        "purchase": None,
    }
    if chosen.offer == "purchase":
        update["purchase"] = purchase_terms(catalog)
    else:
        update["offer"] = chosen.offer
    return spec.model_copy(update=update)


def choose(
    scenario: Scenario, option: OptionSpec, catalog: Catalog
) -> tuple[OptionSpec, PlanResult]:
    """The option as the explicit deployment the search chose, and the search's result."""
    assert option.self_hosted is not None
    plan = search(space_for(scenario, catalog, option.name), catalog, hosted=False, keep=10)
    if plan.cheapest is None:
        raise ScenarioError(
            plan.why,
            field=f"options[{option.name}].self_hosted.gpu",
            hint="allow more GPUs or precisions, relax the SLO, or add an offer",
        )
    spec = explicit_spec(option.self_hosted, plan.cheapest, catalog)
    return option.model_copy(update={"self_hosted": spec}), plan


def chosen_note(plan: PlanResult) -> str:
    assert plan.cheapest is not None
    return f"chosen by the deployment search: {plan.why}"


__all__ = ["choose", "chosen_note", "describe", "explicit_spec", "is_search"]
