"""The InstaBoost-style ``"context"`` policy against a brute-force loop over every move."""

from __future__ import annotations

import math

import pytest
import torch

from shiftaug import CopyPaste, RandomRelocate
from shiftaug.functional import dilate_mask
from shiftaug.params import sample_positions
from shiftaug.params._context import ContextImages, context_weights
from shiftaug.params._positions import Frame, pad_to_canvas

from .helpers import MeanFill


def _brute_force(
    masks: torch.Tensor, context: ContextImages, frame: Frame, moves: list[tuple[int, int]]
) -> torch.Tensor:
    """``(M, len(moves))`` weights, one move at a time, straight from the definition."""
    source, target = context.source.double(), context.target.double()
    known_t = context.target_known
    weights = torch.zeros(masks.shape[0], len(moves), dtype=torch.float64)
    for m in range(masks.shape[0]):
        band = dilate_mask(masks[m][None, None], context.width)[0, 0] & ~masks[m]
        band &= context.source_known[m]
        values = target[m][:, known_t[m]]
        mean = values.mean(1, keepdim=True)
        var = float(((values - mean) ** 2).mean(1).mean())
        ys, xs = torch.nonzero(band, as_tuple=True)
        for i, (dx, dy) in enumerate(moves):
            ty, tx = ys + dy - frame.top, xs + dx - frame.left  # frame coordinates
            ok = (ty >= 0) & (ty < frame.height) & (tx >= 0) & (tx < frame.width)
            ok[ok.clone()] = known_t[m, ty[ok], tx[ok]]
            if len(ys) == 0:
                weights[m, i] = 1.0
                continue
            if int(ok.sum()) < 0.5 * len(ys):
                continue
            diff = target[m][:, ty[ok], tx[ok]] - source[m][:, ys[ok], xs[ok]]
            msd = float((diff**2).sum()) / (int(ok.sum()) * source.shape[1])
            weights[m, i] = math.exp(-msd / (2 * context.sigma**2 * var))
    return weights


def _scene(seed: int, canvas_pad: int = 0) -> tuple[torch.Tensor, ContextImages, Frame]:
    g = torch.Generator().manual_seed(seed)
    height, width = 12, 14
    stripes = (torch.arange(height) % 4 < 2).float().view(1, 1, height, 1).expand(3, 2, -1, width)
    target = stripes + 0.2 * torch.rand(3, 2, height, width, generator=g)
    masks = torch.zeros(3, height, width, dtype=torch.bool)
    masks[0, 3:6, 4:7] = True
    masks[1, 0:3, 0:4] = True  # touches the frame
    masks[2, 5:9, 8:13] = True
    known = torch.rand(3, height, width, generator=g) > 0.1
    frame = Frame(canvas_pad, canvas_pad, height, width)
    canvas = (height + 2 * canvas_pad, width + 2 * canvas_pad)
    source = pad_to_canvas(torch.roll(target, 1, -1), frame, canvas)
    context = ContextImages(
        source, pad_to_canvas(known, frame, canvas), target, known & ~masks, 2, 0.7
    )
    return pad_to_canvas(masks, frame, canvas), context, frame


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("canvas_pad", [0, 3])
def test_context_weights_equal_a_brute_force_loop(seed: int, canvas_pad: int) -> None:
    masks, context, frame = _scene(seed, canvas_pad)
    dx, dy = torch.arange(-5, 6), torch.arange(-4, 5)
    allowed = torch.ones(masks.shape[0], len(dy), len(dx), dtype=torch.bool)
    allowed[:, 0, 0] = False  # a move another constraint forbids gets no weight
    got = context_weights(masks, context, frame, dx, dy, allowed).double()
    moves = [(int(x), int(y)) for y in dy for x in dx]
    expected = _brute_force(masks, context, frame, moves).view_as(got) * allowed
    expected = expected / expected.flatten(1).amax(1).view(-1, 1, 1)  # weights are relative
    torch.testing.assert_close(got, expected, atol=2e-4, rtol=1e-3)


def test_context_draws_follow_the_weights() -> None:
    masks, context, _ = _scene(0)
    count = 3000
    one = masks[:1].expand(count, -1, -1)
    images = context.target[:1].expand(count, -1, -1, -1)
    shift, found = sample_positions(
        one, policy="context", shift_px=3, images=images, context_width=2, context_sigma=0.7,
        generator=torch.Generator().manual_seed(0),
    )  # fmt: skip
    assert bool(found.all())
    moves = [(x, y) for y in range(-3, 4) for x in range(-3, 4)]
    standalone = ContextImages(
        images[:1], ~masks[:1], images[:1], ~masks[:1], 2, 0.7
    )  # as sample_positions builds it: the object's own image, its pixels unknown
    weights = _brute_force(masks[:1], standalone, Frame(0, 0, 12, 14), moves)[0]
    fits = torch.tensor(
        [4 + x >= 0 and 7 + x <= 14 and 3 + y >= 0 and 6 + y <= 12 for x, y in moves]
    )
    probability = weights * fits / (weights * fits).sum()
    drawn = torch.tensor([moves.index((int(x), int(y))) for x, y in shift.tolist()])
    frequency = torch.bincount(drawn, minlength=len(moves)).double() / count
    assert float((frequency - probability).abs().sum()) / 2 < 0.05  # total variation


def test_context_prefers_moves_that_match_the_surroundings() -> None:
    # Horizontal stripes: moving along a stripe keeps the surroundings, moving by half a
    # period swaps them; the policy should mostly keep the object on its stripe phase.
    height, width = 16, 32
    image = (torch.arange(height) % 8 < 4).float().view(1, 1, height, 1).expand(1, 3, -1, width)
    masks = torch.zeros(1, 1, height, width, dtype=torch.bool)
    masks[0, 0, 5:7, 4:8] = True
    images = image.expand(400, -1, -1, -1).contiguous()
    t = RandomRelocate(
        MeanFill(), policy="context", shift_px=((0, 16), (-4, 4)), context_sigma=0.3,
        generator=torch.Generator().manual_seed(0),
    )  # fmt: skip
    out = t(images, masks.expand(400, -1, -1, -1))
    dy = out.params.shift[:, 0, 1]
    assert float(((dy.remainder(8)) == 0).float().mean()) > 0.8  # same phase: dy in {-8, 0, 8}


@pytest.mark.parametrize("scale_range", [None, (1.5, 2.0)])
def test_copy_paste_context_finds_places_and_replays(scale_range) -> None:  # type: ignore[no-untyped-def]
    g = torch.Generator().manual_seed(1)
    images = torch.rand(4, 3, 24, 24, generator=g)
    masks = torch.zeros(4, 2, 24, 24, dtype=torch.bool)
    masks[:, 0, 2:7, 3:9] = True
    masks[:, 1, 14:20, 10:16] = True
    t = CopyPaste(num_objects="all", policy="context", scale_range=scale_range, generator=g)
    out = t(images, masks)
    assert bool(out.params.placed.any())
    again = t(images, masks, params=out.params)
    assert torch.equal(again.image, out.image) and torch.equal(again.masks, out.masks)
