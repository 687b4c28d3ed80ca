"""What an experiment trains and evaluates on: :class:`Task`, made by
:func:`shiftaug.harness.data.make_task` (canvases, the probe) or
:func:`shiftaug.harness.natural.natural_task` (CIFAR-10, ImageFolder).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from .._checks import describe

__all__ = ["Render", "Task"]

Render = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class Task:
    """Everything one experiment trains and evaluates on (CPU tensors).

    Attributes:
        train_images: ``(N, C, H, W)`` float32 in ``[0, 1]`` or uint8.
        train_labels: ``(N,)`` int64.
        train_masks: ``(N, 1, H, W)`` bool object masks (canvas datasets) or ``None``.
        test_images: ``(M, C, H + 2 margin, W + 2 margin)``: test scenes with context.
        test_labels: ``(M,)`` int64.
        margin: context pixels around the view in ``test_images``.
        num_classes: number of classes.
        train_box: ``(x0, y0, x1, y1)`` inclusive range of training positions (canvas only).
        free: the largest object position on each axis, ``canvas - object_size`` (canvas only).
        render: ``render(index, positions) -> (images, labels)`` draws test object ``index[i]``
            at ``positions[i]`` on its own background, in the view's size (canvas only).
    """

    name: str
    train_images: torch.Tensor
    train_labels: torch.Tensor
    train_masks: torch.Tensor | None
    test_images: torch.Tensor
    test_labels: torch.Tensor
    margin: int
    num_classes: int
    train_box: tuple[int, int, int, int] | None = None
    free: int = 0
    render: Render | None = None

    @property
    def image_size(self) -> tuple[int, int]:
        return (self.train_images.shape[-2], self.train_images.shape[-1])

    @property
    def channels(self) -> int:
        return self.train_images.shape[-3]

    def view(self, images: torch.Tensor) -> torch.Tensor:
        """The centre window of test scenes: what the model sees without a shift."""
        m = self.margin
        return images[..., m : images.shape[-2] - m, m : images.shape[-1] - m]

    def grid(self, step: int = 1) -> torch.Tensor:
        """``(P, 2)`` ``(x, y)`` positions every ``step`` pixels, aligned on the canvas centre."""
        if isinstance(step, bool) or not isinstance(step, int) or step < 1:
            raise ValueError(f"`step` must be an int >= 1, but got {describe(step)}.")
        axis = torch.arange((self.free // 2) % step, self.free + 1, step)
        ys, xs = torch.meshgrid(axis, axis, indexing="ij")
        return torch.stack([xs.flatten(), ys.flatten()], -1)

    def seen(self, positions: torch.Tensor) -> torch.Tensor:
        """``(P,)`` bool: which ``(x, y)`` positions lie in the training distribution."""
        if self.train_box is None:
            raise ValueError("`seen` needs a canvas dataset, but this task has no positions.")
        x0, y0, x1, y1 = self.train_box
        x, y = positions[:, 0], positions[:, 1]
        return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
