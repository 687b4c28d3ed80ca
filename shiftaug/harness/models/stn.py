"""Spatial transformer networks (Jaderberg et al. 2015) in front of a classifier.

A small localisation network looks at the image and predicts a transform ``theta``
(translation only, or affine); ``F.affine_grid`` + ``F.grid_sample`` resample the image with
it, and the classifier sees the result. The localisation network starts at the identity, so an
untrained STN is its classifier.

In ``affine_grid``'s normalised coordinates (``align_corners=False``) the output pixel at ``p``
reads the input at ``A p + t``: content moves by ``-t * (W / 2, H / 2)`` pixels. A localisation
net that *undoes* a shift ``d`` of the object therefore predicts ``t * (W / 2, H / 2) = d``,
which :meth:`STN.predicted_shift` returns in pixels.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..._checks import check_choice

__all__ = ["STN", "TRANSFORMS"]

TRANSFORMS = ("translation", "affine")


class STN(nn.Module):
    """A localisation net predicting ``theta``, a sampler, then ``classifier``.

    Args:
        in_channels: image channels.
        image_size: ``(H, W)``.
        classifier: the network applied to the resampled image.
        transform: ``"translation"`` (2 parameters, ``A = I``) or ``"affine"`` (6).
        width: channels of the localisation net's convolutions.

    Shape:
        - input: ``(N, C, H, W)``; output: ``classifier``'s output

    Example:
        >>> import torch
        >>> from shiftaug.harness.models import STN
        >>> stn = STN(1, (16, 16), torch.nn.Flatten())  # identity at initialisation
        >>> x = torch.rand(2, 1, 16, 16)
        >>> torch.allclose(stn(x), x.flatten(1), atol=1e-6)
        True
    """

    def __init__(
        self,
        in_channels: int,
        image_size: tuple[int, int],
        classifier: nn.Module,
        *,
        transform: str = "translation",
        width: int = 8,
    ) -> None:
        super().__init__()
        check_choice("transform", transform, TRANSFORMS)
        self.transform = transform
        h, w = image_size
        self.localisation = nn.Sequential(
            nn.Conv2d(in_channels, width, 5, padding=2),
            nn.MaxPool2d(2),
            nn.ReLU(),
            nn.Conv2d(width, 2 * width, 5, padding=2),
            nn.MaxPool2d(2),
            nn.ReLU(),
            nn.Flatten(),  # where the object is must survive: no global pooling here
            nn.Linear(2 * width * (h // 4) * (w // 4), 32),
            nn.ReLU(),
        )
        out = 2 if transform == "translation" else 6
        self.regress = nn.Linear(32, out)
        nn.init.zeros_(self.regress.weight)  # start at the identity transform
        with torch.no_grad():
            self.regress.bias.copy_(
                torch.zeros(2) if out == 2 else torch.tensor([1.0, 0, 0, 0, 1.0, 0])
            )
        self.classifier = classifier

    def theta(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 2, 3)``: the affine matrices the localisation net predicts for ``x``.

        Args:
            x: ``(N, C, H, W)`` images.
        """
        out = self.regress(self.localisation(x))
        if self.transform == "affine":
            return out.reshape(-1, 2, 3)
        eye = torch.eye(2, dtype=out.dtype, device=out.device).expand(len(out), 2, 2)
        return torch.cat([eye, out[:, :, None]], 2)

    def resample(self, x: torch.Tensor) -> torch.Tensor:
        """The image the classifier sees: ``x`` resampled by :meth:`theta` (zeros outside).

        Args:
            x: ``(N, C, H, W)`` images.
        """
        grid = F.affine_grid(self.theta(x), list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    @torch.no_grad()
    def predicted_shift(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 2)`` ``(dx, dy)`` pixels: the shift of the content the STN undoes.

        Args:
            x: ``(N, C, H, W)`` images.
        """
        t = self.theta(x)[:, :, 2]
        h, w = x.shape[-2:]
        return t * torch.tensor([w / 2, h / 2], dtype=t.dtype, device=t.device)

    def forward(self, x: torch.Tensor) -> Any:
        """The classifier's output on :meth:`resample` ``(x)``.

        Args:
            x: ``(N, C, H, W)`` images.
        """
        return self.classifier(self.resample(x))
