"""Metrics that redraw the scene: objects at chosen positions, pairs of objects, stretched objects.

Each takes ``render(index, positions) -> (images, labels)``, which draws test object
``index[i]`` with its top-left corner at ``positions[i]`` (see
:class:`shiftaug.harness.data.Task`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .shift import predict

__all__ = [
    "frame_shift_accuracy",
    "mean_se",
    "pair_accuracy",
    "position_accuracy",
    "position_hits",
    "realistic_shift_accuracy",
    "stretch_accuracy",
]

Render = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def position_hits(
    model: nn.Module,
    render: Render,
    index: torch.Tensor,
    positions: torch.Tensor,
    *,
    batch_size: int = 512,
) -> torch.Tensor:
    """``(O, P)`` bool: is object ``index[o]`` drawn at ``positions[p]`` classified correctly?

    Args:
        model: the classifier, ``(N, C, H, W) -> (N, classes)`` logits (put it in eval mode).
        render: ``render(index, positions) -> (images, labels)``: draws test object ``index[i]``
            at ``positions[i]`` (see :class:`shiftaug.harness.data.Task`).
        index: ``(O,)`` int64 test objects.
        positions: ``(P, 2)`` int64 ``(x, y)`` positions.
        batch_size: images per forward pass.

    Example:
        >>> import torch
        >>> from shiftaug.harness.metrics import position_hits
        >>> def render(index, pos):  # a 1x4 "canvas" with one bright pixel; label = its column
        ...     return torch.eye(4)[pos[:, 0]][:, None, None, :], pos[:, 0]
        >>> position_hits(torch.nn.Flatten(), render, torch.arange(2), torch.tensor([[0, 0], [3, 0]]))
        tensor([[True, True],
                [True, True]])
    """
    per_chunk = max(1, batch_size // max(1, len(index)))
    hits = []
    for start in range(0, len(positions), per_chunk):
        pos = positions[start : start + per_chunk]
        images, labels = render(index.repeat(len(pos)), pos.repeat_interleave(len(index), 0))
        pred = predict(model, images, batch_size=batch_size).argmax(1)
        hits.append((pred == labels).reshape(len(pos), len(index)))
    return torch.cat(hits).T if hits else torch.zeros(len(index), 0, dtype=torch.bool)


def position_accuracy(
    model: nn.Module,
    render: Render,
    index: torch.Tensor,
    positions: torch.Tensor,
    *,
    batch_size: int = 512,
) -> torch.Tensor:
    """``(P,)`` accuracy with every object ``index`` drawn at each of ``positions`` ``(P, 2)``.

    Args:
        model: the classifier, ``(N, C, H, W) -> (N, classes)`` logits (put it in eval mode).
        render: ``render(index, positions) -> (images, labels)``: draws test object ``index[i]``
            at ``positions[i]`` (see :class:`shiftaug.harness.data.Task`).
        index: ``(O,)`` int64 test objects.
        positions: ``(P, 2)`` int64 ``(x, y)`` positions.
        batch_size: images per forward pass.
    """
    return position_hits(model, render, index, positions, batch_size=batch_size).float().mean(0)


def mean_se(values: torch.Tensor) -> tuple[float, float]:
    """Mean and standard error of the mean of a 1-D tensor (SE 0 for one value).

    Args:
        values: ``(n,)`` values (any float or int dtype).

    Example:
        >>> import torch
        >>> from shiftaug.harness.metrics import mean_se
        >>> [round(v, 4) for v in mean_se(torch.tensor([1.0, 0.0, 1.0, 0.0]))]
        [0.5, 0.2887]
    """
    values = values.double()
    n = len(values)
    se = (values.std() / n**0.5).item() if n > 1 else 0.0
    return values.mean().item(), se


def pair_accuracy(
    model: nn.Module,
    render: Render,
    first: torch.Tensor,
    second: torch.Tensor,
    distances: Sequence[int],
    *,
    centre: int,
    batch_size: int = 512,
) -> tuple[list[float], list[float]]:
    """Two objects side by side at centre distance ``d`` px: does top-1 name one of them?

    Object ``first[i]`` is drawn at ``x = centre - d // 2`` and ``second[i]`` at ``x + d`` (both
    at ``y = centre``); the scene is the pixelwise maximum of the two single-object drawings
    (on a black canvas: both digits, the brighter stroke where they overlap). Returns, per
    distance, the fraction of scenes whose top-1 class is either object's label, and the same
    for ``first`` drawn alone at the same place (the baseline).

    Args:
        model: the classifier, ``(N, C, H, W) -> (N, classes)`` logits (put it in eval mode).
        render: ``render(index, positions) -> (images, labels)``: draws test object ``index[i]``
            at ``positions[i]`` (see :class:`shiftaug.harness.data.Task`).
        first: ``(N,)`` int64 test objects drawn on the left.
        second: ``(N,)`` int64 test objects drawn on the right.
        distances: centre distances in pixels (0: on top of each other).
        centre: the pair's middle, in pixels (the same on both axes).
        batch_size: images per forward pass.
    """
    both, alone = [], []
    for d in distances:
        x0 = centre - d // 2
        pos_a = torch.tensor([x0, centre]).expand(len(first), 2)
        pos_b = torch.tensor([x0 + d, centre]).expand(len(second), 2)
        img_a, lab_a = render(first, pos_a)
        img_b, lab_b = render(second, pos_b)
        pred = predict(model, torch.maximum(img_a, img_b), batch_size=batch_size).argmax(1)
        both.append(((pred == lab_a) | (pred == lab_b)).float().mean().item())
        pred_a = predict(model, img_a, batch_size=batch_size).argmax(1)
        alone.append((pred_a == lab_a).float().mean().item())
    return both, alone


def stretch_accuracy(
    model: nn.Module,
    render: Render,
    index: torch.Tensor,
    factors: Sequence[float],
    *,
    centre: int,
    batch_size: int = 512,
) -> list[float]:
    """Accuracy on objects stretched by ``f`` horizontally and ``1 / f`` vertically.

    The objects are drawn at ``(centre, centre)`` and the whole view is resampled (bilinear,
    about the view's centre): the area stays, the shape changes. ``f = 1`` is the plain view.

    Args:
        model: the classifier, ``(N, C, H, W) -> (N, classes)`` logits (put it in eval mode).
        render: ``render(index, positions) -> (images, labels)``: draws test object ``index[i]``
            at ``positions[i]`` (see :class:`shiftaug.harness.data.Task`).
        index: ``(N,)`` int64 test objects.
        factors: stretch factors ``f`` (1: the plain view).
        centre: where the objects are drawn, in pixels (the same on both axes).
        batch_size: images per forward pass.
    """
    images, labels = render(index, torch.tensor([centre, centre]).expand(len(index), 2))
    out = []
    for f in factors:
        theta = torch.tensor([[1 / f, 0.0, 0.0], [0.0, f, 0.0]], dtype=images.dtype)
        grid = F.affine_grid(
            theta.expand(len(images), 2, 3), list(images.shape), align_corners=False
        )
        warped = F.grid_sample(images, grid, mode="bilinear", align_corners=False)
        pred = predict(model, warped, batch_size=batch_size).argmax(1)
        out.append((pred == labels).float().mean().item())
    return out


def realistic_shift_accuracy(
    model: nn.Module,
    render: Render,
    index: torch.Tensor,
    positions: torch.Tensor,
    shifts: torch.Tensor,
    *,
    free: int,
    batch_size: int = 512,
) -> float:
    """Accuracy when each object moves by ``shifts`` over its own, unmoved background.

    Object ``index[i]``, originally at ``positions[i]``, is rendered afresh at
    ``positions[i] + shifts[i]`` (clamped to ``[0, free]``): a *realistic* shift, the object
    moves in the scene and the camera stays, unlike a frame shift (:func:`frame_shift_accuracy`),
    where the background moves with it and new context enters at the border.

    Args:
        model: the classifier (logits).
        render: ``render(index, positions) -> (images, labels)`` draws the scene.
        index: ``(N,)`` test objects.
        positions: ``(N, 2)`` their original top-left corners (x, y).
        shifts: ``(N, 2)`` moves in pixels (x, y).
        free: largest position on each axis (moved positions are clamped to ``[0, free]``).
        batch_size: images per forward pass.

    Example:
        >>> import torch
        >>> from shiftaug.harness.metrics import realistic_shift_accuracy
        >>> def render(index, pos):  # a bright pixel at pos on a 4x4 canvas; class = its column
        ...     images = torch.zeros(len(index), 1, 4, 4)
        ...     images[torch.arange(len(index)), 0, pos[:, 1], pos[:, 0]] = 1.0
        ...     return images, pos[:, 0]
        >>> class Column(torch.nn.Module):  # logits: how bright each column is
        ...     def forward(self, x):
        ...         return x[:, 0].sum(1)
        >>> realistic_shift_accuracy(Column(), render, torch.arange(2), torch.tensor([[0, 0], [1, 2]]),
        ...                          torch.tensor([[1, 1], [9, 0]]), free=3)
        1.0
    """
    moved = (positions + shifts).clamp(0, free)
    images, labels = render(index, moved)
    logits = predict(model, images, batch_size=batch_size)
    return (logits.argmax(1) == labels).float().mean().item()


def frame_shift_accuracy(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    shifts: torch.Tensor,
    *,
    margin: int,
    batch_size: int = 512,
) -> float:
    """Accuracy when the camera moves by ``shifts``: crops of the scene with real context.

    ``images`` carry ``margin`` pixels of context (``mode="crop"`` of :func:`shift_images`), so
    the whole view, object and background, moves by ``shifts[i]``.

    Args:
        model: the classifier (logits).
        images: ``(N, C, H + 2 margin, W + 2 margin)`` scenes with their context.
        labels: ``(N,)`` true classes.
        shifts: ``(N, 2)`` camera moves in pixels (x, y), at most ``margin``.
        margin: context pixels on each side.
        batch_size: images per forward pass.
    """
    logits = predict(model, images, shifts, mode="crop", margin=margin, batch_size=batch_size)
    return (logits.argmax(1) == labels).float().mean().item()
