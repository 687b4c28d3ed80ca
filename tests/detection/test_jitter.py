"""``LargeScaleJitter`` against torchvision's resize and torch's nearest interpolation."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from shiftaug.detection import CopyPasteCollate, CopyPasteParams, JitterParams, LargeScaleJitter
from tests.detection.helpers import make_sample, xyxy
from tests.detection.reference import mask_box

pytest.importorskip("torchvision")
from torchvision import tv_tensors
from torchvision.transforms.v2 import functional as TF


def expected_jitter(image, masks, size, scale, offset, fill):
    """Resize (torchvision, antialiased bilinear; masks by torch's nearest), crop, pad."""
    height, width = image.shape[-2:]
    ratio = scale * min(size[0] / height, size[1] / width)
    new_h, new_w = max(1, int(height * ratio)), max(1, int(width * ratio))
    top = int(offset[1] * (new_h - size[0] + 1)) if new_h > size[0] else 0
    left = int(offset[0] * (new_w - size[1] + 1)) if new_w > size[1] else 0
    resized = TF.resize(image.as_subclass(torch.Tensor), [new_h, new_w], antialias=True)
    big = F.interpolate(masks[None].float(), size=(new_h, new_w), mode="nearest")[0]
    crop = (slice(top, top + size[0]), slice(left, left + size[1]))
    out_image = torch.full((image.shape[0], *size), float(fill), dtype=resized.dtype)
    out_masks = torch.zeros(masks.shape[0], *size)
    piece = resized[:, crop[0], crop[1]]
    out_image[:, : piece.shape[1], : piece.shape[2]] = piece
    piece = big[:, crop[0], crop[1]]
    out_masks[:, : piece.shape[1], : piece.shape[2]] = piece
    return out_image, out_masks != 0, (new_w / width, new_h / height, left, top)


@pytest.mark.parametrize("scale", [0.1, 0.37, 1.0, 1.63, 2.0])
@pytest.mark.parametrize("source", [(30, 34), (61, 23), (64, 64)])
def test_one_sample_matches_torchvision(scale, source) -> None:
    image, target = make_sample(3, source, 5, tv=True, seed=int(scale * 10))
    keypoints = torch.rand(5, 3, 2) * torch.tensor([source[1], source[0]])
    target["keypoints"] = tv_tensors.KeyPoints(keypoints, canvas_size=source)
    jitter = LargeScaleJitter((48, 40), fill=0.25)
    offset = (0.3, 0.8)
    params = JitterParams(torch.tensor([scale], dtype=torch.float64), torch.tensor([offset]))
    out_image, out = jitter(image, target, params=params)
    exp_image, exp_masks, (fx, fy, left, top) = expected_jitter(
        image, target["masks"], (48, 40), scale, offset, 0.25
    )
    assert type(out_image) is tv_tensors.Image and out_image.shape == (3, 48, 40)
    torch.testing.assert_close(out_image.as_subclass(torch.Tensor), exp_image)
    kept = [k for k in range(5) if exp_masks[k].any()]
    assert torch.equal(out["masks"].as_subclass(torch.Tensor) != 0, exp_masks[kept])
    assert out["masks"].dtype == torch.uint8 and tuple(out["boxes"].canvas_size) == (48, 40)
    boxes = [mask_box(exp_masks[k].numpy()) for k in kept]
    torch.testing.assert_close(
        xyxy(out["boxes"]), torch.tensor(boxes).view(-1, 4), atol=1e-4, rtol=0
    )
    assert out["labels"].tolist() == target["labels"][kept].tolist()
    assert out["area"].tolist() == [float(exp_masks[k].sum()) for k in kept]
    moved = keypoints[kept] * torch.tensor([fx, fy]) - torch.tensor([left, top])
    torch.testing.assert_close(out["keypoints"].as_subclass(torch.Tensor), moved)
    assert tuple(out["keypoints"].canvas_size) == (48, 40)


def test_uint8_images_round_the_float_resize() -> None:
    image, target = make_sample(0, (50, 70), 3, image_dtype=torch.uint8)
    params = JitterParams(torch.tensor([0.55], dtype=torch.float64), torch.tensor([[0.5, 0.5]]))
    out_image, _ = LargeScaleJitter(40, fill=105)(image, target, params=params)
    exp_image, _, _ = expected_jitter(
        image.float(), target["masks"], (40, 40), 0.55, (0.5, 0.5), 105
    )
    assert out_image.dtype == torch.uint8
    assert torch.equal(out_image, exp_image.round().clamp(0, 255).to(torch.uint8))


def test_sample_without_objects_and_draws() -> None:
    image, target = make_sample(0, (20, 30), None)
    jitter = LargeScaleJitter(
        16, scale_range=(0.5, 1.5), generator=torch.Generator().manual_seed(0)
    )
    out_image, out = jitter(image, target)
    assert out_image.shape == (3, 16, 16) and out == {"image_id": 0}
    params = jitter.make_params(500)
    assert float(params.scale.min()) >= 0.5 and float(params.scale.max()) < 1.5
    assert float(params.offset.min()) >= 0 and float(params.offset.max()) < 1
    assert abs(float(params.scale.mean()) - 1.0) < 0.05


def test_collate_with_jitter_equals_jitter_then_collate() -> None:
    samples = [
        make_sample(i, size, c)
        for i, (size, c) in enumerate([((40, 50), 4), ((64, 30), 3), ((50, 50), None)])
    ]
    jitter = LargeScaleJitter(48)
    collate = CopyPasteCollate("all", jitter=jitter, generator=torch.Generator().manual_seed(2))
    images, targets = collate(samples)
    params = collate.last_params
    assert params is not None and params.jitter is not None
    jittered = [
        jitter(
            *s, params=JitterParams(params.jitter.scale[i : i + 1], params.jitter.offset[i : i + 1])
        )
        for i, s in enumerate(samples)
    ]
    plain = CopyPasteCollate("all")(jittered, params=CopyPasteParams(params.partner, params.chosen))
    for a, b, ta, tb in zip(images, plain[0], targets, plain[1], strict=True):
        assert a.shape == (3, 48, 48) and torch.equal(a, b)
        for key in ("masks", "boxes", "labels", "area", "iscrowd"):
            assert torch.equal(ta[key], tb[key]), key
    again = CopyPasteCollate("all", jitter=jitter)(samples, params=params)
    assert all(torch.equal(a, b) for a, b in zip(images, again[0], strict=True))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"size": 0}, ValueError, "`size` must be an int or"),
        ({"size": (10, 10, 3)}, ValueError, "`size` must be an int or"),
        ({"scale_range": (2.0, 1.0)}, ValueError, "`scale_range` must be"),
        ({"scale_range": (0.0, 1.0)}, ValueError, "`scale_range` must be"),
        ({"fill": "grey"}, TypeError, "`fill` must be a number"),
        ({"generator": 1}, TypeError, "`generator` must be a torch.Generator"),
    ],
)
def test_constructor_errors(kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        LargeScaleJitter(**kwargs)


def test_call_errors() -> None:
    image, target = make_sample(0, (20, 30), 2)
    jitter = LargeScaleJitter(16)
    with pytest.raises(ValueError, match="`params` must hold one draw"):
        jitter(image, target, params=jitter.make_params(2))
    with pytest.raises(TypeError, match=r"`samples\[0\]\[0\]` must be a \(C, H, W\) image"):
        jitter(np.zeros((3, 4, 4)), target)
    collate = CopyPasteCollate(jitter=jitter)
    params = collate.make_params([2, 2])
    bad = CopyPasteParams(params.partner, params.chosen, jitter.make_params(3))
    with pytest.raises(ValueError, match=r"`params.jitter` must hold 2 draws"):
        collate([(image, target), (image, target)], params=bad)


def test_in_a_v2_compose_after_to_image() -> None:
    from torchvision.transforms import v2

    image, target = make_sample(0, (40, 60), 3, tv=True, image_dtype=torch.uint8)
    pil = TF.to_pil_image(image)
    pipeline = v2.Compose([v2.ToImage(), LargeScaleJitter(32), v2.SanitizeBoundingBoxes()])
    out_image, out = pipeline(pil, target)
    assert type(out_image) is tv_tensors.Image and out_image.shape == (3, 32, 32)
    assert len(out["boxes"]) == len(out["masks"]) == len(out["labels"])
    assert repr(LargeScaleJitter(32)) == (
        "LargeScaleJitter(size=(32, 32), scale_range=(0.1, 2.0), fill=0.0)"
    )
