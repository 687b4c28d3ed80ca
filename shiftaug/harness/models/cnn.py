"""Small VGG-style and ResNet-style CNNs with switchable kernel size, padding, pooling and head.

:class:`CNN` builds every stage through one hook, :meth:`CNN.make_conv`, so that
:class:`~shiftaug.harness.models.lcn.LCN` (the same network without weight sharing) only
overrides that hook.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..._checks import check_choice, describe
from ..layers import make_conv, make_pool

__all__ = ["CNN", "HEADS", "NORMS", "full_padding_margin"]

HEADS = ("gap", "flatten")
NORMS = ("batch", "none")


def full_padding_margin(size: int, kernel_size: int, depth: int, stages: int) -> int:
    """Zeros to add around a ``size`` px input so that full convolutions pool exactly.

    A full convolution grows a map by ``k - 1``; a 2x pooling of an odd map drops its last row
    and column (Kayhan & van Gemert avoid that). This is the smallest margin ``p`` such that
    every map entering a pooling layer has an even side.

    Example:
        >>> from shiftaug.harness.models.cnn import full_padding_margin
        >>> full_padding_margin(32, 3, 1, 3)  # 34 -> 36 | 18 -> 20 | 10 -> 12 | 6
        1
    """
    for margin in range(4 << stages):
        side, ok = size + 2 * margin, True
        for _ in range(stages):
            side += depth * (kernel_size - 1)
            if side % 2:
                ok = False
                break
            side //= 2
        if ok:
            return margin
    raise ValueError(
        f"`image_size` {size} cannot be padded to pool exactly with kernel_size={kernel_size}."
    )


class _Residual(nn.Module):
    """A ResNet basic block (two convolutions) with a 1x1 projection when widths differ."""

    def __init__(self, first: nn.Module, second: nn.Module, cin: int, cout: int) -> None:
        super().__init__()
        self.body = nn.Sequential(first, second)
        self.skip = (
            nn.Identity()
            if cin == cout
            else nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.skip(x))


class CNN(nn.Module):
    """A CNN with switchable kernel size, padding, normalisation, pooling and head.

    Each stage is ``depth`` conv-norm-ReLU layers (or ``depth`` residual basic blocks) followed
    by a 2x downsampling; the head is global average pooling + linear (``"gap"``) or flatten +
    linear (``"flatten"``, whose weights are tied to absolute positions).

    Args:
        in_channels: image channels ``C``.
        num_classes: number of logits.
        image_size: ``(H, W)`` of the inputs (fixes the size of a ``"flatten"`` head).
        widths: channels per stage.
        depth: layers (or residual blocks) per stage.
        kernel_size: convolution kernel size.
        padding: ``"zeros"``, ``"circular"`` or ``"full"`` (see :func:`~..layers.make_conv`).
            With ``"full"`` the input is first padded with the zeros
            :func:`full_padding_margin` asks for, so that no pooling drops a row.
        pool: ``"max"``, ``"avg"``, ``"blur"``, ``"blur5"``, ``"blur_avg"`` or ``"aps"`` (see
            :func:`~..layers.make_pool`).
        head: ``"gap"`` or ``"flatten"``.
        norm: ``"batch"`` (batch norm after every convolution) or ``"none"``.
        bias: give the convolutions a bias.
        residual: use residual basic blocks.

    Shape:
        - input: ``(N, C, H, W)``; output: ``(N, num_classes)``

    Example:
        >>> import torch
        >>> from shiftaug.harness.models import CNN
        >>> net = CNN(1, 10, (16, 16), pool="aps", padding="circular").eval()
        >>> x = torch.rand(4, 1, 16, 16)
        >>> rolled = torch.roll(x, (3, -5), dims=(-2, -1))
        >>> torch.equal(net(x).argmax(1), net(rolled).argmax(1))  # exactly shift invariant
        True
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        image_size: tuple[int, int],
        *,
        widths: Sequence[int] = (16, 32, 64),
        depth: int = 1,
        kernel_size: int = 3,
        padding: str = "zeros",
        pool: str = "max",
        head: str = "gap",
        norm: str = "batch",
        bias: bool = False,
        residual: bool = False,
    ) -> None:
        super().__init__()
        check_choice("head", head, HEADS)
        check_choice("norm", norm, NORMS)
        if not widths or any(
            isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths
        ):
            raise ValueError(f"`widths` must be a non-empty list of ints >= 1, but got {widths!r}.")
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise ValueError(f"`depth` must be an int >= 1, but got {describe(depth)}.")
        if residual and padding == "full":
            raise ValueError(
                "`padding` must be 'zeros' or 'circular' with residual=True, but got 'full'."
            )
        self.padding, self.kernel_size, self.norm, self.bias = padding, kernel_size, norm, bias
        self.margin = (
            full_padding_margin(min(image_size), kernel_size, depth, len(widths))
            if padding == "full"
            else 0
        )
        side = (image_size[0] + 2 * self.margin, image_size[1] + 2 * self.margin)
        input_side = side
        stages: list[nn.Module] = []
        cin = in_channels
        for width in widths:
            layers: list[nn.Module] = []
            for i in range(depth):
                c = cin if i == 0 else width
                if residual:
                    first = self._unit(c, width, side, relu=True)
                    second = self._unit(width, width, side, relu=False)
                    layers.append(_Residual(first, second, c, width))
                else:
                    layers.append(self._unit(c, width, side, relu=True))
                    if padding == "full":
                        side = (side[0] + kernel_size - 1, side[1] + kernel_size - 1)
            down = make_pool(pool, circular=padding == "circular")
            stages.append(nn.Sequential(*layers, down))
            with torch.no_grad():
                h, w = down(torch.zeros(1, 1, *side)).shape[-2:]
                side = (int(h), int(w))
            cin = width
        self.features = nn.Sequential(*stages)
        with torch.no_grad():  # the flatten head's size depends on the padding and pooling
            shape = self.features(torch.zeros(1, in_channels, *input_side)).shape[1:]
        features = shape.numel() if head == "flatten" else shape[0]
        pool_layer: nn.Module = (
            nn.Flatten()
            if head == "flatten"
            else nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        )
        self.head = nn.Sequential(pool_layer, nn.Linear(features, num_classes))

    def make_conv(self, cin: int, cout: int, side: tuple[int, int]) -> nn.Module:
        """The convolution of one layer (the hook :class:`LCN` overrides).

        Args:
            cin: input channels.
            cout: output channels.
            side: ``(H, W)`` of the layer's input (a locally connected layer needs it).
        """
        return make_conv(cin, cout, self.kernel_size, self.padding, bias=self.bias)

    def _unit(self, cin: int, cout: int, side: tuple[int, int], *, relu: bool) -> nn.Sequential:
        parts = [self.make_conv(cin, cout, side)]
        if self.norm == "batch":
            parts.append(nn.BatchNorm2d(cout))
        if relu:
            parts.append(nn.ReLU())
        return nn.Sequential(*parts)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, classes)`` logits.

        Args:
            x: ``(N, C, H, W)`` images of the size the network was built for.
        """
        if self.margin:
            x = F.pad(x, (self.margin,) * 4)
        return self.head(self.features(x))
