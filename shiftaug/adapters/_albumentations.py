"""The base of the albumentations adapters, imported by each of their modules.

It lives apart from ``shiftaug.adapters.albumentations`` so that the translation and the
placement adapters both build on it without importing each other.
"""

from __future__ import annotations

import hashlib
from abc import ABC
from typing import Any

import numpy as np
import torch
from torch.utils.data import get_worker_info

from .._checks import check_probability, describe
from .._import_hooks import hold_registration, release_registration
from ._common import Binding, missing_framework, single_thread_after_fork

# Importing albumentations fires the registration of the adapter modules (_import_hooks);
# they subclass the base below, so it waits until the end of this module.
hold_registration("albumentations", __name__)
try:
    from albumentations.core.transforms_interface import DualTransform
    from albumentations.core.type_definitions import Targets
except ModuleNotFoundError as error:  # name the extra that installs albumentations
    raise missing_framework(error, "albumentations", "albumentations") from error

__all__ = [
    "PARAMS",
    "ShiftaugDualTransform",
    "check_array",
    "check_image",
    "from_tensor",
    "to_tensor",
]

PARAMS = "shiftaug_params"  # key of the drawn parameter record in albumentations' params dict
_IMAGE_DTYPES = (np.uint8, np.float32)


class ShiftaugDualTransform(DualTransform, ABC):
    """Base of the albumentations adapters: a ``DualTransform`` driven by a :class:`Binding`.

    Parameters are drawn by the core sampler from a ``torch.Generator`` seeded by this
    transform's ``random_generator`` (which ``Compose(seed=...)`` sets), so a seeded pipeline
    is reproducible; inside a ``DataLoader`` worker the worker's seed is mixed in. Each target is converted to a tensor, moved by the binding and converted
    back; subclasses may add faster NumPy paths. ``init_args`` are what gets serialized.

    ``strict`` is accepted like stock transforms accept it (and ``transform.strict = True``
    works), but changes nothing: shiftaug adapters always raise on invalid arguments, where
    albumentations' non-strict mode would warn and fall back to a default.
    """

    _targets = (Targets.IMAGE, Targets.MASK, Targets.BBOXES, Targets.KEYPOINTS)

    def __init__(
        self, binding: Binding, init_args: dict[str, Any], p: float, strict: bool = False
    ) -> None:
        super().__init__(p=check_probability("p", p))
        if not isinstance(strict, bool):
            raise TypeError(f"`strict` must be a bool, but got {describe(strict)}.")
        self.strict = strict
        self.binding = binding
        # Not albumentations' `_init_args` (its `strict` setter checks that one against a
        # pydantic schema these transforms do not have).
        self.shiftaug_init_args = dict(init_args)

    # Serialization: exactly the arguments of the concrete class's __init__ (never `binding`).
    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return tuple(self.shiftaug_init_args)

    def get_transform_init_args(self) -> dict[str, Any]:
        return dict(self.shiftaug_init_args)

    def torch_generator(self) -> torch.Generator:
        """A generator seeded from this transform's random state (one per call).

        Every ``DataLoader`` worker holds a copy of that state, so each also mixes in its
        worker seed: workers draw different moves (albumentations 2.0's own transforms repeat
        the same stream in every worker; see ``docs/adapters/albumentations.md``).
        """
        single_thread_after_fork()
        seed = int(self.random_generator.integers(2**63 - 1))
        info = get_worker_info()
        if info is not None:
            digest = hashlib.sha256(f"{seed}/{info.seed}".encode()).digest()
            seed = int.from_bytes(digest[:8], "little") >> 1
        return torch.Generator().manual_seed(seed)

    def get_params_dependent_on_data(
        self, params: dict[str, Any], data: dict[str, Any]
    ) -> dict[str, Any]:
        generator = self.torch_generator()
        size = (int(params["shape"][0]), int(params["shape"][1]))
        return {PARAMS: self.binding.draw(1, size, generator=generator)}

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        channels_last = check_image("image", img, 2)
        return from_tensor(self.binding.image(to_tensor(img, channels_last), params[PARAMS]), img)

    def apply_to_images(self, images: np.ndarray, **params: Any) -> np.ndarray:
        channels_last = check_image("images", images, 3)
        moved = self.binding.image(to_tensor(images, channels_last), params[PARAMS])
        return from_tensor(moved, images)

    def apply_to_mask(self, mask: np.ndarray, **params: Any) -> np.ndarray:
        tensor = torch.from_numpy(np.ascontiguousarray(check_array("mask", mask)))
        if mask.ndim == 3:  # (H, W, C): channels share the shift
            tensor = tensor.permute(2, 0, 1)
        moved = self.binding.mask(tensor, params[PARAMS])
        return np.ascontiguousarray((moved.permute(1, 2, 0) if mask.ndim == 3 else moved).numpy())

    def apply_to_masks(self, masks: np.ndarray, **params: Any) -> np.ndarray:
        return np.stack([self.apply_to_mask(mask, **params) for mask in masks])

    def apply_to_bboxes(self, bboxes: np.ndarray, **params: Any) -> np.ndarray:
        # albumentations hands over normalized xyxy (+ label columns); move in pixels, do not
        # clip: its own post-processing clips and applies min_visibility / min_area.
        if not len(bboxes):  # no box (albumentations then passes a 1-D empty array)
            return bboxes
        height, width = params["shape"][:2]
        scale = np.array([width, height, width, height], dtype=np.float64)
        pixels = torch.from_numpy(bboxes[:, :4].astype(np.float64) * scale)
        moved, _ = self.binding.boxes(
            pixels, params[PARAMS], canvas_size=(height, width), format="xyxy", clip=False
        )
        out = bboxes.copy()
        out[:, :4] = moved.numpy() / scale
        return out

    def apply_to_keypoints(self, keypoints: np.ndarray, **params: Any) -> np.ndarray:
        # albumentations keypoints are (x, y, z, angle, scale, labels...) in pixels.
        if not len(keypoints):
            return keypoints
        height, width = params["shape"][:2]
        moved, _ = self.binding.keypoints(
            torch.from_numpy(np.ascontiguousarray(keypoints[:, :2])), params[PARAMS],
            canvas_size=(height, width),
        )  # fmt: skip
        out = keypoints.copy()
        out[:, :2] = moved.numpy()
        return out


def check_array(name: str, array: Any) -> np.ndarray:
    """``array`` if it is a NumPy array, else a ``TypeError`` that says what to use instead."""
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"`{name}` must be a NumPy array (albumentations works on HWC NumPy arrays), but got "
            f"{type(array).__name__}; for tensors use shiftaug.adapters.torchvision or "
            "shiftaug.RandomTranslate."
        )
    return array


def check_image(name: str, image: Any, spatial_dim: int) -> bool:
    """Validate an HWC/HW image (``spatial_dim`` = 2) or NHWC/NHW stack (3); channels last?"""
    check_array(name, image)
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


def to_tensor(image: np.ndarray, channels_last: bool) -> torch.Tensor:
    """HWC / HW (or NHWC / NHW) array -> ``(..., C, H, W)`` tensor."""
    tensor = torch.from_numpy(np.ascontiguousarray(image))
    return tensor.movedim(-1, -3) if channels_last else tensor.unsqueeze(-3)


def from_tensor(tensor: torch.Tensor, like: np.ndarray) -> np.ndarray:
    """The inverse of :func:`to_tensor`, laid out like ``like``."""
    moved = tensor.movedim(-3, -1) if like.ndim == tensor.ndim else tensor.squeeze(-3)
    return np.ascontiguousarray(moved.numpy())


release_registration("albumentations", __name__)
