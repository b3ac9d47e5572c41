"""The catalog: API prices, GPU specs, GPU rental offers, model architectures and ops defaults.

Every row carries a ``source`` and an ``as_of`` date. Load it with :func:`load_catalog`.
"""

from llm_tco.catalog.loader import Catalog, load_catalog

__all__ = ["Catalog", "load_catalog"]
