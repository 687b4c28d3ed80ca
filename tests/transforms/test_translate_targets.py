"""RandomTranslate (issue 14): the mask padding rule, instance ``masks``, torchvision idioms
(``fill`` alone, ``"edge"``), memory formats and the greyscale-batch decision."""

from __future__ import annotations

import pytest
import torch

from shiftaug import RandomTranslate
from shiftaug.adapters._common import TranslateBinding
from shiftaug.functional import (
    PADDING_MODES,
    masks_to_boxes,
    translate_boxes,
    translate_image,
    translate_mask,
)
from tests.references import slice_shift


def _scene(n: int = 4, size: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    images = torch.rand(n, 3, size, size, generator=g)
    masks = torch.zeros(n, 2, size, size, dtype=torch.bool)
    masks[:, 0, 0:4, 0:4] = True  # an object touching the top-left corner
    masks[:, 1, 5:9, 6:10] = True  # one touching the right edge
    return images, masks


@pytest.mark.parametrize("mode", [*PADDING_MODES, "edge"])
def test_vacated_mask_pixels_are_background_whatever_the_image_padding(mode: str) -> None:
    images, masks = _scene()
    fill = 5.0 if mode == "constant" else None
    t = RandomTranslate(
        shift_px=4, padding_mode=mode, fill=fill, generator=torch.Generator().manual_seed(3)
    )
    out = t(images, masks=masks, mask=masks[:, 0].to(torch.uint8) * 7)
    shift = out.params.shift.long()
    for n in range(len(images)):
        dx, dy = shift[n].tolist()
        if t.padding_mode == "circular":  # content wraps, so do masks
            expected = torch.roll(masks[n], (dy, dx), dims=(-2, -1))
        else:
            expected = slice_shift(masks[n], dx, dy)  # vacated pixels are background
        assert torch.equal(out.masks[n], expected)
        assert torch.equal(out.mask[n], expected[0].to(torch.uint8) * 7)


def test_an_instance_mask_at_the_border_keeps_its_size_and_box() -> None:
    # Issue 14: with reflect padding a 64 px object near the edge gained a mirrored second blob
    # (169 px) and its box no longer matched the returned box.
    masks = torch.zeros(1, 1, 16, 16, dtype=torch.bool)
    masks[0, 0, 0:8, 0:8] = True
    boxes = masks_to_boxes(masks)[0]
    t = RandomTranslate(shift_px=((3, 3), (2, 2)), padding_mode="reflect")
    out = t(torch.rand(1, 3, 16, 16), boxes=boxes, masks=masks)
    assert int(out.masks.sum()) == 64
    assert torch.equal(masks_to_boxes(out.masks)[0], out.boxes)


def test_mask_padding_mode_opts_into_padding_masks_like_the_image() -> None:
    images, masks = _scene()
    labels = masks[:, 0].to(torch.uint8)
    for opt in ("reflect", "edge"):
        t = RandomTranslate(shift_px=3, padding_mode="reflect", mask_padding_mode=opt)
        out = t(images, labels)
        mode = "replicate" if opt == "edge" else opt
        assert torch.equal(out.mask, translate_mask(labels, out.params.shift, padding_mode=mode))
    t = RandomTranslate(
        shift_px=3, padding_mode="circular", mask_padding_mode="constant", mask_fill=9
    )
    out = t(images, labels)
    assert torch.equal(out.mask, translate_mask(labels, out.params.shift, fill=9))
    assert t.mask_padding == ("constant", 9)


def test_the_adapters_pad_masks_by_the_same_rule() -> None:
    _, masks = _scene()
    binding = TranslateBinding.build(shift_px=3, padding_mode="symmetric", mask_fill=2)
    params = binding.draw(4, (10, 10), generator=torch.Generator().manual_seed(1))
    labels = masks[:, 1].to(torch.int64)
    expected = translate_mask(labels, params.shift, fill=2)
    assert torch.equal(binding.mask(labels, params), expected)
    soft = labels.to(torch.float32) * 0.5  # floating-point labels: copied exactly, not resampled
    assert torch.equal(binding.mask(soft, params), translate_mask(soft, params.shift, fill=2))


def test_masks_for_one_image_and_together_with_mask() -> None:
    images, masks = _scene()
    t = RandomTranslate(shift_px=3, generator=torch.Generator().manual_seed(2))
    out = t(images[0], masks[0], masks=masks[0])  # (K, H, W) for one (C, H, W) image
    assert out.masks.shape == (2, 10, 10) and torch.equal(out.masks, out.mask)
    assert torch.equal(out.masks, translate_mask(masks[0], out.params.shift[0]))
    plain = t(images)
    assert isinstance(plain, torch.Tensor)


def test_a_fill_alone_means_constant_padding_and_edge_means_replicate() -> None:
    images = (torch.rand(3, 3, 8, 8) * 255).to(torch.uint8)
    seed = torch.Generator().manual_seed
    t = RandomTranslate(shift_px=3, fill=114, generator=seed(0))
    assert t.padding_mode == "constant" and "fill=114" in repr(t)
    out = t(images)
    expected = translate_image(images, t.last_params.shift, padding_mode="constant", fill=114)
    assert torch.equal(out, expected)
    assert RandomTranslate(shift_px=3).padding_mode == "zeros"
    edge = RandomTranslate(shift_px=3, padding_mode="edge", generator=seed(0))
    assert edge.padding_mode == "replicate"
    out = edge(images)
    assert torch.equal(
        out, translate_image(images, edge.last_params.shift, padding_mode="replicate")
    )
    tensor_fill = RandomTranslate(shift_px=3, fill=torch.tensor([1, 2, 3]))
    assert tensor_fill.fill == [1, 2, 3]  # read once at construction


@pytest.mark.parametrize("mode", PADDING_MODES)
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_channels_last_batches_stay_channels_last(mode: str, interpolation: str) -> None:
    images = torch.rand(4, 3, 9, 9).contiguous(memory_format=torch.channels_last)
    t = RandomTranslate(shift_px=3, padding_mode=mode, interpolation=interpolation)
    out = t(images)
    assert out.is_contiguous(memory_format=torch.channels_last)
    shift = t.last_params.shift
    assert torch.equal(
        out,
        translate_image(images.contiguous(), shift, padding_mode=mode, interpolation=interpolation),
    )


def test_a_3d_tensor_is_one_image_as_in_torchvision() -> None:
    # The decision (docs/conventions.md): (C, H, W) is always one image with one shift, as
    # torchvision v2 and kornia read it; a greyscale batch is passed as (N, 1, H, W).
    torchvision = pytest.importorskip("torchvision.transforms.v2")
    grey = torch.zeros(6, 9, 9)
    grey[:, 4, 4] = 1.0
    t = RandomTranslate(shift_px=3, generator=torch.Generator().manual_seed(5))
    one = t(grey)
    assert t.last_params.shift.shape == (1, 2)
    dx, dy = t.last_params.shift[0].long().tolist()
    assert torch.equal(one, torch.stack([slice_shift(g, dx, dy) for g in grey]))
    stock = torchvision.RandomAffine(degrees=0, translate=(0.3, 0.3))(grey)
    assert (stock.flatten(1).argmax(1) == stock.flatten(1).argmax(1)[0]).all()  # one shift too
    per_sample = t(grey[:, None])
    assert t.last_params.shift.shape == (6, 2) and per_sample.shape == (6, 1, 9, 9)


def test_boxes_follow_the_masks_of_every_padding_mode() -> None:
    images, masks = _scene()
    boxes = masks_to_boxes(masks)[0]
    for mode in ("reflect", "symmetric", "replicate", "zeros"):
        t = RandomTranslate(
            shift_px=5, padding_mode=mode, generator=torch.Generator().manual_seed(7)
        )
        out = t(images, boxes=boxes, masks=masks)
        recomputed, present = masks_to_boxes(out.masks)
        assert torch.equal(present, out.boxes_visible)
        assert torch.equal(recomputed[present], out.boxes[present])
        moved, _ = translate_boxes(boxes, out.params.shift, canvas_size=(10, 10))
        assert torch.equal(moved, out.boxes)


@pytest.mark.cuda
def test_parameters_follow_the_data_and_out_must_be_on_its_device() -> None:
    images, masks = _scene()
    gpu = images.cuda()
    shift = torch.tensor([[1, 0], [0, 1], [2, 2], [-1, -1]])
    assert torch.equal(translate_image(gpu, shift).cpu(), translate_image(images, shift))
    with pytest.raises(ValueError, match="`out` must have shape .* and device cuda"):
        translate_image(gpu, shift, out=torch.empty_like(images))
    t = RandomTranslate(shift_px=3, generator=torch.Generator().manual_seed(0))
    out = t(gpu, masks=masks, boxes=masks_to_boxes(masks)[0])  # targets stay where they are
    assert out.image.is_cuda and not out.masks.is_cuda
    assert torch.equal(out.masks, translate_mask(masks, out.params.shift.cpu()))
    replay = t(gpu, params=out.params.to("cpu"))  # CPU params replay on CUDA images
    assert torch.equal(replay, out.image)


@pytest.mark.cuda
@pytest.mark.parametrize("mode", ["zeros", "constant", "reflect"])
def test_own_draws_never_synchronise_with_the_host(mode: str) -> None:
    images, masks = _scene()
    gpu, gpu_masks = images.cuda(), masks.cuda()
    t = RandomTranslate(shift_px=3, padding_mode=mode)
    t(gpu, masks=gpu_masks)  # warm-up
    torch.cuda.set_sync_debug_mode("error")
    try:
        t(gpu, masks=gpu_masks)
        t(gpu, params=t.last_params)  # replaying an own draw reads no values either
        t.inverse(gpu)
    finally:
        torch.cuda.set_sync_debug_mode("default")


def test_validated_and_drawn_records_are_not_read_again() -> None:
    from dataclasses import replace

    t = RandomTranslate(shift_px=3, generator=torch.Generator().manual_seed(0))
    images = torch.rand(4, 3, 10, 10)
    t(images)
    drawn = t.last_params
    assert drawn._checked and drawn.inverse()._checked and drawn.select(1)._checked
    edited = replace(drawn, shift=torch.full_like(drawn.shift, float("nan")))  # a new record
    assert not edited._checked
    with pytest.raises(ValueError, match="`params.shift` must be finite"):
        t(images, params=edited)
    fresh = replace(drawn, shift=drawn.shift.clone())
    t(images, params=fresh)  # validated once ...
    assert fresh._checked  # ... and remembered
