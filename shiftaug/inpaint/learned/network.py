"""The learned inpainter's networks: a fast-Fourier-convolution generator and a patch critic.

The generator follows the recipe of LaMa (Suvorov et al., WACV 2022): a few strided
convolutions, residual blocks of *fast Fourier convolutions* (FFC; Chi et al., NeurIPS 2020)
whose global half sees the whole image in every layer through a real FFT, and upsampling back.
A global receptive field from the first block is what large, irregular holes need: the
periodic structure of brick, grass or gravel is continued across the hole instead of smeared.

Three choices of ours, for small models trained on a CPU:

- the network refines a **classical fill**: its input is the harmonic (Laplace) fill of the hole
  plus the hole mask, and its last layer starts at zero, so an untrained generator returns the
  harmonic fill exactly and training only has to learn what harmonic lacks (texture, edges);
- it also sees **copies of the context**: the image moved by the hole's width (or height) to
  the left, right, up and down, with a mask of which copied pixels are known - real texture
  from next to the hole, which the network learns to select and blend, where a small GAN would
  need far longer to learn to synthesise texture (the shift-connection idea of Shift-Net, Yan
  et al., ECCV 2018, with fixed geometric shifts instead of feature matching);
- no normalisation layers, so the output of a sample does not depend on the rest of its batch,
  in training or inference.

The critic is a PatchGAN (Isola et al., CVPR 2017) with spectral normalisation (Miyato et al.,
ICLR 2018) on every convolution; it returns per-patch logits and its intermediate features
(for the feature-matching loss).
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ...functional import masks_to_boxes, translate_image
from .._harmonic import harmonic_fill, pull_push_fill

__all__ = ["COARSE_FILLS", "FillNet", "NetConfig", "PatchCritic"]

COARSE_FILLS = ("detail", "harmonic", "pull_push", "none")


@dataclass(frozen=True)
class NetConfig:
    """Architecture of :class:`FillNet` (stored in every model file).

    Attributes:
        width: channels of the full-resolution stem; doubled at each of the two downsamplings.
        blocks: FFC residual blocks at 1/4 resolution.
        global_ratio: fraction of the bottleneck channels in the global (Fourier) branch.
        coarse: the classical fill the network refines: ``"harmonic"``, ``"detail"``
            (harmonic plus transferred detail, :func:`detail_fill`), ``"pull_push"`` or
            ``"none"`` (holes zeroed, LaMa's input).
        context: copies of the context given as input (0-4: moved right, left, down, up).
    """

    width: int = 16
    blocks: int = 3
    global_ratio: float = 0.5
    coarse: str = "harmonic"
    context: int = 4

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def context_copies(images: torch.Tensor, holes: torch.Tensor, count: int) -> torch.Tensor:
    """``(N, 4 count, H, W)``: ``images`` moved by the hole's box width/height plus 2 pixels
    (right, left, down, up; reflect padding), each followed by the mask of known pixels.

    Example:
        >>> import torch
        >>> from shiftaug.inpaint.learned.network import context_copies
        >>> images = torch.arange(6.0).expand(1, 1, 1, 6)
        >>> holes = torch.zeros(1, 1, 1, 6, dtype=torch.bool)
        >>> holes[..., 2] = True  # a 1-pixel hole: the copy comes from 3 pixels to the left
        >>> context_copies(images, holes, 1)[0, :, 0].tolist()  # [image, known] (reflected)
        [[3.0, 2.0, 1.0, 0.0, 1.0, 2.0], [1.0, 0.0, 1.0, 1.0, 1.0, 0.0]]
    """
    boxes, _ = masks_to_boxes(holes[:, 0])
    width = (boxes[:, 2] - boxes[:, 0]).long() + 2
    height = (boxes[:, 3] - boxes[:, 1]).long() + 2
    zero = torch.zeros_like(width)
    shifts = [(width, zero), (-width, zero), (zero, height), (zero, -height)][:count]
    known = (~holes).to(images.dtype)
    copies = []
    for dx, dy in shifts:
        shift = torch.stack([dx, dy], 1)
        moved = translate_image(torch.cat([images, known], 1), shift, padding_mode="reflect")
        copies.append(moved)
    return torch.cat(copies, 1) if copies else images[:, :0]


def _blur(x: torch.Tensor, radius: int = 2) -> torch.Tensor:
    """Box blur with reflect padding, as two 1-D passes."""
    k = 2 * radius + 1
    x = F.avg_pool2d(F.pad(x, (radius, radius, 0, 0), mode="reflect"), (1, k), 1)
    return F.avg_pool2d(F.pad(x, (0, 0, radius, radius), mode="reflect"), (k, 1), 1)


def detail_fill(images: torch.Tensor, holes: torch.Tensor, count: int = 4) -> torch.Tensor:
    """Harmonic fill plus the fine detail of the context copy that covers the hole best.

    The low frequencies come from the harmonic fill (smooth, faithful to the hole's rim); the
    detail (the copy minus its 5x5 box blur) from the image moved by the hole's width or height
    (:func:`context_copies`): real texture of the neighbourhood instead of a smudge.
    """
    smooth = harmonic_fill(images, holes)
    channels = images.shape[1]
    copies = context_copies(images, holes, count).unflatten(1, (count, channels + 1))
    rgb, known = copies[:, :, :channels], copies[:, :, channels:]
    # The copy with the most known pixels over the hole (ties: the first, right, left, down, up).
    cover = (known * holes[:, None]).flatten(2).sum(-1)
    best = cover.argmax(1)
    pick = torch.arange(len(images), device=images.device)
    source, valid = rgb[pick, best], known[pick, best]
    detail = (source - _blur(source)) * valid
    return torch.where(holes, smooth + detail, images)


def _conv(cin: int, cout: int, kernel: int = 3, stride: int = 1) -> nn.Conv2d:
    # Reflect padding: zero padding would teach the network where the image border is.
    return nn.Conv2d(cin, cout, kernel, stride, kernel // 2, padding_mode="reflect")


class _Spectral(nn.Module):
    """The global branch of an FFC: a 1x1 convolution in the 2-D Fourier domain."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        half = max(1, channels // 2)
        self.reduce = nn.Conv2d(channels, half, 1)
        self.freq = nn.Conv2d(2 * half, 2 * half, 1)
        self.expand = nn.Conv2d(half, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.reduce(x))
        height, width = y.shape[-2:]
        # FFTs need float32 (autocast may hand us bfloat16); "ortho" keeps magnitudes size-free.
        spectrum = torch.fft.rfft2(y.float(), norm="ortho")
        mixed = F.relu(self.freq(torch.cat([spectrum.real, spectrum.imag], 1).to(y.dtype)))
        real, imag = mixed.float().chunk(2, 1)
        back = torch.fft.irfft2(torch.complex(real, imag), s=(height, width), norm="ortho")
        return self.expand(y + back.to(y.dtype))


class _FFC(nn.Module):
    """Fast Fourier convolution on ``(local, global)`` channel groups (Chi et al. 2020)."""

    def __init__(self, channels: int, global_ratio: float) -> None:
        super().__init__()
        self.glob = min(channels - 1, max(1, round(channels * global_ratio)))
        self.loc = channels - self.glob
        self.to_local = _conv(channels, self.loc)  # local <- local and global
        self.to_global = _conv(self.loc, self.glob)  # global <- local
        self.spectral = _Spectral(self.glob)  # global <- global

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_loc, x_glob = x.split([self.loc, self.glob], 1)
        out_loc = self.to_local(x)
        out_glob = self.to_global(x_loc) + self.spectral(x_glob)
        return F.relu(torch.cat([out_loc, out_glob], 1))


class _Block(nn.Module):
    """Residual block of two FFCs."""

    def __init__(self, channels: int, global_ratio: float) -> None:
        super().__init__()
        self.first = _FFC(channels, global_ratio)
        self.second = _FFC(channels, global_ratio)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.second(self.first(x))


class FillNet(nn.Module):
    """Generator: ``(images, holes) -> filled images``, float in ``[0, 1]``, any size.

    Args:
        config: the architecture (:class:`NetConfig`).

    Shape:
        ``images`` ``(N, 3, H, W)`` float in ``[0, 1]`` (hole content is ignored), ``holes``
        ``(N, 1, H, W)`` bool -> ``(N, 3, H, W)``, equal to ``images`` outside the holes.
        Sizes that are not a multiple of 4 are reflect-padded internally.

    Example:
        >>> import torch
        >>> from shiftaug.inpaint.learned import FillNet, NetConfig
        >>> net = FillNet(NetConfig(width=8, blocks=1))
        >>> images, holes = torch.rand(2, 3, 30, 34), torch.zeros(2, 1, 30, 34, dtype=torch.bool)
        >>> holes[..., 10:20, 8:16] = True
        >>> out = net(images, holes)
        >>> out.shape, bool((out == images)[~holes.expand_as(images)].all())
        (torch.Size([2, 3, 30, 34]), True)
    """

    def __init__(self, config: NetConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or NetConfig()
        if config.coarse not in COARSE_FILLS:
            raise ValueError(f"`coarse` must be one of {COARSE_FILLS}, but got {config.coarse!r}.")
        if (
            not 0 < config.global_ratio < 1
            or config.width < 1
            or config.blocks < 0
            or not 0 <= config.context <= 4
        ):
            raise ValueError(
                f"`net` must have width >= 1, blocks >= 0, 0 < global_ratio < 1 and context in "
                f"0..4, but got {config!r}."
            )
        w = config.width
        self.stem = _conv(4 + 4 * config.context, w, 3)
        self.down = nn.ModuleList([_conv(w, 2 * w, 3, 2), _conv(2 * w, 4 * w, 3, 2)])
        self.blocks = nn.Sequential(
            *(_Block(4 * w, config.global_ratio) for _ in range(config.blocks))
        )
        self.up = nn.ModuleList([_conv(4 * w, 2 * w), _conv(2 * w, w)])
        self.head = _conv(w, 3)
        # A zero head: the untrained network returns its coarse fill unchanged.
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)  # type: ignore[arg-type]

    def coarse(self, images: torch.Tensor, holes: torch.Tensor) -> torch.Tensor:
        """The classical starting fill (no gradient: it is a fixed function of the context).

        Args:
            images: ``(N, 3, H, W)`` float in ``[0, 1]``.
            holes: ``(N, 1, H, W)`` bool, True where a pixel is missing.
        """
        with torch.no_grad():
            if self.config.coarse == "detail":
                return detail_fill(images, holes)
            if self.config.coarse == "harmonic":
                return harmonic_fill(images, holes)
            if self.config.coarse == "pull_push":
                return pull_push_fill(images, holes)
            return images.masked_fill(holes, 0.0)

    def forward(self, images: torch.Tensor, holes: torch.Tensor) -> torch.Tensor:
        """The filled images; pixels outside ``holes`` are those of ``images``.

        Args:
            images: ``(N, 3, H, W)`` float in ``[0, 1]`` (what is inside a hole is ignored).
            holes: ``(N, 1, H, W)`` bool, True where a pixel is missing.
        """
        height, width = images.shape[-2:]
        start = self.coarse(images.float(), holes)
        pad = (0, -width % 4, 0, -height % 4)
        copies = context_copies(start, holes, self.config.context)
        x = torch.cat([start * 2 - 1, holes.to(start.dtype), copies], 1)
        if any(pad):
            # Reflection needs the padding to be smaller than the side; replicate otherwise.
            mode = "reflect" if height > pad[3] and width > pad[1] else "replicate"
            x = F.pad(x, pad, mode=mode)
        x = F.relu(self.stem(x))
        for layer in self.down:
            x = F.relu(layer(x))
        x = self.blocks(x)
        for layer in self.up:
            x = F.relu(layer(F.interpolate(x, scale_factor=2.0, mode="nearest")))
        residual = self.head(x)[..., :height, :width].float()
        return torch.where(holes, start + residual, images.float())


class PatchCritic(nn.Module):
    """Spectral-normalised PatchGAN critic: ``images -> (logits (N, 1, h, w), features)``.

    Each logit judges one receptive field (about 34 pixels across with the default 3 strided
    layers); the features of every layer feed the feature-matching loss.

    Args:
        width: channels of the first layer, doubled at each of the next two.
        layers: strided 4x4 convolutions (each halves the resolution).

    Example:
        >>> import torch
        >>> from shiftaug.inpaint.learned import PatchCritic
        >>> logits, features = PatchCritic(8)(torch.rand(2, 3, 64, 64))
        >>> logits.shape, len(features)
        (torch.Size([2, 1, 8, 8]), 3)
    """

    def __init__(self, width: int = 32, layers: int = 3) -> None:
        super().__init__()
        channels = [3] + [width * 2**i for i in range(layers)]
        self.layers = nn.ModuleList(
            spectral_norm(nn.Conv2d(cin, cout, 4, 2, 1))
            for cin, cout in itertools.pairwise(channels)
        )
        self.head = spectral_norm(nn.Conv2d(channels[-1], 1, 3, 1, 1))

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """``(patch logits (N, 1, h, w), features of every layer)`` (for feature matching).

        Args:
            images: ``(N, 3, H, W)`` float in ``[0, 1]``.
        """
        x, features = images * 2 - 1, []
        for layer in self.layers:
            x = F.leaky_relu(layer(x), 0.2)
            features.append(x)
        return self.head(x), features
