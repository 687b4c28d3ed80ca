"""The learned inpainter's networks and holes, against independent references."""

from __future__ import annotations

import pytest
import torch

from shiftaug.inpaint import harmonic_fill, pull_push_fill
from shiftaug.inpaint.learned import (
    HOLE_KINDS,
    FillNet,
    NetConfig,
    PatchCritic,
    default_shapes,
    sample_holes,
)


def _holes(n: int, h: int, w: int) -> torch.Tensor:
    holes = torch.zeros(n, 1, h, w, dtype=torch.bool)
    holes[..., h // 4 : h // 2 + 3, w // 3 : w // 3 + 7] = True
    return holes


@pytest.mark.parametrize(
    ("coarse", "reference"),
    [("harmonic", harmonic_fill), ("pull_push", pull_push_fill), ("none", None)],
)
def test_untrained_generator_returns_its_coarse_fill(coarse: str, reference) -> None:
    torch.manual_seed(0)
    images, holes = torch.rand(3, 3, 24, 30), _holes(3, 24, 30)
    out = FillNet(NetConfig(width=4, blocks=1, coarse=coarse))(images, holes)
    expected = images.masked_fill(holes, 0.0) if reference is None else reference(images, holes)
    torch.testing.assert_close(out, torch.where(holes, expected, images), rtol=0, atol=0)


@pytest.mark.parametrize("size", [(8, 8), (13, 29), (33, 17)])
def test_any_size_keeps_known_pixels_and_ignores_hole_content(size: tuple[int, int]) -> None:
    torch.manual_seed(1)
    net = FillNet(NetConfig(width=4, blocks=2))
    torch.nn.init.normal_(net.head.weight, std=0.1)  # a generator that changes the fill
    images, holes = torch.rand(2, 3, *size), _holes(2, *size)
    other = torch.where(holes, torch.rand_like(images), images)  # differs only inside holes
    out, out_other = net(images, holes), net(other, holes)
    known = ~holes.expand_as(images)
    assert torch.equal(out[known], images[known])
    assert torch.equal(out, out_other)
    assert not torch.equal(out[~known], harmonic_fill(images, holes)[~known])


def test_fourier_branch_gives_a_global_receptive_field() -> None:
    torch.manual_seed(2)
    net = FillNet(NetConfig(width=4, blocks=1, coarse="none"))
    torch.nn.init.normal_(net.head.weight, std=0.1)
    holes = torch.zeros(1, 1, 64, 64, dtype=torch.bool)
    holes[..., 40:, 40:] = True
    a = torch.rand(1, 3, 64, 64)
    b = a.clone()
    b[..., :4, :4] = 1 - b[..., :4, :4]  # far from the hole: outside any local receptive field
    changed = (net(a, holes) - net(b, holes)).abs()[..., 56:, 56:]
    assert changed.max() > 1e-6
    net.blocks[
        0
    ].first.spectral.freq.weight.data.zero_()  # no global mixing: the corner is out of reach
    net.blocks[0].second.spectral.freq.weight.data.zero_()
    net.blocks[0].first.spectral.freq.bias.data.zero_()
    net.blocks[0].second.spectral.freq.bias.data.zero_()
    assert torch.equal(net(a, holes)[..., 56:, 56:], net(b, holes)[..., 56:, 56:])


def test_critic_is_spectrally_normalised() -> None:
    torch.manual_seed(3)
    critic = PatchCritic(8).train()
    for _ in range(30):  # power iterations converge
        critic(torch.rand(2, 3, 32, 32))
    for layer in [*critic.layers, critic.head]:
        sigma = torch.linalg.matrix_norm(layer.weight.detach().flatten(1), ord=2)
        assert sigma == pytest.approx(1.0, abs=0.02)
    logits, features = critic(torch.rand(2, 3, 48, 40))
    assert logits.shape == (2, 1, 6, 5) and [f.shape[1] for f in features] == [8, 16, 32]


def test_generator_config_errors() -> None:
    with pytest.raises(ValueError, match=r"`coarse` must be one of"):
        FillNet(NetConfig(coarse="telea"))


def test_holes_are_seeded_nonempty_and_of_the_requested_kind() -> None:
    for kind in HOLE_KINDS:
        a = sample_holes(5, 40, [kind], generator=torch.Generator().manual_seed(7))
        b = sample_holes(5, 40, [kind], generator=torch.Generator().manual_seed(7))
        assert torch.equal(a, b) and a.shape == (5, 1, 40, 40)
        assert a.flatten(1).any(1).all() and not a.flatten(1).all(1).any()
    # boxes: every hole pixel lies in a rectangle of hole pixels of at least 2x2
    boxes = sample_holes(8, 32, ["boxes"], generator=torch.Generator().manual_seed(1))
    blocks = torch.nn.functional.avg_pool2d(boxes.float(), 2, stride=1) == 1
    covered = torch.nn.functional.max_pool2d(
        torch.nn.functional.pad(blocks.float(), (1, 1, 1, 1)), 2, stride=1
    )
    assert torch.equal(covered.bool(), boxes)


def test_object_holes_are_scaled_silhouettes() -> None:
    square = [torch.ones(5, 5, dtype=torch.bool)]
    holes = sample_holes(
        6, 32, ["objects"], shapes=square, generator=torch.Generator().manual_seed(0)
    )
    for hole in holes[:, 0]:
        rows, cols = hole.any(1).nonzero()[:, 0], hole.any(0).nonzero()[:, 0]
        box = hole[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
        assert box.all() and 8 <= box.shape[0] <= 20  # 25-60% of 32, a filled square
    assert len(default_shapes("train")) > 4000 and len(default_shapes("eval")) > 1000


def test_hole_errors() -> None:
    with pytest.raises(ValueError, match=r"`size` must be an int >= 8"):
        sample_holes(2, 4)
    with pytest.raises(ValueError, match=r"`kinds` must be one of"):
        sample_holes(2, 16, ["ellipses"])
    with pytest.raises(ValueError, match=r"`kinds` must be a non-empty list"):
        sample_holes(2, 16, "boxes")
    with pytest.raises(ValueError, match=r"`shapes` must hold at least one silhouette"):
        sample_holes(2, 16, ["objects"], shapes=[])
    with pytest.raises(ValueError, match=r"`count` must be an int >= 0"):
        sample_holes(-1, 16)
