"""GPU and model names as vendors, tools and benchmark suites print them resolve to catalog rows.

The spellings below are the ones the tools print: `nvidia-smi --query-gpu=name` gives
"NVIDIA H100 80GB HBM3" for the SXM part (the PCIe card prints "NVIDIA H100 PCIe", and has
HBM2e), "NVIDIA A100-SXM4-80GB", "NVIDIA A100-PCIE-40GB", "NVIDIA A100 80GB PCIe"; MLPerf
Inference system descriptions name accelerators "H100-SXM-80GB", "H200-SXM-141GB",
"B200-SXM-180GB" and systems "...x8"; AMD calls its module "AMD Instinct MI300X OAM". MLPerf's
benchmark names are "llama2-70b-99", "llama2-70b-99.9", "llama3.1-405b", "llama3.1-8b",
"mixtral-8x7b", "deepseek-r1" with "-interactive" / "-edge" scenario variants.
"""

from __future__ import annotations

import pytest

from llm_tco.catalog.loader import load_catalog
from llm_tco.catalog.names import gpu_tokens, squash
from llm_tco.errors import CatalogLookupError


def test_gpu_tokens_drop_vendor_brand_and_memory_type() -> None:
    assert gpu_tokens("NVIDIA H100 80GB HBM3") == {"h100", "80gb"}
    assert gpu_tokens("NVIDIA A100-SXM4-80GB") == {"a100", "sxm", "80gb"}
    assert gpu_tokens("H100-SXM-80GBx8") == {"h100", "sxm", "80gb"}
    assert gpu_tokens("Tesla V100-SXM2-32GB") == {"v100", "sxm", "32gb"}
    assert gpu_tokens("AMD Instinct MI300X OAM") == {"mi300x", "oam"}
    assert gpu_tokens("A100 80 GB PCI-E") == {"a100", "80gb", "pcie"}


@pytest.mark.parametrize(
    ("typed", "resolved"),
    [
        ("H100 SXM5 80GB", "h100-sxm-80gb"),
        ("H100-SXM5", "h100-sxm-80gb"),
        ("NVIDIA H100 80GB HBM3", "h100-sxm-80gb"),
        ("H100-SXM-80GBx8", "h100-sxm-80gb"),
        ("NVIDIA H100 PCIe", "h100-pcie-80gb"),
        ("NVIDIA H100 NVL", "h100-nvl"),
        ("A100-SXM4-80GB", "a100-80gb-sxm"),
        ("NVIDIA A100-SXM4-40GB", "a100-40gb-sxm"),
        ("NVIDIA A100-PCIE-40GB", "a100-40gb-pcie"),
        ("NVIDIA A100 80GB PCIe", "a100-80gb-pcie"),
        ("NVIDIA H200-SXM-141GB", "h200-sxm-141gb"),
        ("B200-SXM-180GB", "b200"),
        ("MI300X OAM", "mi300x"),
        ("AMD Instinct MI300X", "mi300x"),
        ("Instinct MI300X", "mi300x"),
        ("NVIDIA L40S", "l40s"),
        ("L40S 48GB", "l40s"),
        ("NVIDIA GeForce RTX 4090", "rtx-4090"),
        ("NVIDIA RTX 4000 Ada Generation", "rtx-4000-ada"),
        ("RTX PRO 6000 Blackwell Server Edition", "rtx-pro-6000-blackwell-server"),
        ("NVIDIA RTX 6000 Ada Generation", "rtx-6000-ada"),
        ("NVIDIA RTX A6000", "rtx-a6000"),
        ("NVIDIA A40", "a40"),
        ("NVIDIA L40", "l40"),
        ("Tesla V100-SXM2-32GB", "v100-sxm2-32gb"),
        ("Tesla V100-SXM2-16GB", "v100-sxm2-16gb"),
        ("NVIDIA GeForce RTX 3090", "rtx-3090"),
        ("AMD Instinct MI250X", "mi250x"),
        ("H800 SXM5 80GB", "h800-sxm-80gb"),
        ("NVIDIA L20", "l20"),
        ("NVIDIA A30", "a30"),
        ("NVIDIA A800-SXM4-80GB", "a800-80gb-sxm"),
        ("NVIDIA A800 80GB PCIe", "a800-80gb-pcie"),
        ("NVIDIA GH200 144G HBM3e", "gh200-144gb"),  # nvidia-smi on the HBM3e GH200
        ("NVIDIA GH200 480GB", "gh200-96gb"),  # nvidia-smi on the HBM3 GH200
    ],
)
def test_vendor_spellings_resolve_with_the_reading_listed(typed: str, resolved: str) -> None:
    catalog = load_catalog()
    assert catalog.gpu(typed).id == resolved
    note = catalog.gpu_assumption(typed)
    assert note is not None and resolved in note and typed in note


@pytest.mark.parametrize(
    ("typed", "resolved", "others"),
    [
        # Model and memory given, form factor not: the SXM part the clouds rent (and the one
        # nvidia-smi calls "H100 80GB HBM3"), the other variants named.
        ("NVIDIA H100 Tensor Core GPU", "h100-sxm-80gb", "h100-pcie-80gb"),
        ("NVIDIA H200", "h200-sxm-141gb", "h200-nvl"),
        ("A100 PCIe", "a100-80gb-pcie", "a100-40gb-pcie"),
    ],
)
def test_a_variant_left_open_is_read_as_the_rented_one(
    typed: str, resolved: str, others: str
) -> None:
    catalog = load_catalog()
    assert catalog.gpu(typed).id == resolved
    note = catalog.gpu_assumption(typed)
    assert note is not None and "other variants" in note and others in note


@pytest.mark.parametrize(
    "typed",
    [
        "RTX 4000",  # the RTX 4000 Ada and the RTX 4000 SFF Ada are different cards
        "rtx-4000",
        "RTX",
        "RTX 6000",  # the Ada card, the Turing Quadro RTX 6000 or the RTX PRO 6000 Blackwell
        "V100",  # the 16 GB or the 32 GB board
        "A800",  # the SXM board or the PCIe card, neither rented nor measured more
        # A real part (PCI id 2339, in NVIDIA's vGPU tables) the catalog lacks: its memory
        # bandwidth could not be sourced. The memory in the name rules the 80 GB SXM out.
        "H100 SXM5 94GB",
    ],
)
def test_names_that_do_not_pick_one_gpu_still_suggest(typed: str) -> None:
    with pytest.raises(CatalogLookupError):
        load_catalog().gpu(typed)


def test_gh200_memory_names_the_part() -> None:
    # "GH200" alone keeps meaning the 96 GB HBM3 part the offers rent; the memory in the name
    # picks the 144 GB HBM3e one.
    catalog = load_catalog()
    assert catalog.gpu("GH200 144GB").id == "gh200-144gb"
    assert catalog.gpu("gh200-144g").id == "gh200-144gb"
    assert catalog.gpu("GH200 96GB").id == "gh200-96gb"


def test_family_names_keep_their_reading() -> None:
    catalog = load_catalog()
    assert [catalog.gpu(n).id for n in ("h100", "a100", "h200", "gh200")] == [
        "h100-sxm-80gb",
        "a100-80gb-sxm",
        "h200-sxm-141gb",
        "gh200-96gb",
    ]


def test_squash_drops_separators_and_benchmark_suffixes() -> None:
    assert squash("llama2-70b-99.9") == squash("Llama-2-70B") == "llama270b"
    assert squash("llama3.1-405b-interactive") == squash("llama-3.1-405b")
    assert squash("llama3.1-8b-edge") == "llama3.18b"


@pytest.mark.parametrize(
    ("typed", "resolved"),
    [
        ("llama2-70b", "llama-2-70b"),
        ("llama2-70b-99", "llama-2-70b"),
        ("llama2-70b-99.9", "llama-2-70b"),
        ("llama2-70b-interactive-99", "llama-2-70b"),
        ("llama3.1-405b-interactive", "llama-3.1-405b"),
        ("llama3.1-8b-edge", "llama-3.1-8b"),
        ("mixtral-8x7b", "mixtral-8x7b"),
        ("deepseek-r1-interactive", "deepseek-r1"),
        ("meta-llama/Llama-2-70b-chat-hf", "llama-2-70b"),
        ("RedHatAI/Meta-Llama-3.1-70B-Instruct-quantized.w4a16", "llama-3.1-70b"),
        ("nvidia/Llama-3.3-70B-Instruct-FP4", "llama-3.3-70b"),
        ("Qwen3-32B-AWQ", "qwen3-32b"),
        ("mistral-7b", "mistral-7b-v0.3"),
        ("mistralai/Mistral-7B-Instruct-v0.1", "mistral-7b-v0.1"),
        ("Mistral-7B-Instruct-v0.2", "mistral-7b-v0.2"),
        ("deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "deepseek-r1-distill-llama-70b"),
        ("DeepSeek-R1-Distill-Qwen-32B", "deepseek-r1-distill-qwen-32b"),
        ("Qwen/Qwen2.5-Coder-32B-Instruct", "qwen2.5-32b"),
        ("google/gemma-3-12b-it", "gemma-3-12b"),
        ("gemma-2-9b-it", "gemma-2-9b"),
        ("nvidia/Llama-3.1-Nemotron-70B-Instruct-HF", "llama-3.1-70b"),
        ("Qwen/Qwen3-4B", "qwen3-4b"),
        ("Qwen/QwQ-32B", "qwq-32b"),
        ("mistralai/Mistral-Nemo-Instruct-2407", "mistral-nemo-12b"),
        ("meta-llama/Llama-2-13b-chat-hf", "llama-2-13b"),
        # MLPerf Inference names GPT-J "gptj-99" and "gptj-99.9".
        ("gptj", "gpt-j-6b"),
        ("gptj-99", "gpt-j-6b"),
        ("gptj-99.9", "gpt-j-6b"),
        ("EleutherAI/gpt-j-6b", "gpt-j-6b"),
        # Checkpoints whose config is a catalog row's (see each row's notes).
        ("Qwen/Qwen3-Coder-30B-A3B-Instruct", "qwen3-30b-a3b"),
        ("Qwen/Qwen2-7B-Instruct", "qwen2.5-7b"),
        ("Qwen/Qwen2-72B-Instruct", "qwen2.5-72b"),
        ("nvidia/Llama-3.1-Nemotron-Nano-8B-v1", "llama-3.1-8b"),
        ("ibm-granite/granite-3.2-8b-instruct", "granite-3.1-8b"),
        # Mistral Small 3 (2501) and 3.1 (2503) are separate rows: 3.1 has a 128K context.
        ("mistralai/Mistral-Small-24B-Instruct-2501", "mistral-small-3-24b"),
        ("mistralai/Mistral-Small-3.1-24B-Instruct-2503", "mistral-small-3.1-24b"),
        ("google/gemma-3-1b-it", "gemma-3-1b"),
        ("microsoft/Phi-3-medium-4k-instruct", "phi-3-medium-4k"),
        ("deepseek-ai/DeepSeek-V2-Lite-Chat", "deepseek-v2-lite"),
        ("qwen3-coder", "qwen3-coder-480b-a35b"),  # the bare family name keeps its reading
    ],
)
def test_benchmark_and_checkpoint_model_names_resolve(typed: str, resolved: str) -> None:
    assert load_catalog().model(typed).id == resolved


def test_unknown_model_still_suggests() -> None:
    with pytest.raises(CatalogLookupError, match="did you mean"):
        load_catalog().model("llama-9-70b")


def test_gpus_without_bf16_use_their_fp16_rate_and_say_so() -> None:
    # V100 and T4 have FP16 tensor cores and no BF16: the Volta whitepaper's 125 TFLOP/s and
    # the T4 datasheet's 65 TFLOP/s are the 16-bit rate, with the reason listed.
    from llm_tco.core.capacity import compute_tflops

    catalog = load_catalog()
    rate, note = compute_tflops(catalog.gpu("v100-sxm2-32gb"), "bf16")
    assert rate == 125 and note is not None and "FP16" in note
    rate, note = compute_tflops(catalog.gpu("t4"), "fp16")
    assert rate == 65 and note is not None
    # The A40 datasheet's BF16 figure (149.7 dense) is used as is.
    assert compute_tflops(catalog.gpu("a40"), "bf16") == (149.7, None)
