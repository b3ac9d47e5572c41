"""GPU and model names as vendors, tools and benchmark suites spell them, read onto catalog rows.

``nvidia-smi`` prints "NVIDIA H100 80GB HBM3" and "NVIDIA A100-SXM4-80GB", MLPerf systems say
"H100-SXM-80GB" and "B200-SXM-180GB", AMD says "Instinct MI300X OAM"; the catalog's ids are
``h100-sxm-80gb``, ``a100-80gb-sxm``, ``b200``, ``mi300x``. A GPU name is read as a set of
tokens (model, form factor, memory size) with the vendor, brand and memory-type words dropped;
a catalog GPU matches when it carries every token typed. Model names are compared with their
separators removed ("llama2-70b" = "llama-2-70b") and without the suffixes benchmark suites add
("llama2-70b-99.9", "llama3.1-405b-interactive").
"""

from __future__ import annotations

import functools
import re

from llm_tco.catalog.schema import GpuSpec

# Words that name the vendor, the brand or the product line, not the part.
GPU_NOISE = frozenset(
    {
        "nvidia", "amd", "intel", "instinct", "tesla", "geforce", "tensor", "core", "cores",
        "gpu", "gpus", "accelerator", "graphics", "card", "generation", "gen", "edition",
        "datacenter", "data", "center",
    }
)  # fmt: skip
# Memory technology: the memory size and the model already decide the part.
MEMORY_TYPES = re.compile(r"^(hbm\d?e?|gddr\d+x?|lpddr\d+x?)$")
# Form-factor words a catalog row may not spell out (an HGX B200 is an SXM board, the MI300X is
# only made as an OAM module): tried as typed first, then without.
OPTIONAL_FORM = frozenset({"sxm", "oam", "hgx", "dgx", "board", "module"})
CARD_FORM = frozenset({"pcie", "nvl"})
# Tokens that tell variants of one GPU apart; names that differ only in these are one GPU in
# several variants, and the lookup picks the one the catalog's offers (then measurements) list
# most, saying so.
VARIANT = re.compile(r"^(sxm|pcie|nvl|oam|hgx|dgx|\d+gb)$")

# Suffixes benchmark suites add to a model name: MLPerf's accuracy targets (-99, -99.9) and
# scenarios (-interactive, -edge, -server, -offline).
BENCHMARK_SUFFIX = re.compile(r"-(99|99\.9|interactive|edge|server|offline|low-latency)$")


@functools.lru_cache(maxsize=4096)
def gpu_tokens(name: str) -> frozenset[str]:
    """The tokens that identify a GPU in ``name``: lower case, split at anything but letters,
    digits and dots, sizes joined to their unit ("80 GB" -> "80gb"), SXM generations as "sxm",
    "PCI-E" as "pcie", vendor, brand and memory-type words dropped."""
    text = name.strip().lower()
    text = re.sub(r"pci[\s_-]?e(xpress)?", "pcie", text)
    text = re.sub(r"(\d+)\s*gb(x\d+)?\b", r"\1gb", text)  # "80 GB", "80GBx8" (MLPerf systems)
    tokens = set()
    for token in re.split(r"[^a-z0-9.]+", text):
        token = token.strip(".")
        if not token or token in GPU_NOISE or MEMORY_TYPES.match(token):
            continue
        if re.fullmatch(r"sxm\d*", token):
            token = "sxm"
        tokens.add(token)
    return frozenset(tokens)


def gpu_name_sets(spec: GpuSpec) -> list[frozenset[str]]:
    """The token sets of the row's id, aliases and name (one per spelling)."""
    return [gpu_tokens(n) for n in (spec.id, *spec.aliases, spec.name)]


def gpu_all_tokens(spec: GpuSpec) -> frozenset[str]:
    """Every token the row answers to: its spellings' tokens plus its memory size in GB."""
    tokens = frozenset().union(*gpu_name_sets(spec))
    return tokens | {f"{round(spec.memory_gb)}gb"}


def gpu_is_card(spec: GpuSpec) -> bool:
    """Whether the row is a PCIe or NVL card (a name that says "SXM" or "OAM" cannot mean it)."""
    return bool(gpu_all_tokens(spec) & CARD_FORM)


def gpu_identity(spec: GpuSpec) -> frozenset[str]:
    """The row id's tokens less the variant tokens: the same for every variant of one GPU
    (``h100`` for the SXM, PCIe and NVL parts; ``rtx 4000 ada`` but ``rtx 4000 sff ada``)."""
    return frozenset(t for t in gpu_tokens(spec.id) if not VARIANT.match(t))


def squash(name: str) -> str:
    """A model name without case, separators or a benchmark suite's suffix:
    "llama2-70b-99.9" and "Llama-2-70B" both become "llama270b"."""
    key = re.sub(r"[\s_/]+", "-", name.strip().lower())
    while True:
        shorter = BENCHMARK_SUFFIX.sub("", key)
        if shorter == key or not shorter:
            break
        key = shorter
    return re.sub(r"[-\s_]+", "", key)
