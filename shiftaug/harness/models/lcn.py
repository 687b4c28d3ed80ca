"""Locally connected networks: a CNN whose filters are not shared across positions.

A locally connected layer looks at the same ``k x k`` neighbourhoods as a convolution but
learns a separate filter for every output position. It is the control for the claim that
*weight sharing* (not locality) is what makes a convolution translation equivariant: the same
architecture, the same receptive fields, no sharing.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..._checks import describe
from .cnn import CNN

__all__ = ["LCN", "LocallyConnected2d"]


class LocallyConnected2d(nn.Module):
    """A same-size ``k x k`` layer with one filter per output position (zero padding ``k // 2``).

    ``out[n, o, i, j] = bias[o, i, j] + sum_{c, a, b} w[i, j, o, c, a, b] * x_pad[n, c, i + a, j + b]``.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: odd neighbourhood size ``k``.
        size: the ``(H, W)`` of the input (one filter per position is allocated for it).
        bias: learn a bias per output channel and position.

    Shape:
        - input: ``(N, in_channels, H, W)``; output: ``(N, out_channels, H, W)``

    Example:
        >>> import torch
        >>> from shiftaug.harness.models.lcn import LocallyConnected2d
        >>> layer = LocallyConnected2d(2, 3, 3, (5, 4))
        >>> layer(torch.rand(6, 2, 5, 4)).shape, layer.weight.shape
        (torch.Size([6, 3, 5, 4]), torch.Size([20, 18, 3]))
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        size: tuple[int, int],
        *,
        bias: bool = False,
    ) -> None:
        super().__init__()
        if (
            isinstance(kernel_size, bool)
            or not isinstance(kernel_size, int)
            or kernel_size % 2 == 0
        ):
            raise ValueError(f"`kernel_size` must be an odd int, but got {describe(kernel_size)}.")
        self.kernel_size, self.size = kernel_size, (int(size[0]), int(size[1]))
        positions, fan_in = self.size[0] * self.size[1], in_channels * kernel_size**2
        bound = 1 / math.sqrt(fan_in)  # the bound nn.Conv2d's default init gives its weights
        self.weight = nn.Parameter(
            torch.empty(positions, fan_in, out_channels).uniform_(-bound, bound)
        )
        self.bias = (
            nn.Parameter(torch.empty(out_channels, positions).uniform_(-bound, bound))
            if bias
            else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[-2:]) != self.size:
            raise ValueError(
                f"`x` must have spatial size {self.size} (the layer's positions), but got a tensor "
                f"of shape {tuple(x.shape)}."
            )
        k = self.kernel_size
        patches = F.unfold(x, k, padding=k // 2)  # (N, C*k*k, L)
        out = torch.einsum("nkl,lko->nol", patches, self.weight)
        if self.bias is not None:
            out = out + self.bias
        return out.reshape(x.shape[0], -1, *self.size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, size={self.size}, bias={self.bias is not None}"


class LCN(CNN):
    """:class:`~.cnn.CNN` with every convolution replaced by a :class:`LocallyConnected2d`.

    Takes the same arguments as :class:`~.cnn.CNN`; ``padding`` must be ``"zeros"``.

    Example:
        >>> import torch
        >>> from shiftaug.harness.models import LCN
        >>> LCN(1, 10, (16, 16), widths=(4, 8))(torch.rand(2, 1, 16, 16)).shape
        torch.Size([2, 10])
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        if kwargs.get("padding", "zeros") != "zeros":
            raise ValueError(
                f"`padding` must be 'zeros' for a locally connected network, but got "
                f"{kwargs['padding']!r}."
            )
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def make_conv(self, cin: int, cout: int, side: tuple[int, int]) -> nn.Module:
        """A :class:`LocallyConnected2d` in place of the convolution.

        Args:
            cin: input channels.
            cout: output channels.
            side: ``(H, W)`` of the layer's input: one filter per output position.
        """
        return LocallyConnected2d(cin, cout, self.kernel_size, side, bias=self.bias)
