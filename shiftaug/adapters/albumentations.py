"""shiftaug transforms as albumentations 2.x ``DualTransform`` s, serializable to YAML/JSON.

:class:`RandomTranslate` moves image(s), mask(s), bboxes (any ``BboxParams`` format; their
``min_visibility``/``min_area`` filtering is albumentations' own) and keypoints, on HWC
``uint8``/``float32`` NumPy arrays. Its serialized name is ``"shiftaug.RandomTranslate"``;
``import shiftaug`` registers it, so ``A.load`` finds it (see ``docs/adapters/albumentations.md``).
Without that import albumentations has no way to find the class: ``A.load`` then fails with
``KeyError: 'shiftaug.RandomTranslate'`` (albumentations offers no hook to say more).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..functional._image import normalize_fill
from ._albumentations import PARAMS, ShiftaugDualTransform, check_array, check_image
from ._common import TranslateBinding, shift_by_slicing

__all__ = ["RandomTranslate", "ShiftaugDualTransform"]


class RandomTranslate(ShiftaugDualTransform):
    """:class:`shiftaug.RandomTranslate` as an albumentations ``DualTransform``.

    Whole-pixel shifts (``interpolation="nearest"``) of a single image are plain NumPy slicing;
    ``"bilinear"`` runs the core kernel. Masks always move by the rounded shift.

    Args:
        shift_px: shift range in pixels (``docs/conventions.md``: ``4``, ``(4, 2)``,
            ``((0, 8), 2)``).
        shift_frac: the same grammar as a fraction of the image size. Give exactly one.
        padding_mode: ``"zeros"``, ``"constant"``, ``"reflect"``, ``"symmetric"``,
            ``"replicate"`` (or ``"edge"``) or ``"circular"``; ``None`` (default): ``"constant"``
            if a ``fill`` is given, else ``"zeros"``, as in torchvision.
        fill: value(s) for ``padding_mode="constant"``: one, or one per channel.
        interpolation: ``"nearest"`` (whole pixels, exact) or ``"bilinear"`` (sub-pixel).
        distribution: ``"uniform"`` or ``"normal"``; ``normal_scale`` as in the core.
        mask_fill: label of vacated mask pixels; masks are never padded with image content
            (``docs/conventions.md``).
        p: probability that the transform is applied to a call; 0.5 by default, as for
            albumentations' own transforms.
        strict: accepted as albumentations' transforms accept it; invalid arguments always
            raise here.

    Targets:
        image, images, mask, masks, bboxes, keypoints. Images are HWC (or HW) ``uint8`` or
        ``float32``.

    Example:
        >>> import albumentations as A
        >>> import numpy as np
        >>> from shiftaug.adapters.albumentations import RandomTranslate
        >>> pipeline = A.Compose(
        ...     [RandomTranslate(shift_px=4, p=1.0), A.HorizontalFlip(p=0.5)],
        ...     bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
        ...     seed=0,
        ... )
        >>> image = np.zeros((32, 32, 3), dtype=np.uint8)
        >>> out = pipeline(image=image, bboxes=[[4, 4, 20, 20]], labels=[1])
        >>> out["image"].shape
        (32, 32, 3)
        >>> RandomTranslate.get_class_fullname()  # the name in saved YAML / JSON configs
        'shiftaug.RandomTranslate'
    """

    binding: TranslateBinding

    def __init__(
        self,
        shift_px: Any = None,
        shift_frac: Any = None,
        padding_mode: str | None = None,
        fill: Any = None,
        interpolation: str = "nearest",
        distribution: str = "uniform",
        normal_scale: float = 0.5,
        mask_fill: int = 0,
        p: float = 0.5,
        strict: bool = False,
    ) -> None:
        init_args = {
            "shift_px": shift_px, "shift_frac": shift_frac, "padding_mode": padding_mode,
            "fill": fill, "interpolation": interpolation, "distribution": distribution,
            "normal_scale": normal_scale, "mask_fill": mask_fill,
        }  # fmt: skip
        super().__init__(TranslateBinding.build(**init_args), init_args, p, strict)

    @classmethod
    def get_class_fullname(cls) -> str:
        return "shiftaug.RandomTranslate"

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        if self.binding.core.interpolation != "nearest":
            return super().apply(img, **params)
        channels_last = check_image("image", img, 2)
        return self._slice(img, params[PARAMS], channels_last, 0, False)

    def apply_to_images(self, images: np.ndarray, **params: Any) -> np.ndarray:
        if self.binding.core.interpolation != "nearest":
            return super().apply_to_images(images, **params)
        channels_last = check_image("images", images, 3)
        return self._slice(images, params[PARAMS], channels_last, 1, False)

    def apply_to_mask(self, mask: np.ndarray, **params: Any) -> np.ndarray:
        check_array("mask", mask)
        return self._slice(mask, params[PARAMS], mask.ndim == 3, 0, True)

    def apply_to_masks(self, masks: np.ndarray, **params: Any) -> np.ndarray:
        if not isinstance(masks, np.ndarray):
            return super().apply_to_masks(masks, **params)
        check_array("masks", masks)
        return self._slice(masks, params[PARAMS], masks.ndim == 4, 1, True)

    def _slice(
        self, array: np.ndarray, params: Any, channels_last: bool, row_axis: int, is_mask: bool
    ) -> np.ndarray:
        """Whole-pixel shift of ``array`` along ``row_axis, row_axis + 1`` by NumPy indexing,
        padded as the core pads images, or masks (``is_mask``: the mask-padding rule)."""
        dx, dy = (int(v) for v in torch.round(params.shift[0]).tolist())
        core = self.binding.core
        mode, fill = self.binding.mask_padding() if is_mask else (core.padding_mode, core.fill)
        channels = array.shape[-1] if channels_last else 1
        dtype = torch.from_numpy(array[:0].reshape(-1)).dtype
        values = normalize_fill(
            fill, mode, dtype, channels, name="mask_fill" if is_mask else "fill"
        )
        return shift_by_slicing(array, dx, dy, row_axis, mode, values)
