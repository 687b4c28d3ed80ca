"""The metrics added for the claims, against direct loop / slicing / rot90 references."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from shiftaug.harness.metrics import (
    accuracy_vs_angle,
    equivariance_error,
    max_logit_change,
    mean_se,
    pair_accuracy,
    position_hits,
    rotate_images,
    rotation_consistency,
    stretch_accuracy,
    worst_over_shifts,
)


class Corner(nn.Module):
    """Position-sensitive: logits are the pixels of the top-left 2x5 block."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, 0, :2, :5].flatten(1)


def _images(n: int = 6, size: int = 8, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 1, size, size, generator=torch.Generator().manual_seed(seed))


def test_max_logit_change_equals_a_loop_over_every_roll() -> None:
    x = _images(3, 6)
    net = Corner()
    ref = max(
        (net(torch.roll(x, (dy, dx), dims=(-2, -1))) - net(x)).abs().max().item()
        for dy in range(6)
        for dx in range(6)
    )
    change, spread = max_logit_change(net, x, batch_size=7)
    assert change == pytest.approx(ref) and ref > 0.1
    assert spread == pytest.approx(net(x).std().item())


def test_max_logit_change_is_zero_for_a_pooled_model() -> None:
    gap = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
    change, spread = max_logit_change(gap.double(), _images().double())
    assert change < 1e-12 < spread


def test_worst_over_shifts_equals_a_loop() -> None:
    scenes = _images(8, 12)  # 8x8 views with 2 px of context
    labels = torch.randint(10, (8,), generator=torch.Generator().manual_seed(1))
    net = Corner()
    ok = torch.ones(8, dtype=torch.bool)
    for dy in range(-1, 2):
        for dx in range(-1, 2):
            view = scenes[..., 2 - dy : 10 - dy, 2 - dx : 10 - dx]  # content moved by (dx, dy)
            ok &= net(view).argmax(1) == labels
    got = worst_over_shifts(net, scenes, labels, max_shift=1, mode="crop", margin=2)
    assert got == ok.float().mean().item()


def test_rotate_images_matches_rot90_and_kornia() -> None:
    x = _images(2, 8)
    assert torch.equal(rotate_images(x, 90), torch.rot90(x, 1, dims=(-2, -1)))
    assert torch.equal(rotate_images(x, -90), torch.rot90(x, 3, dims=(-2, -1)))
    from kornia.geometry.transform import rotate

    torch.testing.assert_close(rotate_images(x, 30), rotate(x, torch.full((2,), 30.0)))


def test_rotation_consistency_and_accuracy_against_direct_counts() -> None:
    x = _images(10, 8)
    net = Corner()
    angles = [0, 90, 180]
    preds = [net(torch.rot90(x, k, dims=(-2, -1))).argmax(1) for k in range(3)]
    pairs = [(i, j) for i in range(3) for j in range(3) if i != j]
    ref = torch.stack([(preds[i] == preds[j]).float() for i, j in pairs]).mean().item()
    assert rotation_consistency(net, x, angles) == pytest.approx(ref)
    labels = preds[1]
    acc = accuracy_vs_angle(net, x, labels, angles)
    assert acc[1] == 1.0 and acc == [(p == labels).float().mean().item() for p in preds]


def test_equivariance_error_is_zero_for_a_convolution_and_matches_a_reference() -> None:
    conv = nn.Conv2d(1, 2, 3, padding=1, bias=False)
    scenes = torch.zeros(3, 1, 16, 16)
    scenes[:, :, 6:10, 5:11] = torch.rand(3, 1, 4, 6)  # the object stays inside every crop
    assert equivariance_error(conv, [("c", conv)], scenes, step=2, margin=2)["c"] < 1e-6
    # A position-dependent layer: multiply by a fixed ramp. Reference from explicit slicing.
    ramp = torch.linspace(0, 1, 12)

    class Ramp(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * ramp

    net = Ramp()
    err = equivariance_error(net, [("r", net)], scenes, step=2, margin=2)["r"]
    num = den = 0.0
    base = scenes[..., 2:14, 2:14] * ramp
    for dy in (-2, 0, 2):
        for dx in (-2, 0, 2):
            if dx == dy == 0:
                continue
            moved = scenes[..., 2 - dy : 14 - dy, 2 - dx : 14 - dx] * ramp
            target = torch.zeros_like(base)
            ys, xs = slice(max(dy, 0), 12 + min(dy, 0)), slice(max(dx, 0), 12 + min(dx, 0))
            yo, xo = slice(max(-dy, 0), 12 + min(-dy, 0)), slice(max(-dx, 0), 12 + min(-dx, 0))
            target[..., ys, xs] = base[..., yo, xo]
            valid = torch.zeros_like(base, dtype=torch.bool)
            valid[..., ys, xs] = True
            num += ((moved - target) * valid).square().sum().item()
            den += (target * valid).square().sum().item()
    assert err == pytest.approx((num / den) ** 0.5, rel=1e-5) and err > 0.05


def _render(index: torch.Tensor, pos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A 10x10 canvas with a 2x2 block at pos; label = index % 3."""
    img = torch.zeros(len(index), 1, 10, 10)
    for i, (x, y) in enumerate(pos.tolist()):
        img[i, 0, y : y + 2, x : x + 2] = 1.0
    return img, index % 3


def test_position_hits_equals_rendering_each_pair() -> None:
    net = Corner()
    index, positions = torch.arange(4), torch.tensor([[0, 0], [3, 0], [5, 5]])
    hits = position_hits(net, _render, index, positions, batch_size=5)
    for o in range(4):
        for p in range(3):
            img, lab = _render(index[o : o + 1], positions[p : p + 1])
            assert bool(hits[o, p]) == bool(net(img).argmax(1).item() == lab.item())


def test_pair_accuracy_and_stretch_against_direct_computation() -> None:
    net = Corner()
    first, second = torch.arange(3), torch.arange(3, 6)
    both, alone = pair_accuracy(net, _render, first, second, [0, 4], centre=3)
    a, la = _render(first, torch.tensor([[3, 3]] * 3))
    b, lb = _render(second, torch.tensor([[3, 3]] * 3))
    pred = net(torch.maximum(a, b)).argmax(1)
    assert both[0] == ((pred == la) | (pred == lb)).float().mean().item()
    assert alone[0] == (net(a).argmax(1) == la).float().mean().item()
    acc = stretch_accuracy(net, _render, first, [1.0, 2.0], centre=4)
    img, lab = _render(first, torch.tensor([[4, 4]] * 3))
    assert acc[0] == (net(img).argmax(1) == lab).float().mean().item()
    theta = torch.tensor([[0.5, 0, 0], [0, 2.0, 0]]).expand(3, 2, 3)
    warped = F.grid_sample(
        img, F.affine_grid(theta, [3, 1, 10, 10], align_corners=False), align_corners=False
    )
    assert acc[1] == (net(warped).argmax(1) == lab).float().mean().item()


def test_mean_se() -> None:
    mean, se = mean_se(torch.tensor([0.0, 1.0, 1.0, 1.0]))
    assert mean == 0.75 and se == pytest.approx(0.5 / 2)
    assert mean_se(torch.tensor([0.3])) == (pytest.approx(0.3), 0.0)
