"""The learned backend inside RandomRelocate, the torchvision adapter and a saved
albumentations pipeline (YAML round trip)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch

from shiftaug import RandomRelocate
from shiftaug.functional import translate_image
from shiftaug.inpaint import get_inpainter

A = pytest.importorskip("albumentations")
v2 = pytest.importorskip("torchvision.transforms.v2")
tv_tensors = pytest.importorskip("torchvision.tv_tensors")

from shiftaug.adapters import placement_albumentations as pa  # noqa: E402
from shiftaug.adapters import placement_torchvision as pt  # noqa: E402


def _scene(batch: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    images = torch.rand(batch, 3, 32, 36, generator=g)
    masks = torch.zeros(batch, 1, 32, 36, dtype=torch.bool)
    masks[:, 0, 10:18, 6:13] = True
    masks[-1, 0, 12:14, 13:15] = True  # an irregular object
    return images, masks


def test_relocate_with_the_learned_fill(model_file: Path) -> None:
    images, masks = _scene()
    # The exact mode (hard paste, hole = the mask), so the reference below is pixel-exact.
    t = RandomRelocate("learned", inpainter_options={"checkpoint": model_file}, shift_px=12,
                       blend="hard", hole_margin=0,
                       generator=torch.Generator().manual_seed(3))  # fmt: skip
    out = t(images, masks)
    assert bool(out.params.placed.all())
    fill = get_inpainter("learned", checkpoint=model_file)
    background = fill(images, masks)  # the hole filled by the same model
    moved_mask = translate_image(masks.float(), out.params.shift[:, 0]).bool()
    moved_pixels = translate_image(images, out.params.shift[:, 0])
    expected = torch.where(moved_mask, moved_pixels, background)
    assert torch.equal(out.image, expected)
    assert torch.equal(out.masks, moved_mask)


def test_torchvision_adapter(model_file: Path) -> None:
    images, masks = _scene(1)
    t = pt.RandomRelocate("learned", inpainter_options={"checkpoint": str(model_file)}, shift_px=10)
    image, target = v2.Compose([t])(
        tv_tensors.Image(images[0]), {"masks": tv_tensors.Mask(masks[0])}
    )
    core = RandomRelocate("learned", inpainter_options={"checkpoint": model_file})(
        images[0], masks[0], params=t.last_params
    )
    assert torch.equal(image, core.image) and torch.equal(target["masks"], core.masks)


def test_albumentations_yaml_round_trip(model_file: Path) -> None:
    images, masks = _scene(1)
    image = (images[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    mask = masks[0].numpy().astype(np.uint8)
    options = {"checkpoint": str(model_file)}
    pipeline = A.Compose([pa.RandomRelocate("learned", inpainter_options=options, shift_px=10, p=1.0)],
                         seed=5)  # fmt: skip
    buffer = io.StringIO()
    A.save(pipeline, buffer, data_format="yaml")
    text = buffer.getvalue()
    assert "shiftaug.RandomRelocate" in text and "learned" in text and str(model_file) in text
    loaded = A.load(io.StringIO(text), data_format="yaml")
    loaded.set_random_seed(5)
    pipeline.set_random_seed(5)
    first, second = pipeline(image=image, masks=mask), loaded(image=image, masks=mask)
    np.testing.assert_array_equal(first["image"], second["image"])
    np.testing.assert_array_equal(np.asarray(first["masks"]), np.asarray(second["masks"]))
    assert not np.array_equal(first["image"], image)  # something moved and was filled
