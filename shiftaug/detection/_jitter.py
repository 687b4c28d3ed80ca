"""``LargeScaleJitter``: resize by a random factor, then crop or pad to a fixed size.

Large-scale jitter (Ghiasi et al., CVPR 2021, Sec. 3) is how Simple Copy-Paste is trained: each
image is resized so that it fits ``size`` times a factor drawn from ``scale_range`` (0.1 to 2.0),
then cropped at a random place where larger than ``size`` or padded at the bottom and right
where smaller (torchvision's ``ScaleJitter`` followed by the detection references'
``FixedSizeCrop``). Masks are resized with nearest neighbours, exactly as
``torch.nn.functional.interpolate(mode="nearest")`` does, but only the rows and columns that
survive the crop are computed; boxes and areas are recomputed from the new masks and objects
that leave the crop are dropped with every per-object entry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from .._checks import describe
from ..functional import masks_to_boxes
from ._pixels import count_pixels
from ._samples import OBJECT_KEYS, Sample, build_target, parse_samples, select, wrap_like

__all__ = ["JitterParams", "LargeScaleJitter"]


@dataclass(frozen=True)
class JitterParams:
    """One large-scale-jitter draw per image.

    Attributes:
        scale: ``(N,)`` float64 factors drawn from ``scale_range``.
        offset: ``(N, 2)`` float64 ``(x, y)`` crop positions in ``[0, 1)``, as fractions of the
            room left by a resized image larger than the output (ignored where it is smaller).
    """

    scale: torch.Tensor
    offset: torch.Tensor

    def __len__(self) -> int:
        return int(self.scale.shape[0])


class LargeScaleJitter:
    """Resize by a random factor (default 0.1-2.0) and crop/pad to ``size``.

    Works on one ``(image, target)`` sample (so it can sit in ``v2.Compose``) and is what
    :class:`~shiftaug.detection.CopyPasteCollate` applies to every image of a batch before
    pasting when given as ``jitter=``.

    Args:
        size: ``(H, W)`` output size in pixels (an int for a square).
        scale_range: ``(low, high)`` factors relative to the scale at which the image fits
            ``size`` (keeping its aspect ratio).
        fill: value of the padded image pixels (padded mask pixels are background).
        generator: random source (default: torch's global generator).

    Example:
        >>> import torch
        >>> from shiftaug.detection import LargeScaleJitter
        >>> masks = torch.zeros(1, 40, 60, dtype=torch.bool)
        >>> masks[0, 10:30, 20:40] = True
        >>> target = {"masks": masks, "boxes": torch.tensor([[20.0, 10.0, 40.0, 30.0]])}
        >>> jitter = LargeScaleJitter(64, generator=torch.Generator().manual_seed(0))
        >>> image, out = jitter(torch.rand(3, 40, 60), target)
        >>> image.shape, out["masks"].shape[-2:]
        (torch.Size([3, 64, 64]), torch.Size([64, 64]))
    """

    def __init__(
        self,
        size: int | tuple[int, int] = (1024, 1024),
        scale_range: tuple[float, float] = (0.1, 2.0),
        *,
        fill: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> None:
        if isinstance(size, int) and not isinstance(size, bool):
            size = (size, size)
        if not (
            isinstance(size, (tuple, list))
            and len(size) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in size)
        ):
            raise ValueError(
                f"`size` must be an int or (H, W) of ints >= 1, but got {describe(size)}."
            )
        if not (
            isinstance(scale_range, (tuple, list))
            and len(scale_range) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in scale_range)
            and 0 < scale_range[0] <= scale_range[1] < math.inf
        ):
            raise ValueError(
                "`scale_range` must be (low, high) with 0 < low <= high, but got "
                f"{describe(scale_range)}."
            )
        if isinstance(fill, bool) or not isinstance(fill, (int, float)):
            raise TypeError(f"`fill` must be a number, but got {describe(fill)}.")
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(
                f"`generator` must be a torch.Generator or None, but got {describe(generator)}."
            )
        self.size = (int(size[0]), int(size[1]))
        self.scale_range = (float(scale_range[0]), float(scale_range[1]))
        self.fill = fill
        self.generator = generator

    def make_params(self, batch: int, *, generator: torch.Generator | None = None) -> JitterParams:
        """Draw factors and crop positions for ``batch`` images.

        Args:
            batch: the number of images.
            generator: random source (default: the jitter's, else torch's global one).

        Returns:
            The draw, to replay with ``jitter(image, target, params=...)`` (one image).
        """
        generator = generator if generator is not None else self.generator
        device = generator.device if generator is not None else torch.device("cpu")
        unit = torch.rand(batch, 3, generator=generator, device=device, dtype=torch.float64).cpu()
        low, high = self.scale_range
        return JitterParams(low + (high - low) * unit[:, 0], unit[:, 1:])

    def __call__(
        self, image: Any, target: dict[str, Any], *, params: JitterParams | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Jitter one sample; ``params`` (for one image) replays a draw."""
        samples, layout = parse_samples([(image, target)], OBJECT_KEYS, "xyxy", None)
        params = params if params is not None else self.make_params(1)
        if len(params) != 1:
            raise ValueError(f"`params` must hold one draw for one sample, but got {len(params)}.")
        out = self.apply(samples[0], float(params.scale[0]), params.offset[0].tolist())
        target_out = build_target(out, layout, out.masks, out.boxes, _areas(out), out.values)
        return wrap_like(out.image, image, self.size), target_out

    def extra_repr(self) -> str:
        return f"size={self.size}, scale_range={self.scale_range}, fill={self.fill}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def apply(self, sample: Sample, scale: float, offset: list[float]) -> Sample:
        """The jittered sample: image, masks, boxes and per-object values in the new frame."""
        height, width = sample.size
        out_h, out_w = self.size
        ratio = scale * min(out_h / height, out_w / width)
        new_h, new_w = max(1, int(height * ratio)), max(1, int(width * ratio))
        top = int(offset[1] * (new_h - out_h + 1)) if new_h > out_h else 0
        left = int(offset[0] * (new_w - out_w + 1)) if new_w > out_w else 0
        cut_h, cut_w = min(out_h, new_h), min(out_w, new_w)
        resized = _resize(sample.image, (new_h, new_w))
        image = resized.new_full((sample.image.shape[0], out_h, out_w), self.fill)
        image[:, :cut_h, :cut_w] = resized[:, top : top + cut_h, left : left + cut_w]
        out = Sample(image, sample.image_like, sample.target, 0)
        if sample.masks is None:
            return out
        rows = nearest_index(top, cut_h, height, new_h, sample.masks.device)
        cols = nearest_index(left, cut_w, width, new_w, sample.masks.device)
        masks = sample.masks.new_zeros((sample.count, out_h, out_w))
        masks[:, :cut_h, :cut_w] = sample.masks.index_select(1, rows).index_select(2, cols)
        keep = torch.nonzero(count_pixels(masks)).flatten()
        if keep.numel() < sample.count:
            masks = masks.index_select(0, keep)
        out.masks, out.count = masks, int(keep.numel())
        out.boxes = masks_to_boxes(masks)[0]
        for key, value in sample.values.items():
            value = select(value, keep)
            if key == "keypoints":
                factor = torch.tensor([new_w / width, new_h / height], device=value.device)
                value = value * factor - torch.tensor([left, top], device=value.device)
            out.values[key] = value
        return out


def nearest_index(
    start: int, count: int, size: int, new_size: int, device: torch.device
) -> torch.Tensor:
    """Source rows of output rows ``start .. start + count - 1`` when ``size`` rows are resized
    to ``new_size`` by nearest neighbours, computed as ATen's ``nearest`` mode does (float32
    ``floor(i * size / new_size)``)."""
    scale = torch.tensor(size, dtype=torch.float32) / torch.tensor(new_size, dtype=torch.float32)
    index = torch.arange(start, start + count, dtype=torch.float32) * scale
    return index.floor().long().clamp(max=size - 1).to(device)


def _resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear with antialiasing (torchvision's ``resize`` of tensors), in float32 for
    other dtypes and rounded back for integer images."""
    if tuple(image.shape[-2:]) == size:
        return image
    work = image if image.dtype in (torch.float32, torch.float64) else image.to(torch.float32)
    out = F.interpolate(
        work[None], size=size, mode="bilinear", antialias=True, align_corners=False
    )[0]
    if image.dtype.is_floating_point:
        return out.to(image.dtype)
    info = torch.iinfo(image.dtype)
    return out.round_().clamp_(info.min, info.max).to(image.dtype)


def _areas(sample: Sample) -> list[int]:
    return count_pixels(sample.masks).tolist() if sample.masks is not None else []
