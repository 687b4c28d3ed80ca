"""A p4 group-equivariant CNN (Cohen & Welling 2016): translations and 90-degree rotations.

Feature maps carry an extra *orientation* axis of size 4: ``(N, C, 4, H, W)``. Rotating the
input by 90 degrees rotates every map and cyclically shifts the orientation axis, so pooling
over orientations and positions at the end gives logits that are invariant to 90-degree
rotations (exactly, when every pooling keeps the grid aligned: even map sides).

- :class:`LiftingConv2d`: ``(N, C, H, W) -> (N, O, 4, H, W)``, the image correlated with the
  four rotated copies of each filter.
- :class:`GroupConv2d`: ``(N, C, 4, H, W) -> (N, O, 4, H, W)``, filters rotated spatially *and*
  rolled along the orientation axis.
- :class:`GCNN`: lifting convolution, group convolutions, orientation-shared batch norm,
  2x2 max pooling, then the mean over orientations and positions and a linear layer.

Our own compact implementation: e2cnn/escnn were not used (see ``docs/experiments.md``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..._checks import describe

__all__ = ["GCNN", "GroupConv2d", "LiftingConv2d"]


def _rotations(weight: torch.Tensor) -> torch.Tensor:
    """``(4, *weight.shape)``: the filters rotated by 0, 90, 180 and 270 degrees."""
    return torch.stack([torch.rot90(weight, r, dims=(-2, -1)) for r in range(4)])


def _check_kernel(kernel_size: int) -> None:
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or kernel_size % 2 == 0:
        raise ValueError(f"`kernel_size` must be an odd int, but got {describe(kernel_size)}.")


class LiftingConv2d(nn.Module):
    """Correlate an image with 4 rotated copies of each filter (same-size zero padding).

    Shape:
        - input: ``(N, C, H, W)``; output: ``(N, out_channels, 4, H, W)``
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        _check_kernel(kernel_size)
        bound = 1 / math.sqrt(in_channels * kernel_size**2)
        self.weight = nn.Parameter(
            torch.empty(out_channels, in_channels, kernel_size, kernel_size).uniform_(-bound, bound)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        o, c, k, _ = self.weight.shape
        weight = _rotations(self.weight).transpose(0, 1).reshape(o * 4, c, k, k)
        out = F.conv2d(x, weight, padding=k // 2)
        return out.reshape(x.shape[0], o, 4, *out.shape[-2:])


class GroupConv2d(nn.Module):
    """A p4 group convolution (same-size zero padding).

    The filter for output orientation ``r`` is the base filter rotated by ``r * 90`` degrees,
    with its input-orientation axis rolled by ``r``.

    Shape:
        - input: ``(N, in_channels, 4, H, W)``; output: ``(N, out_channels, 4, H, W)``
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3) -> None:
        super().__init__()
        _check_kernel(kernel_size)
        bound = 1 / math.sqrt(in_channels * 4 * kernel_size**2)
        self.weight = nn.Parameter(
            torch.empty(out_channels, in_channels, 4, kernel_size, kernel_size).uniform_(
                -bound, bound
            )
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        o, c, _, k, _ = self.weight.shape
        # filters[r] = rot90(weight rolled by r along the input orientations, r)
        filters = torch.stack(
            [torch.rot90(torch.roll(self.weight, r, dims=2), r, dims=(-2, -1)) for r in range(4)]
        )
        weight = filters.transpose(0, 1).reshape(o * 4, c * 4, k, k)
        n, _, _, h, w = x.shape
        out = F.conv2d(x.reshape(n, c * 4, h, w), weight, padding=k // 2)
        return out.reshape(n, o, 4, h, w)


class _GroupBlock(nn.Module):
    """Group conv (or lifting conv), batch norm shared over orientations, ReLU, 2x2 max pool."""

    def __init__(self, conv: nn.Module, channels: int) -> None:
        super().__init__()
        self.conv, self.norm = conv, nn.BatchNorm3d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.norm(self.conv(x)))
        n, c, g, h, w = y.shape
        return F.max_pool2d(y.reshape(n, c * g, h, w), 2).reshape(n, c, g, h // 2, w // 2)


class GCNN(nn.Module):
    """A p4-equivariant CNN whose logits are invariant to 90-degree rotations.

    Args:
        in_channels: image channels.
        num_classes: number of logits.
        image_size: ``(H, W)``; each stage's map must have even sides for exact invariance.
        widths: channels per stage, per orientation (a stage holds ``4 * width`` maps).
        kernel_size: odd filter size.

    Shape:
        - input: ``(N, C, H, W)``; output: ``(N, num_classes)``

    Example:
        >>> import torch
        >>> from shiftaug.harness.models import GCNN
        >>> net = GCNN(1, 10, (16, 16), widths=(4, 8)).double().eval()
        >>> x = torch.rand(2, 1, 16, 16, dtype=torch.float64)
        >>> bool((net(torch.rot90(x, 1, dims=(-2, -1))) - net(x)).abs().max() < 1e-9)
        True
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        image_size: tuple[int, int],
        *,
        widths: Sequence[int] = (8, 16, 32),
        kernel_size: int = 3,
    ) -> None:
        super().__init__()
        if not widths or any(
            isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths
        ):
            raise ValueError(f"`widths` must be a non-empty list of ints >= 1, but got {widths!r}.")
        side = min(image_size)
        if side % (1 << len(widths)):
            raise ValueError(
                f"`image_size` must be divisible by {1 << len(widths)} for {len(widths)} exact "
                f"poolings, but got {tuple(image_size)}."
            )
        blocks: list[nn.Module] = []
        cin = in_channels
        for i, width in enumerate(widths):
            conv: nn.Module = (
                LiftingConv2d(cin, width, kernel_size)
                if i == 0
                else GroupConv2d(cin, width, kernel_size)
            )
            blocks.append(_GroupBlock(conv, width))
            cin = width
        self.features = nn.Sequential(*blocks)
        self.head = nn.Linear(cin, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, classes)`` logits, pooled over positions and the 4 rotations.

        Args:
            x: ``(N, C, H, W)`` images.
        """
        return self.head(self.features(x).mean((2, 3, 4)))
