"""The anti-aliased pixel-list paste against ``blend_images(mode="antialias")`` applied to whole
frames, one image and one round at a time, on random layouts: objects cut by the frame border,
overlapping objects and rounds, empty objects, unplaced entries, loose boxes, thin frames."""

from __future__ import annotations

import pytest
import torch

from shiftaug.functional import blend_images, masks_to_boxes, translate_image, translate_mask
from shiftaug.functional._pixel_paste import paste_pixels

DTYPES = [torch.float16, torch.float32, torch.float64, torch.uint8]


def _pictures(g: torch.Generator, shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    if dtype == torch.uint8:
        return torch.randint(0, 256, shape, generator=g, dtype=torch.uint8)
    return torch.rand(shape, generator=g).to(dtype)


def _layout(seed: int, dtype: torch.dtype):  # type: ignore[no-untyped-def]
    """A random scene: frame 1-16 pixels a side, 1-4 rounds, ragged masks in random boxes."""
    g = torch.Generator().manual_seed(seed)

    def draw(low: int, high: int) -> int:
        return int(torch.randint(low, high + 1, (1,), generator=g))

    height, width, channels = draw(1, 16), draw(1, 16), draw(1, 3)
    batch, sources, slots, rounds = draw(1, 3), draw(1, 2), draw(1, 3), draw(1, 4)
    images = _pictures(g, (sources, channels, height, width), dtype)
    canvas = _pictures(g, (batch, channels, height, width), dtype)
    masks = torch.rand(sources, slots, height, width, generator=g) > torch.rand(1, generator=g)
    corner = torch.randint(0, max(height, width), (sources, slots, 2), generator=g)
    extent = torch.randint(1, max(height, width) + 1, (sources, slots, 2), generator=g)
    yy, xx = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    low, high = corner[..., None, None, :], (corner + extent)[..., None, None, :]
    masks &= (yy >= low[..., 0]) & (yy < high[..., 0]) & (xx >= low[..., 1]) & (xx < high[..., 1])
    index = torch.randint(0, sources * slots, (batch, rounds), generator=g)
    reach = max(height, width) // (1 + seed % 3)  # some shifts move objects out of the frame
    shift = torch.randint(-reach, reach + 1, (batch, rounds, 2), generator=g)
    placed = torch.rand(batch, rounds, generator=g) > 0.2
    return canvas, images, masks, index, shift, placed


def _dense(canvas, images, masks, index, shift, placed):  # type: ignore[no-untyped-def]
    """Round by round, whole frames: move the object and its picture, blend with the reference."""
    expected = canvas.clone()
    for n in range(index.shape[0]):
        for j in range(index.shape[1]):
            if placed[n, j]:
                b, k = divmod(int(index[n, j]), masks.shape[1])
                mask = translate_mask(masks[b, k], shift[n, j])[None, None]
                picture = translate_image(images[b], shift[n, j])[None]
                expected[n] = blend_images(expected[n : n + 1], picture, mask, mode="antialias")[0]
    return expected


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("loose", [False, True], ids=["tight-boxes", "loose-boxes"])
def test_antialiased_paste_equals_blend_images_round_by_round(
    dtype: torch.dtype, loose: bool
) -> None:
    halos = 0
    for seed in range(40):
        canvas, images, masks, index, shift, placed = _layout(seed, dtype)
        boxes = masks_to_boxes(masks)[0]
        if loose:  # boxes larger than the masks (never smaller: pixels outside are not pasted)
            height, width = masks.shape[-2:]
            grow = torch.tensor([-2.0, -2.0, 2.0, 2.0])
            limit = torch.tensor([width, height, width, height], dtype=torch.float32)
            boxes = torch.where(boxes[..., 2:3] > 0, (boxes + grow).clamp(min=0), boxes)
            boxes = torch.minimum(boxes, limit)
        out = canvas.clone()
        hard = canvas.clone()
        paste_pixels(out, images, masks, boxes, index, shift, placed, antialias=True)
        paste_pixels(hard, images, masks, boxes, index, shift, placed)
        expected = _dense(canvas, images, masks, index, shift, placed)
        assert torch.equal(out, expected), seed
        halos += int((out != hard).any())
    assert halos > 20  # most layouts have a halo that differs from the hard paste


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_objects_on_the_frame_border_and_overlapping_rounds(dtype: torch.dtype) -> None:
    g = torch.Generator().manual_seed(3)
    images = _pictures(g, (1, 3, 9, 11), dtype)
    masks = torch.zeros(1, 3, 9, 11, dtype=torch.bool)
    masks[0, 0, :4, :3] = True  # in the top left corner
    masks[0, 1, 5:, 8:] = True  # in the bottom right corner
    masks[0, 2] = torch.rand(9, 11, generator=g) > 0.5  # the whole frame, ragged
    index = torch.tensor([[0, 1, 2, 0], [2, 2, 1, 0]])
    shift = torch.tensor(
        [[[0, 0], [-1, 0], [2, -3], [10, 8]], [[0, 0], [1, 1], [-8, -4], [10, 7]]]
    )  # the last one keeps only a corner pixel of the object
    placed = torch.ones(2, 4, dtype=torch.bool)
    canvas = _pictures(g, (2, 3, 9, 11), dtype)
    out = canvas.clone()
    paste_pixels(out, images, masks, masks_to_boxes(masks)[0], index, shift, placed, antialias=True)
    assert torch.equal(out, _dense(canvas, images, masks, index, shift, placed))


@pytest.mark.cuda
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_cuda_matches_cpu(dtype: torch.dtype) -> None:
    for seed in range(8):
        canvas, images, masks, index, shift, placed = _layout(seed, dtype)
        boxes = masks_to_boxes(masks)[0]
        cpu = canvas.clone()
        paste_pixels(cpu, images, masks, boxes, index, shift, placed, antialias=True)
        gpu = canvas.cuda()
        args = (t.cuda() for t in (images, masks, boxes, index, shift, placed))
        paste_pixels(gpu, *args, antialias=True)
        torch.testing.assert_close(gpu.cpu(), cpu)
