"""Fixtures shared by the learned-inpainter tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from shiftaug.inpaint.learned import FillNet, NetConfig, save_inpainter


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generator whose refinement is not zero, so the network really acts."""
    torch.manual_seed(0)
    net = FillNet(NetConfig(width=4, blocks=1))
    torch.nn.init.normal_(net.head.weight, std=0.05)
    return save_inpainter(net, tmp_path_factory.mktemp("m") / "net.safetensors")
