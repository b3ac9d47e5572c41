"""Options the user did not list: for each self-hosted option of an open model, the cheapest
hosted API serving the same model and the cheapest feasible self-hosted deployment."""

from __future__ import annotations

from llm_tco.catalog.loader import Catalog
from llm_tco.core.units import format_usd
from llm_tco.errors import LlmTcoError
from llm_tco.plan.build import Limits, space_for
from llm_tco.plan.hosted import hosted_quotes, price_hosted
from llm_tco.plan.model import Suggestion, WaysToServe
from llm_tco.plan.search import describe, search
from llm_tco.result import OptionResult
from llm_tco.scenario import Scenario

SHOWN = 10  # cheapest deployments and hosted APIs kept for the page; the front is kept whole


def suggestions(
    scenario: Scenario, catalog: Catalog, results: list[OptionResult]
) -> tuple[list[Suggestion], list[WaysToServe]]:
    """Suggestions for every self-hosted option whose model is in the catalog, and the ways
    to serve it they come from. The deployment search keeps the option's engine, SLOs, ops
    costs and forbidden precisions."""
    found: list[Suggestion] = []
    ways: list[WaysToServe] = []
    by_name = {r.name: r for r in results}
    for option in scenario.options:
        spec = option.self_hosted
        if spec is None or spec.model is None or option.name not in by_name:
            continue
        try:
            space = space_for(
                scenario,
                catalog,
                option.name,
                limits=Limits(
                    engines=(spec.engine,), forbid_precisions=tuple(spec.forbid_precisions)
                ),
            )
        except LlmTcoError:
            continue  # not a catalog model: nothing to search for
        own = by_name[option.name].monthly_cost
        apis = price_hosted(hosted_quotes(space.arch, catalog), space.workload)
        if apis:
            best = apis[0]
            found.append(
                Suggestion(
                    for_option=option.name,
                    kind="hosted_api",
                    name=f"{best.provider}/{best.model}",
                    monthly_cost=best.monthly_cost,
                    cost_per_mtok=best.cost_per_mtok,
                    cheaper_than_option=best.monthly_cost < own,
                    note=(
                        f"cheapest of {len(apis)} hosted APIs serving {space.arch.id}: "
                        f"${best.input_per_mtok:g} in / ${best.output_per_mtok:g} out per MTok, "
                        f"{format_usd(best.monthly_cost)}/month"
                    ),
                    source=best.source,
                )
            )
        plan = search(space, catalog, hosted=False, keep=SHOWN)
        shown = plan.deployments[:SHOWN]
        shown += [r for r in plan.pareto if r not in shown]
        ways.append(
            WaysToServe(
                for_option=option.name,
                model=space.arch.id,
                chosen=plan.cheapest,
                why=plan.why,
                deployments=shown,
                hosted_apis=apis[:SHOWN],
                feasible=plan.feasible,
                searched=plan.searched,
            )
        )
        if plan.cheapest is not None:
            found.append(
                Suggestion(
                    for_option=option.name,
                    kind="self_hosted",
                    name=describe(plan.cheapest),
                    monthly_cost=plan.cheapest.monthly_cost,
                    cost_per_mtok=plan.cheapest.cost_per_mtok,
                    cheaper_than_option=plan.cheapest.monthly_cost < own,
                    note=plan.why,
                    source=plan.cheapest.gpu_price_source,
                )
            )
    return found, ways
