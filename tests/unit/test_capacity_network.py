"""Replicas wider than one NVLink domain: the collectives that leave it run at the network's
rate. Expected figures are worked out by hand from the catalog's H200 row (NVLink 900 GB/s both
directions = 450 one way; 8 GPUs per HGX board; one 400 Gb/s = 50 GB/s NIC per GPU, DGX H200 in
NVIDIA's DGX BasePOD reference architecture)."""

from __future__ import annotations

import pytest

from llm_tco.catalog.loader import load_catalog
from llm_tco.core.capacity import network_slowdowns, replica
from llm_tco.core.memory import Layout


def test_collectives_that_leave_the_nvlink_domain_run_at_the_network_rate() -> None:
    h200 = load_catalog().gpu("h200-sxm-141gb")
    assert (h200.nvlink_domain_gpus, h200.scale_out_gb_per_s) == (8, 50.0)
    # Inside one board: NVLink only.
    assert network_slowdowns(h200, Layout(gpus=8), expert_comm=True) == (1.0, 1.0, 1.0)
    # TP16 over two boards: the rings leave each board through its 8 NICs, 8 x 50 = 400 GB/s
    # against 450 GB/s of NVLink: 450 / 400 = 1.125 times the all-reduce time.
    allreduce, _, send = network_slowdowns(h200, Layout(gpus=16), expert_comm=False)
    assert allreduce == pytest.approx(1.125)
    assert send == 1.0
    # EP16: of a GPU's traffic to its 15 peers, 8 / 15 goes to the other board at 50 GB/s:
    # 7/15 + 8/15 x 450 / 50 = 0.4667 + 4.8 = 5.2667 times the NVLink time.
    _, all_to_all, _ = network_slowdowns(h200, Layout(gpus=16, expert=16), expert_comm=True)
    assert all_to_all == pytest.approx(7 / 15 + 8 / 15 * 9.0)
    # TP8 x PP2 on 16 GPUs: the stages sit on two boards; the activation hand-off goes NIC to
    # NIC, 450 / 50 = 9 times the NVLink time; the TP8 all-reduces stay on each board.
    allreduce, _, send = network_slowdowns(h200, Layout(gpus=16, pipeline=2), expert_comm=False)
    assert (allreduce, send) == (1.0, pytest.approx(9.0))


def test_a_gpu_without_a_network_figure_keeps_its_link() -> None:
    # GB200: 72 GPUs in one NVLink domain and no per-GPU NIC figure in the catalog.
    catalog = load_catalog()
    gb200 = catalog.gpu("gb200")
    assert network_slowdowns(gb200, Layout(gpus=144), expert_comm=True) == (1.0, 1.0, 1.0)
    # The replica's all-reduce bytes carry the slowdown: TP16 on H200, ring 2 x 15 / 16 of a
    # 7,168 x 2-byte DeepSeek-V3 hidden state = 26,880 bytes a token, x 1.125 = 30,240.
    arch, h200 = catalog.model("deepseek-v3"), catalog.gpu("h200-sxm-141gb")
    r = replica(arch, h200, "fp8", "bf16", Layout(gpus=16))
    assert r.allreduce_bytes_per_token == pytest.approx(2 * 15 / 16 * 7168 * 2 * 1.125)
