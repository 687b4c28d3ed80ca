"""The ``"learned"`` backend: the inpaint protocol, sizes, dtypes, devices, errors."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from shiftaug.inpaint import available_inpainters, get_inpainter
from shiftaug.inpaint.learned import (
    DEFAULT_MODEL,
    LearnedInpainter,
    load_inpainter,
    load_inpainter_config,
)


def _case(n: int = 3, h: int = 24, w: int = 28, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(n, 3, h, w, generator=g)
    holes = torch.zeros(n, 1, h, w, dtype=torch.bool)
    holes[..., 5:15, 6:14] = True
    holes[1:, :, 2:4, 20:26] = True
    return images, holes


def test_registered_and_the_shipped_model_loads() -> None:
    assert "learned" in available_inpainters()
    assert isinstance(get_inpainter("learned"), LearnedInpainter)
    assert DEFAULT_MODEL.is_file() and DEFAULT_MODEL.stat().st_size < 5 * 2**20
    net, info = load_inpainter()
    assert not net.training
    # The shipped file is the quick preset as it stands (not a smoke or stale model): same
    # crops, steps and architecture; retrain it with the preset when the network changes.
    quick = load_inpainter_config("quick")
    assert (info["preset"], info["size"], info["steps"]) == ("quick", quick.size, quick.steps)
    assert net.config == quick.net
    assert info["held_out"]["psnr"] > 0


@pytest.mark.parametrize(
    "dtype", [torch.uint8, torch.float16, torch.bfloat16, torch.float32, torch.float64]
)
def test_protocol_for_every_dtype(model_file: Path, dtype: torch.dtype) -> None:
    fill = get_inpainter("learned", checkpoint=model_file)
    images, holes = _case()
    images = (images * 255).round().to(dtype) if dtype == torch.uint8 else images.to(dtype)
    before = images.clone()
    out = fill(images, holes)
    known = ~holes.expand_as(images)
    assert out.dtype == dtype and out.shape == images.shape
    assert torch.equal(out[known], images[known]) and torch.equal(images, before)
    # the fill is the network's output on [0, 1] images (uint8: scaled and rounded)
    unit = images.float() / 255 if dtype == torch.uint8 else images.float()
    expected = fill.net(unit, holes)
    if dtype == torch.uint8:
        expected = (expected.clamp(0, 1) * 255).round()
    torch.testing.assert_close(
        out[~known].float(), expected[~known].to(dtype).float(), rtol=0, atol=0
    )


def test_hole_content_is_ignored_and_batches_equal_single_images(model_file: Path) -> None:
    fill = get_inpainter("learned", checkpoint=model_file)
    images, holes = _case(seed=1)
    noisy = torch.where(holes, torch.rand_like(images), images)
    out = fill(images, holes)
    assert torch.equal(out, fill(noisy, holes))
    single = torch.cat([fill(images[i : i + 1], holes[i : i + 1]) for i in range(len(images))])
    torch.testing.assert_close(out, single, rtol=0, atol=1e-5)
    chunked = get_inpainter("learned", checkpoint=model_file, batch_size=2)(images, holes)
    torch.testing.assert_close(out, chunked, rtol=0, atol=1e-5)


@pytest.mark.parametrize("size", [(9, 9), (31, 45), (70, 20)])
def test_any_size_and_grey_images(model_file: Path, size: tuple[int, int]) -> None:
    fill = get_inpainter("learned", checkpoint=model_file)
    grey = torch.rand(2, 1, *size)
    holes = torch.zeros(2, 1, *size, dtype=torch.bool)
    holes[..., size[0] // 3 : size[0] // 2 + 1, 2:6] = True
    out = fill(grey, holes)
    rgb = fill.net(grey.expand(-1, 3, -1, -1), holes).clamp(0, 1).mean(1, keepdim=True)
    assert out.shape == grey.shape
    torch.testing.assert_close(out, torch.where(holes, rgb, grey))
    assert fill(grey[:0], holes[:0]).shape == (0, 1, *size)


def test_max_size_resizes_the_context(model_file: Path) -> None:
    images, holes = _case(2, 64, 48, seed=2)
    fill = get_inpainter("learned", checkpoint=model_file, max_size=32)
    out = fill(images, holes)
    # reference: the network at 32 x 24 on the resized context, the result upsampled
    small = F.interpolate(
        images, size=(32, 24), mode="bilinear", align_corners=False, antialias=True
    )
    small_holes = F.interpolate(holes.float(), size=(32, 24), mode="area") > 0
    up = F.interpolate(
        fill.net(small, small_holes), size=(64, 48), mode="bilinear", align_corners=False
    )
    torch.testing.assert_close(out, torch.where(holes, up.clamp(0, 1), images))
    same = get_inpainter("learned", checkpoint=model_file, max_size=64)(images, holes)
    assert torch.equal(same, get_inpainter("learned", checkpoint=model_file)(images, holes))


def test_pickles(model_file: Path) -> None:
    fill = get_inpainter("learned", checkpoint=model_file)
    images, holes = _case()
    assert torch.equal(pickle.loads(pickle.dumps(fill))(images, holes), fill(images, holes))
    assert "net.safetensors" in repr(fill)


@pytest.mark.cuda
def test_runs_on_the_images_device(model_file: Path) -> None:
    fill = get_inpainter("learned", checkpoint=model_file)
    images, holes = _case()
    out = fill(images.cuda(), holes.cuda())
    assert out.device.type == "cuda"
    torch.testing.assert_close(out.cpu(), fill(images, holes), rtol=0, atol=1e-4)


def test_errors(model_file: Path, tmp_path: Path) -> None:
    images, holes = _case()
    with pytest.raises(ValueError, match=r"`images` must have 1 or 3 channels"):
        get_inpainter("learned", checkpoint=model_file)(images[:, :2], holes)
    with pytest.raises(ValueError, match=r"`max_size` must be an int >= 8"):
        LearnedInpainter(model_file, max_size=4)
    with pytest.raises(ValueError, match=r"`batch_size` must be an int >= 1"):
        LearnedInpainter(model_file, batch_size=0)
    with pytest.raises(TypeError, match=r"`checkpoint` must be a path"):
        LearnedInpainter(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"was not found .*nothing is downloaded"):
        get_inpainter("learned", checkpoint=tmp_path / "missing.safetensors")
    with pytest.raises(TypeError, match=r"`holes` must be a bool tensor"):
        get_inpainter("learned", checkpoint=model_file)(images, holes.float())
