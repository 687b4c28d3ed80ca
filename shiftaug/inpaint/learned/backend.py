"""The ``"learned"`` inpainting backend: a trained :class:`FillNet` behind the inpaint protocol."""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.nn.functional as F

from .._base import register_inpainter
from .._common import check_positive_int, composite, prepare
from .io import DEFAULT_MODEL, load_inpainter
from .network import FillNet

__all__ = ["LearnedInpainter"]


@register_inpainter("learned")
class LearnedInpainter:
    """Fill holes with a GAN-trained fast-Fourier-convolution network (LaMa-style).

    Runs batched on the images' device at the images' own size (the network is fully
    convolutional with a global Fourier branch); ``max_size`` caps the working size for very
    large images by resizing the context, and only the hole pixels of the upsampled result are
    used. Pixels outside the holes are returned bit for bit; what is inside a hole is ignored.
    Float images are taken to be in ``[0, 1]`` (the network sees them clamped), uint8 in
    ``[0, 255]``; one-channel images are filled as grey RGB.

    Args:
        checkpoint: a ``.safetensors`` or ``.pt`` file written by ``shiftaug train-inpainter``;
            default: the model shipped with shiftaug (the ``quick`` preset, 64 px crops of the
            scikit-image photos). Nothing is downloaded.
        max_size: largest side the network works at; ``None``: the image's own size.
        batch_size: images per network call (bounds memory); ``None``: the whole batch.

    Shape:
        ``images`` ``(N, C, H, W)``, ``C`` 1 or 3, any dtype the protocol accepts; ``holes``
        ``(N, 1, H, W)`` bool -> ``(N, C, H, W)`` in ``images``' dtype and device.

    Example:
        >>> import torch
        >>> from shiftaug.inpaint import get_inpainter
        >>> fill = get_inpainter("learned")
        >>> images = torch.rand(2, 3, 48, 40)
        >>> holes = torch.zeros(2, 1, 48, 40, dtype=torch.bool)
        >>> holes[..., 10:30, 12:28] = True
        >>> out = fill(images, holes)
        >>> out.shape, bool((out == images)[~holes.expand_as(images)].all())
        (torch.Size([2, 3, 48, 40]), True)
    """

    def __init__(
        self,
        checkpoint: str | os.PathLike[str] | None = None,
        *,
        max_size: int | None = None,
        batch_size: int | None = None,
    ) -> None:
        self.checkpoint = DEFAULT_MODEL if checkpoint is None else checkpoint
        self.net, self.info = load_inpainter(self.checkpoint)
        self.max_size = None if max_size is None else check_positive_int("max_size", max_size, 8)
        self.batch_size = (
            None if batch_size is None else check_positive_int("batch_size", batch_size)
        )
        self._nets: dict[torch.device, FillNet] = {torch.device("cpu"): self.net}

    def _net(self, device: torch.device) -> FillNet:
        if device not in self._nets:
            self._nets[device] = FillNet(self.net.config).to(device)
            self._nets[device].load_state_dict(self.net.state_dict())
            self._nets[device].eval().requires_grad_(False)
        return self._nets[device]

    def __getstate__(self) -> dict[str, Any]:
        # Copies on other devices are rebuilt on demand (and may not exist where unpickled).
        return {**self.__dict__, "_nets": {torch.device("cpu"): self.net}}

    def _run(self, unit: torch.Tensor, holes: torch.Tensor) -> torch.Tensor:
        height, width = unit.shape[-2:]
        net = self._net(unit.device)
        if self.max_size is None or max(height, width) <= self.max_size:
            return net(unit, holes)
        scale = self.max_size / max(height, width)
        size = (max(1, round(height * scale)), max(1, round(width * scale)))
        small = F.interpolate(unit, size=size, mode="bilinear", align_corners=False, antialias=True)
        # Any coverage makes a small pixel a hole: no resized trace of the hole's content leaks in.
        small_holes = F.interpolate(holes.float(), size=size, mode="area") > 0
        filled = net(small, small_holes)
        return F.interpolate(filled, size=(height, width), mode="bilinear", align_corners=False)

    def __call__(self, images: torch.Tensor, holes: torch.Tensor) -> torch.Tensor:
        images, holes = prepare(images, holes)
        channels = images.shape[1]
        if channels not in (1, 3):
            raise ValueError(
                f"`images` must have 1 or 3 channels for the learned inpainter, but got shape "
                f"{tuple(images.shape)}."
            )
        if images.shape[0] == 0:
            return images.clone()
        step = self.batch_size or images.shape[0]
        parts = []
        with torch.no_grad():
            for start in range(0, images.shape[0], step):
                chunk, hole = images[start : start + step], holes[start : start + step]
                unit = (
                    chunk.float() / 255 if chunk.dtype == torch.uint8 else chunk.float().clamp(0, 1)
                )
                filled = self._run(unit.expand(-1, 3, -1, -1), hole)
                filled = filled.mean(1, keepdim=True) if channels == 1 else filled
                filled = filled.clamp(0, 1)
                parts.append(filled * 255 if chunk.dtype == torch.uint8 else filled)
        filled = torch.cat(parts)
        if images.dtype == torch.float64:
            filled = filled.double()
        return composite(images, holes, filled)

    def __repr__(self) -> str:
        return f"LearnedInpainter(checkpoint={str(self.checkpoint)!r}, max_size={self.max_size})"
