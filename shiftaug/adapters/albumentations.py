"""shiftaug transforms as albumentations 2.x ``DualTransform`` s, serializable to YAML/JSON.

:class:`RandomTranslate` moves image(s), mask(s), bboxes (any ``BboxParams`` format; their
``min_visibility``/``min_area`` filtering is albumentations' own) and keypoints, on HWC
``uint8``/``float32`` NumPy arrays. Its serialized name is ``"shiftaug.RandomTranslate"``;
``import shiftaug`` registers it, so ``A.load`` finds it (see ``docs/adapters/albumentations.md``).
"""

from __future__ import annotations

from abc import ABC
from typing import Any

import numpy as np
import torch
from albumentations.core.transforms_interface import DualTransform
from albumentations.core.type_definitions import Targets

from .._checks import check_probability
from ..functional._image import normalize_fill
from ._common import Binding, TranslateBinding, shift_by_slicing

__all__ = ["RandomTranslate", "ShiftaugDualTransform"]

_PARAMS = "shiftaug_params"  # key of the drawn parameter record in albumentations' params dict
_IMAGE_DTYPES = (np.uint8, np.float32)


class ShiftaugDualTransform(DualTransform, ABC):
    """Base of the albumentations adapters: a ``DualTransform`` driven by a :class:`Binding`.

    Parameters are drawn by the core sampler from a ``torch.Generator`` seeded by this
    transform's ``random_generator`` (which ``Compose(seed=...)`` sets), so a seeded pipeline
    is reproducible. Each target is converted to a tensor, moved by the binding and converted
    back; subclasses may add faster NumPy paths. ``init_args`` are what gets serialized.
    """

    _targets = (Targets.IMAGE, Targets.MASK, Targets.BBOXES, Targets.KEYPOINTS)

    def __init__(self, binding: Binding, init_args: dict[str, Any], p: float) -> None:
        super().__init__(p=check_probability("p", p))
        self.binding = binding
        self._init_args = dict(init_args)

    # Serialization: exactly the arguments of the concrete class's __init__ (never `binding`).
    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return tuple(self._init_args)

    def get_transform_init_args(self) -> dict[str, Any]:
        return dict(self._init_args)

    def get_params_dependent_on_data(
        self, params: dict[str, Any], data: dict[str, Any]
    ) -> dict[str, Any]:
        generator = torch.Generator().manual_seed(int(self.random_generator.integers(2**63 - 1)))
        size = (int(params["shape"][0]), int(params["shape"][1]))
        return {_PARAMS: self.binding.draw(1, size, generator=generator)}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        channels_last = _check_image("image", img, 2)
        return _from_tensor(
            self.binding.image(_to_tensor(img, channels_last), params[_PARAMS]), img
        )

    def apply_to_images(self, images: np.ndarray, **params: Any) -> np.ndarray:
        channels_last = _check_image("images", images, 3)
        moved = self.binding.image(_to_tensor(images, channels_last), params[_PARAMS])
        return _from_tensor(moved, images)

    def apply_to_mask(self, mask: np.ndarray, **params: Any) -> np.ndarray:
        tensor = torch.from_numpy(np.ascontiguousarray(_check_array("mask", mask)))
        if mask.ndim == 3:  # (H, W, C): channels share the shift
            tensor = tensor.permute(2, 0, 1)
        moved = self.binding.mask(tensor, params[_PARAMS])
        return np.ascontiguousarray((moved.permute(1, 2, 0) if mask.ndim == 3 else moved).numpy())

    def apply_to_masks(self, masks: np.ndarray, **params: Any) -> np.ndarray:
        return np.stack([self.apply_to_mask(mask, **params) for mask in masks])

    def apply_to_bboxes(self, bboxes: np.ndarray, **params: Any) -> np.ndarray:
        # albumentations hands over normalized xyxy (+ label columns); move in pixels, do not
        # clip: its own post-processing clips and applies min_visibility / min_area.
        height, width = params["shape"][:2]
        scale = np.array([width, height, width, height], dtype=np.float64)
        pixels = torch.from_numpy(bboxes[:, :4].astype(np.float64) * scale)
        moved, _ = self.binding.boxes(
            pixels, params[_PARAMS], canvas_size=(height, width), format="xyxy", clip=False
        )
        out = bboxes.copy()
        out[:, :4] = moved.numpy() / scale
        return out

    def apply_to_keypoints(self, keypoints: np.ndarray, **params: Any) -> np.ndarray:
        # albumentations keypoints are (x, y, z, angle, scale, labels...) in pixels.
        height, width = params["shape"][:2]
        moved, _ = self.binding.keypoints(
            torch.from_numpy(np.ascontiguousarray(keypoints[:, :2])), params[_PARAMS],
            canvas_size=(height, width),
        )  # fmt: skip
        out = keypoints.copy()
        out[:, :2] = moved.numpy()
        return out


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
        mask_fill: label written into vacated mask pixels, whatever the image padding (masks
            wrap with ``padding_mode="circular"``; see docs/conventions.md#masks).
        p: probability that the transform is applied to a call (albumentations' ``p``).

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
    ) -> None:
        init_args = {
            "shift_px": shift_px, "shift_frac": shift_frac, "padding_mode": padding_mode,
            "fill": fill, "interpolation": interpolation, "distribution": distribution,
            "normal_scale": normal_scale, "mask_fill": mask_fill,
        }  # fmt: skip
        super().__init__(TranslateBinding.build(**init_args), init_args, p)

    @classmethod
    def get_class_fullname(cls) -> str:
        return "shiftaug.RandomTranslate"

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        if self.binding.core.interpolation != "nearest":
            return super().apply(img, **params)
        channels_last = _check_image("image", img, 2)
        return self._slice(img, params[_PARAMS], channels_last, 0, "fill")

    def apply_to_images(self, images: np.ndarray, **params: Any) -> np.ndarray:
        if self.binding.core.interpolation != "nearest":
            return super().apply_to_images(images, **params)
        channels_last = _check_image("images", images, 3)
        return self._slice(images, params[_PARAMS], channels_last, 1, "fill")

    def apply_to_mask(self, mask: np.ndarray, **params: Any) -> np.ndarray:
        _check_array("mask", mask)
        return self._slice(mask, params[_PARAMS], mask.ndim == 3, 0, "mask_fill")

    def apply_to_masks(self, masks: np.ndarray, **params: Any) -> np.ndarray:
        if not isinstance(masks, np.ndarray):
            return super().apply_to_masks(masks, **params)
        _check_array("masks", masks)
        return self._slice(masks, params[_PARAMS], masks.ndim == 4, 1, "mask_fill")

    def _slice(
        self, array: np.ndarray, params: Any, channels_last: bool, row_axis: int, fill_name: str
    ) -> np.ndarray:
        """Whole-pixel shift of ``array`` along ``row_axis, row_axis + 1`` by NumPy indexing,
        padded with the core's ``fill`` or ``mask_fill`` (``fill_name``)."""
        dx, dy = (int(v) for v in torch.round(params.shift[0]).tolist())
        core = self.binding.core
        mode, fill = (core.padding_mode, core.fill) if fill_name == "fill" else core.mask_padding
        channels = array.shape[-1] if channels_last else 1
        dtype = torch.from_numpy(array[:0].reshape(-1)).dtype
        values = normalize_fill(fill, mode, dtype, channels, name=fill_name)
        return shift_by_slicing(array, dx, dy, row_axis, mode, values)


def _check_array(name: str, array: Any) -> np.ndarray:
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"`{name}` must be a NumPy array (albumentations works on HWC NumPy arrays), but got "
            f"{type(array).__name__}; for tensors use shiftaug.adapters.torchvision or "
            "shiftaug.RandomTranslate."
        )
    return array


def _check_image(name: str, image: Any, spatial_dim: int) -> bool:
    """Validate an HWC/HW image (``spatial_dim`` = 2) or NHWC/NHW stack (3); channels last?"""
    _check_array(name, image)
    if image.dtype not in _IMAGE_DTYPES:
        raise TypeError(
            f"`{name}` must have dtype uint8 or float32 (albumentations' image types), but got "
            f"{image.dtype}; convert with .astype(np.float32)."
        )
    layout = "(H, W, C) or (H, W)" if spatial_dim == 2 else "(N, H, W, C) or (N, H, W)"
    if image.ndim not in (spatial_dim, spatial_dim + 1):
        raise ValueError(f"`{name}` must have shape {layout}, but got shape {image.shape}.")
    channels_last = image.ndim == spatial_dim + 1
    if channels_last and image.shape[-3] in (1, 3, 4) and image.shape[-1] > 4:
        raise ValueError(
            f"`{name}` must have shape {layout} (channels last), but got shape {image.shape}, "
            "which looks channels-first; pass np.moveaxis(image, -3, -1)."
        )
    return channels_last


def _to_tensor(image: np.ndarray, channels_last: bool) -> torch.Tensor:
    tensor = torch.from_numpy(np.ascontiguousarray(image))
    return tensor.movedim(-1, -3) if channels_last else tensor.unsqueeze(-3)


def _from_tensor(tensor: torch.Tensor, like: np.ndarray) -> np.ndarray:
    moved = tensor.movedim(-3, -1) if like.ndim == tensor.ndim else tensor.squeeze(-3)
    return np.ascontiguousarray(moved.numpy())


# The placement adapters register under their serialized names too (``A.load`` finds them after
# ``import shiftaug``). Imported last: they subclass ShiftaugDualTransform defined above.
from . import placement_albumentations as _placement  # noqa: E402, F401
