"""Model files of the learned inpainter: round trips and every way a file can be wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from shiftaug.inpaint.learned import (
    FillNet,
    InpainterFileError,
    NetConfig,
    load_inpainter,
    save_inpainter,
)


def _net() -> FillNet:
    torch.manual_seed(0)
    net = FillNet(NetConfig(width=4, blocks=2, global_ratio=0.25, coarse="pull_push"))
    torch.nn.init.normal_(net.head.weight, std=0.05)
    return net


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_round_trip(tmp_path: Path, suffix: str) -> None:
    net = _net()
    path = save_inpainter(net, tmp_path / f"m{suffix}", info={"steps": 3, "note": "x"})
    loaded, info = load_inpainter(path)
    assert loaded.config == net.config and info == {"steps": 3, "note": "x"}
    assert not loaded.training and not any(p.requires_grad for p in loaded.parameters())
    for key, value in net.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)
    images, holes = torch.rand(2, 3, 20, 20), torch.zeros(2, 1, 20, 20, dtype=torch.bool)
    holes[..., 4:12, 5:9] = True
    assert torch.equal(loaded(images, holes), net.eval()(images, holes))
    assert not list(tmp_path.glob(".*.tmp"))


def test_safetensors_file_is_plain_safetensors(tmp_path: Path) -> None:
    path = save_inpainter(_net(), tmp_path / "m.safetensors")
    tensors = load_file(path)  # readable by the safetensors library alone
    assert set(tensors) == set(_net().state_dict())


def test_missing_and_misnamed_files(tmp_path: Path) -> None:
    with pytest.raises(InpainterFileError, match=r"was not found \(train one with"):
        load_inpainter(tmp_path / "none.safetensors")
    with pytest.raises(InpainterFileError, match=r"`checkpoint` must end in .safetensors or .pt"):
        load_inpainter(tmp_path / "model.bin")
    with pytest.raises(TypeError, match=r"`checkpoint` must be a path"):
        load_inpainter(None)  # type: ignore[arg-type]
    assert issubclass(InpainterFileError, ValueError)


def test_garbage_and_foreign_files(tmp_path: Path) -> None:
    garbage = tmp_path / "g.safetensors"
    garbage.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all")
    with pytest.raises(InpainterFileError, match=r"must be a readable .safetensors model file"):
        load_inpainter(garbage)
    foreign = tmp_path / "f.safetensors"
    save_file({"w": torch.zeros(2)}, foreign)  # a safetensors file of someone else
    with pytest.raises(InpainterFileError, match=r"must be a model written by shiftaug"):
        load_inpainter(foreign)
    pickled = tmp_path / "p.pt"
    torch.save({"format": "shiftaug.inpainter/1", "payload": Path("x")}, pickled)
    with pytest.raises(
        InpainterFileError, match=r"readable .pt model file.*Unpickling|weights_only"
    ):
        load_inpainter(pickled)  # weights_only=True refuses arbitrary objects
    listed = tmp_path / "l.pt"
    torch.save([1, 2], listed)
    with pytest.raises(InpainterFileError, match=r"it holds \[1, 2\]"):
        load_inpainter(listed)


def test_weights_that_do_not_fit_the_architecture(tmp_path: Path) -> None:
    path = save_inpainter(_net(), tmp_path / "m.safetensors")
    tensors = load_file(path)
    meta = {"format": json.dumps("shiftaug.inpainter/1"), "info": "{}"}
    wrong = tmp_path / "wrong.safetensors"
    save_file(tensors, wrong, metadata={**meta, "net": json.dumps({"width": 8, "blocks": 2})})
    with pytest.raises(InpainterFileError, match=r"weights must fit the architecture"):
        load_inpainter(wrong)
    unknown = tmp_path / "unknown.safetensors"
    save_file(tensors, unknown, metadata={**meta, "net": json.dumps({"width": 4, "depth": 9})})
    with pytest.raises(InpainterFileError, match=r"must describe a known architecture"):
        load_inpainter(unknown)
    bad_fill = tmp_path / "bad.safetensors"
    save_file(
        tensors, bad_fill, metadata={**meta, "net": json.dumps({"width": 4, "coarse": "telea"})}
    )
    with pytest.raises(InpainterFileError, match=r"`coarse` must be one of"):
        load_inpainter(bad_fill)
