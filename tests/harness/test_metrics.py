"""Invariance metrics against direct computations with torch.roll and plain slicing."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from shiftaug.harness.metrics import (
    accuracy_vs_shift,
    consistency,
    flip_rate,
    invariance_index,
    position_accuracy,
    predict,
    shift_images,
    worst_of_k,
)


class Corner(nn.Module):
    """A position-sensitive classifier: logits are the pixels of the top-left 2x5 block."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, 0, :2, :5].flatten(1)


def _images(n: int = 24, size: int = 12, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 1, size, size, generator=torch.Generator().manual_seed(seed))


def _draws(n: int, s: int, seed: int, high: int | None = None) -> list[torch.Tensor]:
    """The shifts the metrics draw, re-drawn from the same seed."""
    g = torch.Generator().manual_seed(seed)
    high = s if high is None else high
    return [torch.randint(-s, high + 1, (n, 2), generator=g) for _ in range(2)]


def test_shift_images_modes_against_roll_and_slicing() -> None:
    x = _images(3, 10)
    shift = torch.tensor([[1, 2], [-3, 0], [0, -1]])
    rolled = shift_images(x, shift, "circular")
    for i, (dx, dy) in enumerate(shift.tolist()):
        assert torch.equal(rolled[i], torch.roll(x[i], (dy, dx), dims=(-2, -1)))
    crops = shift_images(x, shift, "crop", margin=3)
    for i, (dx, dy) in enumerate(shift.tolist()):
        assert torch.equal(crops[i], x[i, :, 3 - dy : 7 - dy, 3 - dx : 7 - dx])
    zeros = shift_images(x, shift, "zeros", margin=1)
    assert torch.equal(zeros[0, :, 2:, 1:], x[0, :, 1:7, 1:8])
    with pytest.raises(ValueError, match=r"`shift` must stay within the margin of 2 pixels"):
        shift_images(x, shift, "crop", margin=2)


def test_predict_batches_and_uint8() -> None:
    x = (_images(7) * 255).to(torch.uint8)
    out = predict(Corner(), x, batch_size=3)
    torch.testing.assert_close(out, x[:, 0, :2, :5].flatten(1).float() / 255)


def test_consistency_equals_a_direct_computation() -> None:
    x, model, s = _images(), Corner(), 3
    a, b = _draws(len(x), s, seed=5)
    expected = (
        torch.stack(
            [
                model(torch.roll(x[i : i + 1], (int(a[i, 1]), int(a[i, 0])), dims=(-2, -1))).argmax(
                    1
                )
                == model(
                    torch.roll(x[i : i + 1], (int(b[i, 1]), int(b[i, 0])), dims=(-2, -1))
                ).argmax(1)
                for i in range(len(x))
            ]
        )
        .float()
        .mean()
    )
    got = consistency(model, x, max_shift=s, generator=torch.Generator().manual_seed(5))
    assert got == pytest.approx(float(expected)) and got < 1


def test_invariant_model_is_fully_consistent() -> None:
    gap = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1, 3))
    x = _images()
    assert consistency(gap, x, max_shift=5, mode="circular") == 1.0
    assert flip_rate(gap, x, max_shift=3, mode="circular")[0] == 0.0


def test_flip_rate_and_mac_equal_a_direct_computation() -> None:
    x, model, s = _images(), Corner(), 2
    (d,) = _draws(len(x), s, seed=3, high=s - 1)[:1]
    p0 = model(shift_images(x, d, "crop", margin=3)).softmax(1)
    p1 = model(shift_images(x, d + 1, "crop", margin=3)).softmax(1)
    k = p0.argmax(1)
    flips, mac = flip_rate(
        model, x, max_shift=s, margin=3, generator=torch.Generator().manual_seed(3)
    )
    assert flips == pytest.approx(float((k != p1.argmax(1)).float().mean()))
    assert mac == pytest.approx(float((p0[range(len(x)), k] - p1[range(len(x)), k]).abs().mean()))


def test_accuracy_vs_shift_and_worst_of_k() -> None:
    # one bright pixel per image; the label is its column: a pure position read-out
    x = torch.zeros(5, 1, 1, 5)
    x[range(5), 0, 0, range(5)] = 1
    labels = torch.arange(5)
    model = nn.Flatten()
    acc = accuracy_vs_shift(model, x, labels, [[0, 0], [1, 0], [5, 0]], mode="circular")
    assert acc.tolist() == [1.0, 0.0, 1.0]
    assert worst_of_k(model, x, labels, k=3, max_shift=0, mode="circular") == 1.0
    # with shifts, an image survives only if all k of its draws are multiples of 5 in x
    g = torch.Generator().manual_seed(0)
    draws = [torch.randint(-2, 3, (5, 2), generator=g) for _ in range(4)]
    expected = torch.stack([(d[:, 0] == 0) for d in draws]).all(0).float().mean()
    got = worst_of_k(
        model,
        x,
        labels,
        k=4,
        max_shift=2,
        mode="circular",
        generator=torch.Generator().manual_seed(0),
    )
    assert got == pytest.approx(float(expected))


def test_position_accuracy_equals_rendering_each_position() -> None:
    def render(index: torch.Tensor, pos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        images = torch.zeros(len(index), 1, 1, 6)
        images[range(len(index)), 0, 0, pos[:, 0]] = 1
        return images, index % 6  # object i "is" class i % 6

    positions = torch.tensor([[0, 0], [1, 0], [3, 0], [5, 0]])
    index = torch.tensor([0, 1, 3, 7])
    acc = position_accuracy(nn.Flatten(), render, index, positions, batch_size=5)
    # at position p the read-out says p: right for the objects whose class is p
    expected = [float(((index % 6) == p).float().mean()) for p in positions[:, 0].tolist()]
    assert acc.tolist() == pytest.approx(expected)


def test_invariance_index_against_cosine_similarities() -> None:
    def render(index: torch.Tensor, pos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        images = torch.zeros(len(index), 1, 4, 4)
        images[range(len(index)), 0, pos[:, 1], pos[:, 0]] = 1.0 + index.float()
        return images, index

    pool = nn.AdaptiveAvgPool2d(1)
    model = nn.Sequential(nn.Identity(), pool)
    layers = [("0", model[0]), ("1", model[1])]
    result = invariance_index(
        model, layers, render, torch.tensor([0, 1, 2]), torch.tensor([[0, 0], [3, 1]])
    )
    # raw pixels: same object at other place -> orthogonal; other object, same place -> parallel
    assert result["0"] == pytest.approx(0.0 - 1.0)
    # pooled: one positive number for everything -> cosine 1 both ways
    assert result["1"] == pytest.approx(0.0)
    with pytest.raises(ValueError, match=r"`index` and `positions` must hold >= 2 entries"):
        invariance_index(model, layers, render, torch.tensor([0]), torch.tensor([[0, 0], [1, 1]]))
