"""``RandomRelocate`` and ``CopyPaste`` as albumentations 2.x ``DualTransform`` s.

Both need the image's instance masks, passed as albumentations' ``masks`` target (``K`` masks
of ``H x W``, nonzero = object). ``RandomRelocate`` also moves ``bboxes`` (one per mask, in the
same order; recomputed from the moved masks, and those of dropped objects collapse to zero size
so albumentations removes them with their labels) and ``keypoints`` (each follows the object
whose mask it lies on). ``CopyPaste`` takes the donor images the way albumentations' ``Mosaic``
takes its extra images: a list of dicts under ``copypaste_metadata``, each with ``"image"`` and
``"masks"`` of the same size as the main image; objects of one donor, drawn per call, are
pasted and their masks appended to ``masks``. Serialized names: ``"shiftaug.RandomRelocate"``,
``"shiftaug.CopyPaste"``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._checks import describe
from ._placement_binding import CopyPasteBinding, PlacementRecord, RelocateBinding
from .albumentations import ShiftaugDualTransform

__all__ = ["CopyPaste", "RandomRelocate"]

_RECORD = "shiftaug_record"
_MASKS = "shiftaug_masks"


def _image_tensor(image: np.ndarray) -> torch.Tensor:
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3):
        raise TypeError(f"`image` must be an (H, W) or (H, W, C) array, but got {describe(image)}.")
    planes = image[..., None] if image.ndim == 2 else image
    return torch.from_numpy(np.ascontiguousarray(planes.transpose(2, 0, 1)))[None]


def _masks_tensor(masks: Any, size: tuple[int, int], name: str = "masks") -> torch.Tensor:
    if masks is None:
        raise ValueError(
            f"`{name}` (instance masks) must be given: these transforms move objects, but got None."
        )
    array = np.asarray(masks)
    if array.ndim != 3 or tuple(array.shape[1:]) != size:
        raise ValueError(
            f"`{name}` must be K masks of the image's size (K, {size[0]}, {size[1]}), but got "
            f"shape {array.shape}."
        )
    return torch.from_numpy(array != 0)[None]


def _to_image(tensor: torch.Tensor, like: np.ndarray) -> np.ndarray:
    array = tensor[0].permute(1, 2, 0).numpy()
    return np.ascontiguousarray(array[..., 0] if like.ndim == 2 else array)


class _PlacementDual(ShiftaugDualTransform):
    """Shared target handling; subclasses say how to run the core in ``_run``."""

    def get_params_dependent_on_data(
        self, params: dict[str, Any], data: dict[str, Any]
    ) -> dict[str, Any]:
        generator = torch.Generator().manual_seed(int(self.random_generator.integers(2**63 - 1)))
        image = _image_tensor(data["image"])
        masks = _masks_tensor(data.get("masks"), (image.shape[-2], image.shape[-1]))
        return {_RECORD: self._run(image, masks, data, generator), _MASKS: masks}

    def _run(
        self,
        image: torch.Tensor,
        masks: torch.Tensor,
        data: dict[str, Any],
        generator: torch.Generator,
    ) -> PlacementRecord:
        raise NotImplementedError

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        record = params[_RECORD]
        return _to_image(
            self.binding.image(_image_tensor(img), record)[:1], img
        )  # CopyPaste: image 0

    def apply_to_mask(self, mask: np.ndarray, **params: Any) -> np.ndarray:
        raise ValueError(
            "`mask` (a semantic mask) cannot follow moved objects: the vacated pixels have no "
            "label. Pass instance masks as `masks` instead."
        )

    def apply_to_masks(self, masks: Any, **params: Any) -> np.ndarray:
        record: PlacementRecord = params[_RECORD]
        array = np.asarray(masks)
        moved = self.binding.mask(torch.from_numpy(array != 0), record)[0]
        return moved.numpy().astype(array.dtype)


class RandomRelocate(_PlacementDual):
    """:class:`shiftaug.RandomRelocate` as an albumentations ``DualTransform``.

    Args:
        inpainter: backend name (serializable) from :func:`shiftaug.inpaint.available_inpainters`.
        inpainter_options: the backend's options as a plain dict (serializable), e.g.
            ``{"checkpoint": "runs/inpainter/inpainter.safetensors"}`` for ``"learned"``.
        num_objects, shift_px, shift_frac, policy, min_inside, stride, blend, sigma, levels,
        iterations, hole_margin, on_no_position, min_visibility, min_area: as in the core.
        p: probability that the transform is applied to a call.

    Targets:
        image (HWC or HW, uint8 or float32), masks (required), bboxes, keypoints.

    Example:
        >>> import albumentations as A
        >>> import numpy as np
        >>> from shiftaug.adapters.placement_albumentations import RandomRelocate
        >>> image = np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)
        >>> masks = np.zeros((1, 32, 32), dtype=np.uint8)
        >>> masks[0, 4:12, 4:12] = 1
        >>> pipeline = A.Compose([RandomRelocate("mean", shift_px=8, p=1.0)],
        ...     bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]), seed=0)
        >>> out = pipeline(image=image, masks=masks, bboxes=[[4, 4, 12, 12]], labels=[5])
        >>> out["image"].shape, int(np.asarray(out["masks"]).sum()), len(out["bboxes"])
        ((32, 32, 3), 64, 1)
    """

    binding: RelocateBinding

    def __init__(
        self,
        inpainter: str = "harmonic",
        num_objects: Any = 1,
        shift_px: Any = None,
        shift_frac: Any = None,
        policy: str = "uniform",
        min_inside: float = 1.0,
        stride: int = 8,
        blend: str = "hard",
        sigma: float = 1.0,
        levels: int = 3,
        iterations: int = 300,
        hole_margin: int = 0,
        on_no_position: str = "skip",
        min_visibility: float = 0.0,
        min_area: float = 0.0,
        p: float = 0.5,
        inpainter_options: dict[str, Any] | None = None,
    ) -> None:
        init_args = {
            "inpainter": inpainter, "inpainter_options": inpainter_options,
            "num_objects": num_objects, "shift_px": shift_px,
            "shift_frac": shift_frac, "policy": policy, "min_inside": min_inside,
            "stride": stride, "blend": blend, "sigma": sigma, "levels": levels,
            "iterations": iterations, "hole_margin": hole_margin,
            "on_no_position": on_no_position, "min_visibility": min_visibility,
            "min_area": min_area,
        }  # fmt: skip
        super().__init__(RelocateBinding.build(**init_args), init_args, p)

    @classmethod
    def get_class_fullname(cls) -> str:
        return "shiftaug.RandomRelocate"

    def _run(
        self,
        image: torch.Tensor,
        masks: torch.Tensor,
        data: dict[str, Any],
        generator: torch.Generator,
    ) -> PlacementRecord:
        size = (image.shape[-2], image.shape[-1])
        targets = {"image": image, "masks": masks}
        return self.binding.draw(1, size, generator=generator, targets=targets)

    def apply_to_bboxes(self, bboxes: np.ndarray, **params: Any) -> np.ndarray:
        record: PlacementRecord = params[_RECORD]
        boxes = record.output.boxes[0].numpy()
        if len(bboxes) != len(boxes):
            raise ValueError(
                f"`bboxes` must hold one box per instance mask, in the same order ({len(boxes)}), "
                f"but got {len(bboxes)}."
            )
        height, width = params["shape"][:2]
        out = bboxes.copy()
        out[:, :4] = boxes / np.array([width, height, width, height], dtype=np.float32)
        return out

    def apply_to_keypoints(self, keypoints: np.ndarray, **params: Any) -> np.ndarray:
        """Each keypoint moves with the moved object whose original mask covers its pixel."""
        record: PlacementRecord = params[_RECORD]
        masks = params[_MASKS][0]  # (K, H, W) before the move
        out = keypoints.copy()
        if not len(keypoints) or not masks.shape[0]:
            return out
        height, width = masks.shape[-2:]
        xy = torch.from_numpy(np.ascontiguousarray(keypoints[:, :2], dtype=np.float64))
        col, row = xy.floor().long().unbind(-1)
        inside = (col >= 0) & (col < width) & (row >= 0) & (row < height)
        on = masks[:, row.clamp(0, height - 1), col.clamp(0, width - 1)] & inside  # (K, P)
        shifts = torch.zeros(masks.shape[0], 2, dtype=torch.float64)
        placement = record.params
        slot = placement.index[0].remainder(masks.shape[0])
        shifts[slot] = (placement.shift[0] * placement.placed[0, :, None]).double()
        # A pixel belongs to the last slot covering it (masks may overlap).
        owner = torch.where(on.any(0), masks.shape[0] - 1 - on.flip(0).int().argmax(0), -1)
        moved = torch.where((owner >= 0)[:, None], shifts[owner.clamp(min=0)], 0.0)
        out[:, :2] = keypoints[:, :2] + moved.numpy()
        return out


class CopyPaste(_PlacementDual):
    """:class:`shiftaug.CopyPaste` as an albumentations ``DualTransform`` with donor images.

    Args:
        num_objects, policy, shift_px, shift_frac, min_inside, stride, scale_range, blend, sigma,
        levels, iterations, on_no_position, min_visibility, min_area: as in the core.
        metadata_key: key of the donor list in the call's data (``copypaste_metadata``).
        p: probability that the transform is applied to a call.

    Targets:
        image (HWC or HW, uint8 or float32) and masks (required); pasted objects' masks are
        appended. Boxes: recompute them from ``masks`` after the pipeline.

    Example:
        >>> import albumentations as A
        >>> import numpy as np
        >>> from shiftaug.adapters.placement_albumentations import CopyPaste
        >>> rng = np.random.default_rng(0)
        >>> image, donor = (rng.integers(0, 255, (32, 32, 3), dtype=np.uint8) for _ in range(2))
        >>> masks = np.zeros((1, 32, 32), dtype=np.uint8)
        >>> masks[0, 4:12, 4:12] = 1
        >>> donor_masks = np.zeros((1, 32, 32), dtype=np.uint8)
        >>> donor_masks[0, 20:28, 16:30] = 1
        >>> pipeline = A.Compose([CopyPaste(num_objects=1, p=1.0)], seed=0)
        >>> out = pipeline(image=image, masks=masks,
        ...                copypaste_metadata=[{"image": donor, "masks": donor_masks}])
        >>> np.asarray(out["masks"]).shape
        (2, 32, 32)
    """

    binding: CopyPasteBinding

    def __init__(
        self,
        num_objects: Any = (1, 3),
        policy: str = "same",
        shift_px: Any = None,
        shift_frac: Any = None,
        min_inside: float = 1.0,
        stride: int = 8,
        scale_range: Any = None,
        blend: str = "hard",
        sigma: float = 1.0,
        levels: int = 3,
        iterations: int = 300,
        on_no_position: str = "skip",
        min_visibility: float = 0.0,
        min_area: float = 1.0,
        metadata_key: str = "copypaste_metadata",
        p: float = 0.5,
    ) -> None:
        core_args = {
            "num_objects": num_objects, "policy": policy, "shift_px": shift_px,
            "shift_frac": shift_frac, "min_inside": min_inside, "stride": stride,
            "scale_range": None if scale_range is None else tuple(scale_range), "blend": blend,
            "sigma": sigma, "levels": levels, "iterations": iterations,
            "on_no_position": on_no_position, "min_visibility": min_visibility,
            "min_area": min_area,
        }  # fmt: skip
        if not isinstance(metadata_key, str):
            raise TypeError(f"`metadata_key` must be a str, but got {describe(metadata_key)}.")
        self.metadata_key = metadata_key
        super().__init__(
            CopyPasteBinding.build(**core_args), {**core_args, "metadata_key": metadata_key}, p
        )

    @classmethod
    def get_class_fullname(cls) -> str:
        return "shiftaug.CopyPaste"

    @property
    def targets_as_params(self) -> list[str]:
        return [self.metadata_key]

    def _run(
        self,
        image: torch.Tensor,
        masks: torch.Tensor,
        data: dict[str, Any],
        generator: torch.Generator,
    ) -> PlacementRecord:
        donors = data.get(self.metadata_key)
        if not isinstance(donors, (list, tuple)) or not donors:
            raise ValueError(
                f"`{self.metadata_key}` must be a non-empty list of dicts with 'image' and "
                f"'masks' (the donor images), but got {describe(donors)}."
            )
        donor = donors[int(self.py_random.randrange(len(donors)))]
        if not isinstance(donor, dict) or "image" not in donor:
            raise ValueError(
                f"Each `{self.metadata_key}` item must be a dict with 'image' and 'masks', but got {describe(donor)}."
            )
        other = _image_tensor(np.asarray(donor["image"]))
        if other.shape != image.shape or other.dtype != image.dtype:
            raise ValueError(
                f"Donor images must match the image's shape and dtype {tuple(image.shape)}, "
                f"{image.dtype}, but got {tuple(other.shape)}, {other.dtype}."
            )
        other_masks = _masks_tensor(
            donor.get("masks"), (image.shape[-2], image.shape[-1]), "donor masks"
        )
        slots = max(masks.shape[1], other_masks.shape[1])
        batch_masks = torch.zeros(2, slots, *masks.shape[-2:], dtype=torch.bool)
        batch_masks[0, : masks.shape[1]] = masks[0]
        batch_masks[1, : other_masks.shape[1]] = other_masks[0]
        valid = batch_masks.flatten(2).any(-1)
        targets = {"image": torch.cat([image, other]), "masks": batch_masks, "valid": valid}
        return self.binding.draw(
            2, (image.shape[-2], image.shape[-1]), generator=generator, targets=targets
        )

    def apply_to_masks(self, masks: Any, **params: Any) -> np.ndarray:
        record: PlacementRecord = params[_RECORD]
        array = np.asarray(masks)
        out = record.output
        slots = out.masks.shape[1] - out.params.index.shape[1]
        originals = out.masks[0, : array.shape[0]]
        pasted = out.masks[0, slots:][out.valid[0, slots:]]
        return torch.cat([originals, pasted]).numpy().astype(array.dtype)

    def apply_to_bboxes(self, bboxes: np.ndarray, **params: Any) -> np.ndarray:
        raise ValueError(
            "CopyPaste does not take `bboxes` in albumentations (pasted objects have no label "
            "columns there); recompute boxes from the returned `masks`."
        )
