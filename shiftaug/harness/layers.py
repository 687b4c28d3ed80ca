"""Building blocks whose shift behaviour the harness compares: padding, pooling and APS.

- :class:`PolyphaseDown` is our implementation of adaptive polyphase sampling (APS, Chaman &
  Dokmanic 2021): of the ``s * s`` grids a stride-``s`` subsampling can keep, it keeps, per
  sample, the one with the largest norm. A circular shift of the input permutes the grids and
  shifts their content, so the chosen grid moves with the input and a network built from
  circular convolutions, APS and global pooling is exactly invariant to circular shifts.
- :class:`BlurDown` is Zhang's (2019) anti-aliasing downsampler as his paper places and pads it:
  a binomial low-pass filter (size 3 or 5) with reflect padding, then stride-2 subsampling.
- :func:`make_pool` builds the downsampling layers: plain max/average pooling, MaxBlurPool
  (max at stride 1, then :class:`BlurDown`), BlurPool alone, and APS.
- :func:`make_conv` builds a convolution with ``zeros``, ``circular`` or ``full`` padding.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import check_choice, describe

__all__ = [
    "CONV_PADDINGS",
    "POOLS",
    "BlurDown",
    "CircularConv2d",
    "PolyphaseDown",
    "circular_pad",
    "make_conv",
    "make_pool",
]

CONV_PADDINGS = ("zeros", "circular", "full")
POOLS = ("max", "avg", "blur", "blur5", "blur_avg", "aps")


class PolyphaseDown(nn.Module):
    """Adaptive polyphase downsampling: keep the stride-``s`` grid with the largest norm.

    The ``s * s`` polyphase components of ``x`` are ``x[..., i::s, j::s]`` for
    ``0 <= i, j < s``; sample ``n`` keeps the component ``argmax_k ||x_n^(k)||_p`` (the first
    on ties). Norms are summed in float64 so that the same values in a different (shifted)
    order give the same choice.

    Args:
        stride: the subsampling factor ``s``.
        norm: the ``p`` of the ``p``-norm that ranks the components.

    Shape:
        - input: ``(N, C, H, W)`` with ``H`` and ``W`` divisible by ``stride``
        - output: ``(N, C, H / s, W / s)``

    Example:
        >>> import torch
        >>> from shiftaug.harness.layers import PolyphaseDown
        >>> x = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
        >>> down = PolyphaseDown()
        >>> y, y_rolled = down(x), down(torch.roll(x, (1, 3), dims=(-2, -1)))
        >>> torch.equal(y.flatten(2).sort().values, y_rolled.flatten(2).sort().values)  # moved
        True
    """

    def __init__(self, stride: int = 2, norm: float = 2.0) -> None:
        super().__init__()
        if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
            raise ValueError(f"`stride` must be an int >= 1, but got {describe(stride)}.")
        self.stride, self.norm = stride, float(norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The polyphase component of largest norm, per image.

        Args:
            x: ``(N, C, H, W)`` maps with ``H`` and ``W`` divisible by the stride.
        """
        n, c, h, w = x.shape
        s = self.stride
        if h % s or w % s:
            raise ValueError(
                f"`x` must have H and W divisible by the stride {s}, but got a tensor of shape "
                f"{tuple(x.shape)}."
            )
        # x6[n, c, a, i, b, j] = x[n, c, a*s + i, b*s + j]: component (i, j) is x6[:, :, :, i, :, j].
        x6 = x.reshape(n, c, h // s, s, w // s, s)
        power = x6.detach().abs().pow(self.norm) if self.norm != 2 else x6.detach().square()
        norms = power.sum((1, 2, 4), dtype=torch.float64).flatten(1)  # (N, s*s)
        best = norms.argmax(1)
        return x6[torch.arange(n, device=x.device), :, :, best // s, :, best % s]

    def extra_repr(self) -> str:
        return f"stride={self.stride}, norm={self.norm}"


def circular_pad(x: torch.Tensor, left: int, right: int, top: int, bottom: int) -> torch.Tensor:
    """Wrap-around padding of the last two dims; equals ``F.pad(x, ..., mode="circular")``.

    Built from two concatenations, which on CPU is about twice as fast (forward + backward) as
    :func:`torch.nn.functional.pad`'s circular mode.
    """
    w, h = x.shape[-1], x.shape[-2]
    x = torch.cat([x[..., w - left :], x, x[..., :right]], -1) if left or right else x
    return torch.cat([x[..., h - top :, :], x, x[..., :bottom, :]], -2) if top or bottom else x


class CircularConv2d(nn.Conv2d):
    """A same-size convolution with circular padding (:func:`circular_pad`, then no padding)."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, *, bias: bool = False
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, padding=0, bias=bias)
        self.wrap = kernel_size // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The convolution of ``x`` wrapped around its edges (same size out).

        Args:
            x: ``(N, C, H, W)`` maps.
        """
        p = self.wrap
        return super().forward(circular_pad(x, p, p, p, p))


class _StridedMax(nn.Module):
    """Max over a 2x2 window at stride 1, padded so the size stays even (APS needs it)."""

    def __init__(self, circular: bool) -> None:
        super().__init__()
        self.circular = circular

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Circular wrap keeps exact circular equivariance; replicate equals -inf padding for a
        # 2x2 max (the edge pixel wins either way).
        x = (
            circular_pad(x, 0, 1, 0, 1)
            if self.circular
            else F.pad(x, (0, 1, 0, 1), mode="replicate")
        )
        return F.max_pool2d(x, kernel_size=2, stride=1)


class BlurDown(nn.Module):
    """Low-pass filter, then keep every ``stride``-th pixel (Zhang 2019's ``BlurPool``).

    The filter is the normalised binomial ``[1, 2, 1]`` (size 3) or ``[1, 4, 6, 4, 1]`` (size 5)
    outer product, applied per channel after reflect padding of ``(size - 1) // 2`` pixels, as in
    Zhang's paper; the output has ``ceil(H / stride)`` rows.

    Args:
        size: filter size, 3 or 5.
        stride: subsampling factor.

    Example:
        >>> import torch
        >>> from shiftaug.harness.layers import BlurDown
        >>> BlurDown(3)(torch.ones(1, 2, 7, 7)).shape  # a constant map stays constant
        torch.Size([1, 2, 4, 4])
    """

    kernel: torch.Tensor

    def __init__(self, size: int = 3, stride: int = 2) -> None:
        super().__init__()
        if size not in (3, 5):
            raise ValueError(f"`size` must be 3 or 5, but got {size!r}.")
        row = torch.tensor([1.0, 2.0, 1.0] if size == 3 else [1.0, 4.0, 6.0, 4.0, 1.0])
        kernel = torch.outer(row, row)
        self.register_buffer("kernel", (kernel / kernel.sum())[None, None], persistent=False)
        self.size, self.stride = size, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Blurred and subsampled ``x``: ``(N, C, ceil(H / stride), ceil(W / stride))``.

        Args:
            x: ``(N, C, H, W)`` maps (at least ``size // 2 + 1`` pixels on each side).
        """
        p = (self.size - 1) // 2
        c = x.shape[1]
        padded = F.pad(x, (p, p, p, p), mode="reflect")
        weight = self.kernel.to(dtype=x.dtype).expand(c, 1, self.size, self.size)
        return F.conv2d(padded, weight, stride=self.stride, groups=c)

    def extra_repr(self) -> str:
        return f"size={self.size}, stride={self.stride}"


def make_pool(kind: str, *, circular: bool = False) -> nn.Module:
    """A 2x downsampling layer.

    Args:
        kind: ``"max"`` (``MaxPool2d(2)``), ``"avg"`` (``AvgPool2d(2)``), ``"blur"`` /
            ``"blur5"`` (Zhang's MaxBlurPool: ``MaxPool2d(2, stride=1)``, then :class:`BlurDown`
            with a size-3 / size-5 filter), ``"blur_avg"`` (:class:`BlurDown` alone, Zhang's
            replacement for average pooling) or ``"aps"`` (max at stride 1, then
            :class:`PolyphaseDown`).
        circular: whether the network pads circularly (APS then wraps its max window too).

    Returns:
        The module; it halves ``H`` and ``W`` (rounding up for the blur pools).

    Example:
        >>> import torch
        >>> from shiftaug.harness.layers import make_pool
        >>> [tuple(make_pool(k)(torch.rand(1, 2, 8, 8)).shape[-2:]) for k in ("max", "blur", "aps")]
        [(4, 4), (4, 4), (4, 4)]
    """
    check_choice("pool", kind, POOLS)
    if kind == "max":
        return nn.MaxPool2d(2)
    if kind == "avg":
        return nn.AvgPool2d(2)
    if kind == "aps":
        return nn.Sequential(_StridedMax(circular), PolyphaseDown(2))
    if kind == "blur_avg":
        return BlurDown(3)
    return nn.Sequential(nn.MaxPool2d(2, stride=1), BlurDown(5 if kind == "blur5" else 3))


def make_conv(
    in_channels: int, out_channels: int, kernel_size: int, padding: str, *, bias: bool = False
) -> nn.Conv2d:
    """A stride-1 convolution with ``zeros``/``circular`` same-size padding or ``full`` padding.

    ``full`` pads ``k - 1`` zeros on every side, so every input pixel is seen by every kernel
    tap and the map grows by ``k - 1`` (Kayhan & van Gemert 2020's remedy for the absolute
    position that zero padding leaks). ``zeros`` and ``circular`` need an odd ``kernel_size``.

    Example:
        >>> import torch
        >>> from shiftaug.harness.layers import make_conv
        >>> make_conv(1, 4, 3, "full")(torch.rand(1, 1, 8, 8)).shape
        torch.Size([1, 4, 10, 10])
    """
    check_choice("padding", padding, CONV_PADDINGS)
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or kernel_size < 1:
        raise ValueError(f"`kernel_size` must be an int >= 1, but got {describe(kernel_size)}.")
    if padding == "full":
        return nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size - 1, bias=bias)
    if kernel_size % 2 == 0:
        raise ValueError(
            f"`kernel_size` must be odd with padding={padding!r}, but got {kernel_size}."
        )
    if padding == "circular":
        return CircularConv2d(in_channels, out_channels, kernel_size, bias=bias)
    return nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=bias)
