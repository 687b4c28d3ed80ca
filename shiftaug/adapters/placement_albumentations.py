"""``RandomRelocate`` and ``CopyPaste`` as albumentations 2.x ``DualTransform`` s.

Both need the image's instance masks, passed as albumentations' ``masks`` target (``K`` masks
of ``H x W``, nonzero = object). ``RandomRelocate`` also moves ``bboxes`` (one per mask, in the
same order, checked against the masks; recomputed from the moved masks, and those of dropped
objects collapse to zero size so albumentations removes them with their labels) and
``keypoints`` (each follows the object whose mask it lies on). ``CopyPaste`` takes the donor
images the way albumentations' ``Mosaic`` takes its extra images: a list of dicts under
``copypaste_metadata``, each with ``"image"`` and ``"masks"`` of the same size as the main
image (and, with ``BboxParams``, the donor's ``"bboxes"`` and label fields); objects of one
donor, drawn per call, are pasted, their masks appended to ``masks`` and their boxes (with the
donor's labels) to ``bboxes``. The call's ``image`` (or else ``images[0]``) and ``masks``
draw the parameters; every image of ``images`` gets the same placement. A call without objects
(no ``masks``, or ``K = 0``) passes through unchanged. Serialized names:
``"shiftaug.RandomRelocate"``, ``"shiftaug.CopyPaste"``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._checks import describe
from ._placement_binding import CopyPasteBinding, RelocateBinding, check_boxes_match
from ._placement_dual import (
    CALL,
    Call,
    PlacementDual,
    image_tensor,
    masks_tensor,
    normalized,
    owner,
    pixel_boxes,
)

__all__ = ["CopyPaste", "RandomRelocate"]


class RandomRelocate(PlacementDual):
    """:class:`shiftaug.RandomRelocate` as an albumentations ``DualTransform``.

    Args:
        inpainter: backend name (serializable) from :func:`shiftaug.inpaint.available_inpainters`.
        num_objects: objects moved per image: ``n``, ``(low, high)`` or ``"all"``.
        shift_px: move range in pixels (the grammar of ``docs/conventions.md``).
        shift_frac: the same as a fraction of the image size.
        policy: where objects may go (``"uniform"``, ``"non_overlapping"``, ``"grid"``,
            ``"context"``, ...).
        min_inside: fraction of an object that must stay in the frame.
        stride: lattice step for ``policy="grid"``.
        context_width: band width in pixels around the object for ``policy="context"``.
        context_sigma: similarity scale for ``policy="context"`` (a fraction of the
            background's standard deviation).
        blend: ``"antialias"`` (the default, as in the core), ``"hard"``, ``"feather"``,
            ``"laplacian"`` or ``"poisson"``.
        sigma: Gaussian std for ``"feather"``.
        levels: pyramid levels for ``"laplacian"``.
        iterations: conjugate-gradient iterations for ``"poisson"``.
        hole_margin: pixels the hole grows by before it is filled (1, as in the core).
        fill_context: fill each hole in a window this many pixels around it (``None``: the
            whole image).
        on_no_position: ``"skip"`` or ``"raise"`` when an object has nowhere to go.
        min_visibility: covered objects keeping less than this fraction are dropped.
        min_area: covered objects keeping fewer pixels are dropped.
        inpainter_options: keyword arguments of the backend (a dict, serializable).
        p: probability that the transform is applied to a call; 0.5 by default, as for
            albumentations' own transforms.
        strict: accepted as albumentations' transforms accept it; invalid arguments always
            raise here.

    Every other default is the core's; ``region``, ``density`` (tensors) and ``generator``
    are not offered (albumentations seeds each call itself).

    Targets:
        image, images (HWC or HW, uint8 or float32), masks (the objects), bboxes, keypoints.

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
        context_width: int = 4,
        context_sigma: float = 0.5,
        blend: str = "antialias",
        sigma: float = 1.0,
        levels: int = 3,
        iterations: int = 300,
        hole_margin: int = 1,
        fill_context: int | None = None,
        on_no_position: str = "skip",
        min_visibility: float = 0.0,
        min_area: float = 0.0,
        inpainter_options: dict[str, Any] | None = None,
        p: float = 0.5,
        strict: bool = False,
    ) -> None:
        init_args = {
            "inpainter": inpainter, "num_objects": num_objects, "shift_px": shift_px,
            "shift_frac": shift_frac, "policy": policy, "min_inside": min_inside,
            "stride": stride, "context_width": context_width, "context_sigma": context_sigma,
            "blend": blend, "sigma": sigma, "levels": levels, "iterations": iterations,
            "hole_margin": hole_margin, "fill_context": fill_context,
            "on_no_position": on_no_position, "min_visibility": min_visibility,
            "min_area": min_area, "inpainter_options": inpainter_options,
        }  # fmt: skip
        super().__init__(RelocateBinding.build(**init_args), init_args, p, strict)

    @classmethod
    def get_class_fullname(cls) -> str:
        return "shiftaug.RandomRelocate"

    def _inputs(
        self, image: torch.Tensor, masks: torch.Tensor, data: dict[str, Any]
    ) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        return {"image": image, "masks": masks}, {}

    def apply_to_bboxes(self, bboxes: np.ndarray, **params: Any) -> np.ndarray:
        call: Call | None = params[CALL]
        size = params["shape"][:2]
        if call is None:
            return bboxes
        self._check_bboxes(bboxes, call, size)
        out = bboxes.copy()
        out[:, :4] = normalized(call.record.output.boxes[0], size)
        return out

    def apply_to_keypoints(self, keypoints: np.ndarray, **params: Any) -> np.ndarray:
        """Each keypoint moves with the moved object whose original mask covers its pixel."""
        call: Call | None = params[CALL]
        out = keypoints.copy()
        if call is None or not len(keypoints):
            return out
        masks = call.inputs["masks"][0]  # (K, H, W) before the move
        mover = owner(masks, keypoints)
        shifts = torch.zeros(masks.shape[0], 2, dtype=torch.float64)
        placement = call.record.params
        slot = placement.index[0].remainder(masks.shape[0])
        shifts[slot] = (placement.shift[0] * placement.placed[0, :, None]).double()
        moved = torch.where((mover >= 0)[:, None], shifts[mover.clamp(min=0)], 0.0)
        out[:, :2] = keypoints[:, :2] + moved.numpy()
        return out


class CopyPaste(PlacementDual):
    """:class:`shiftaug.CopyPaste` as an albumentations ``DualTransform`` with donor images.

    Args:
        num_objects: objects pasted per image: ``n``, ``(low, high)`` or ``"all"``.
        policy: where pasted objects go; ``"same"`` (as in the paper) keeps their place;
            ``"context"`` prefers places whose surroundings look like the object's own.
        shift_px: move range in pixels for the other policies.
        shift_frac: the same as a fraction of the image size.
        min_inside: fraction of a pasted object that must land in the frame.
        stride: lattice step for ``policy="grid"``.
        context_width: band width in pixels around the object for ``policy="context"``.
        context_sigma: similarity scale for ``policy="context"`` (a fraction of the
            background's standard deviation).
        scale_range: ``(low, high)`` scale jitter, or ``None`` for exact copies.
        blend: ``"antialias"`` (the default, as in the core), ``"hard"``, ``"feather"``,
            ``"laplacian"`` or ``"poisson"``.
        sigma: Gaussian std for ``"feather"``.
        levels: pyramid levels for ``"laplacian"``.
        iterations: conjugate-gradient iterations for ``"poisson"``.
        on_no_position: ``"skip"`` or ``"raise"`` when an object has nowhere to go.
        min_visibility: covered objects keeping less than this fraction of their pixels are
            dropped (their masks emptied).
        min_area: covered objects keeping fewer pixels are dropped.
        metadata_key: key of the donor list in the call's data (``copypaste_metadata``).
        p: probability that the transform is applied to a call; 0.5 by default, as for
            albumentations' own transforms.
        strict: accepted as albumentations' transforms accept it; invalid arguments always
            raise here.

    Every other default is the core's; ``region``, ``density`` (tensors) and ``generator``
    are not offered (albumentations seeds each call itself).

    Targets:
        image, images (HWC or HW, uint8 or float32), masks (the objects; pasted objects' masks
        are appended), bboxes (one per mask, checked against the masks; recomputed from them,
        and the pasted objects' boxes appended with the donor's labels), keypoints (they stay;
        those a pasted object covers count as invisible).

    Boxes follow ``BboxParams``: a box is kept while its object keeps at least
    ``min_visibility`` of its pixels (an object the paste covered, or a pasted object cut by
    the frame or by a later paste) and its box covers at least ``min_area`` pixels.

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
        >>> pipeline = A.Compose([CopyPaste(num_objects=1, p=1.0)],
        ...     bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]), seed=0)
        >>> out = pipeline(image=image, masks=masks, bboxes=[[4, 4, 12, 12]], labels=["cat"],
        ...     copypaste_metadata=[{"image": donor, "masks": donor_masks,
        ...                          "bboxes": [[16, 20, 30, 28]], "labels": ["dog"]}])
        >>> np.asarray(out["masks"]).shape, out["labels"]
        ((2, 32, 32), ['cat', 'dog'])
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
        context_width: int = 4,
        context_sigma: float = 0.5,
        scale_range: Any = None,
        blend: str = "antialias",
        sigma: float = 1.0,
        levels: int = 3,
        iterations: int = 300,
        on_no_position: str = "skip",
        min_visibility: float = 0.0,
        min_area: float = 1.0,
        metadata_key: str = "copypaste_metadata",
        p: float = 0.5,
        strict: bool = False,
    ) -> None:
        core_args = {
            "num_objects": num_objects, "policy": policy, "shift_px": shift_px,
            "shift_frac": shift_frac, "min_inside": min_inside, "stride": stride,
            "context_width": context_width, "context_sigma": context_sigma,
            "scale_range": None if scale_range is None else tuple(scale_range), "blend": blend,
            "sigma": sigma, "levels": levels, "iterations": iterations,
            "on_no_position": on_no_position, "min_visibility": min_visibility,
            "min_area": min_area,
        }  # fmt: skip
        if not isinstance(metadata_key, str):
            raise TypeError(f"`metadata_key` must be a str, but got {describe(metadata_key)}.")
        self.metadata_key = metadata_key
        init_args = {**core_args, "metadata_key": metadata_key}
        super().__init__(CopyPasteBinding.build(**core_args), init_args, p, strict)

    @classmethod
    def get_class_fullname(cls) -> str:
        return "shiftaug.CopyPaste"

    @property
    def targets_as_params(self) -> list[str]:
        return [self.metadata_key]

    def _inputs(
        self, image: torch.Tensor, masks: torch.Tensor, data: dict[str, Any]
    ) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        donor = self._donor(data)
        other = image_tensor(np.asarray(donor["image"]), f"{self.metadata_key}[i]['image']")
        if other.shape != image.shape or other.dtype != image.dtype:
            raise ValueError(
                f"Donor images must match the image's shape and dtype {tuple(image.shape)}, "
                f"{image.dtype}, but got {tuple(other.shape)}, {other.dtype}."
            )
        size = (image.shape[-2], image.shape[-1])
        other_masks = masks_tensor(donor.get("masks"), size, "donor masks")
        slots = max(masks.shape[1], other_masks.shape[1])
        batch_masks = torch.zeros(2, slots, *size, dtype=torch.bool)
        batch_masks[0, : masks.shape[1]] = masks[0]
        batch_masks[1, : other_masks.shape[1]] = other_masks[0]
        valid = batch_masks.flatten(2).any(-1)
        inputs = {"image": torch.cat([image, other]), "masks": batch_masks, "valid": valid}
        return inputs, {"donor_boxes": self._donor_boxes(donor, data, other_masks[0])}

    def _donor(self, data: dict[str, Any]) -> dict[str, Any]:
        donors = data.get(self.metadata_key)
        if not isinstance(donors, (list, tuple)) or not donors:
            raise ValueError(
                f"`{self.metadata_key}` must be a non-empty list of dicts with 'image' and "
                f"'masks' (the donor images), but got {describe(donors)}."
            )
        donor = donors[int(self.py_random.randrange(len(donors)))]
        if not isinstance(donor, dict) or "image" not in donor:
            raise ValueError(
                f"Each `{self.metadata_key}` item must be a dict with 'image' and 'masks', but "
                f"got {describe(donor)}."
            )
        return donor

    def _donor_boxes(
        self, donor: dict[str, Any], data: dict[str, Any], masks: torch.Tensor
    ) -> np.ndarray | None:
        """The donor's boxes in albumentations' internal form (normalized xyxy + encoded
        labels), through the pipeline's own bbox processor (as ``Mosaic`` does)."""
        processor = self.get_processor("bboxes")
        if processor is None or "bboxes" not in data:
            return None
        fields = list(processor.params.label_fields or [])
        missing = [key for key in ("bboxes", *fields) if key not in donor]
        if missing:
            raise ValueError(
                f"Each `{self.metadata_key}` item must hold 'bboxes' (one per mask) and the label "
                f"fields {fields} when the pipeline has BboxParams, but an item lacks {missing}."
            )
        item = {"image": donor["image"], "bboxes": donor["bboxes"], **{k: donor[k] for k in fields}}
        sequences = dict(processor.is_sequence_input)  # the main data's, for its postprocess
        processor.preprocess(item)
        processor.is_sequence_input.update(sequences)
        boxes = np.asarray(item["bboxes"]).reshape(-1, 4 + len(fields))
        size = (masks.shape[-2], masks.shape[-1])
        check_boxes_match(pixel_boxes(boxes, size), masks, "donor bboxes", "donor masks")
        return boxes

    def apply_to_masks(self, masks: Any, **params: Any) -> Any:
        call: Call | None = params[CALL]
        if call is None:
            return masks
        array = np.asarray(masks)
        out = call.record.output
        originals = out.masks[0, : array.shape[0]]
        pasted = out.masks[0, call.slots :][out.valid[0, call.slots :]]
        return torch.cat([originals, pasted]).numpy().astype(array.dtype)

    def apply_to_bboxes(self, bboxes: np.ndarray, **params: Any) -> np.ndarray:
        call: Call | None = params[CALL]
        if call is None:
            return bboxes
        size = params["shape"][:2]
        self._check_bboxes(bboxes, call, size)
        out, placement = call.record.output, call.record.params
        masks, slots, count = call.inputs["masks"], call.slots, len(bboxes)
        kept = out.masks[0].flatten(1).sum(-1).double()  # pixels each object keeps
        source = (placement.index[0] - slots).clamp(0, slots - 1)  # donor slot of each round
        full = masks.flatten(2).sum(-1).double()  # pixels of every object before the paste
        pasted_full = full[1, source] * placement.scale[0].double() ** 2
        whole = torch.cat([full[0, :count], pasted_full])
        index = torch.cat([torch.arange(count), slots + torch.arange(len(source))])
        rows = np.concatenate([bboxes, self._pasted_rows(call, bboxes, source)])
        keep = self._visible(out.valid[0, index], kept[index] / whole, out.boxes[0, index])
        rows = rows.copy()
        rows[:, :4] = normalized(out.boxes[0, index], size)
        return rows[keep.numpy()]

    def _pasted_rows(self, call: Call, bboxes: np.ndarray, source: torch.Tensor) -> np.ndarray:
        """One row per paste round: the donor object's box row (its label columns)."""
        donor = call.extras.get("donor_boxes")
        if donor is None:  # no processor: bare rows of the right width
            return np.zeros((len(source), bboxes.shape[1]), dtype=bboxes.dtype)
        if not len(donor):
            return np.zeros((len(source), bboxes.shape[1]), dtype=bboxes.dtype)
        return donor[source.clamp(max=len(donor) - 1).numpy()].astype(bboxes.dtype)

    def _visible(
        self, valid: torch.Tensor, fraction: torch.Tensor, boxes: torch.Tensor
    ) -> torch.Tensor:
        """Objects whose box albumentations should keep (``BboxParams``' thresholds)."""
        processor = self.get_processor("bboxes")
        min_visibility = processor.params.min_visibility if processor is not None else 0.0
        min_area = processor.params.min_area if processor is not None else 0.0
        area = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).double()
        return valid & (fraction >= min_visibility - 1e-9) & (area >= max(min_area, 1e-9))

    def apply_to_keypoints(self, keypoints: np.ndarray, **params: Any) -> np.ndarray:
        """Keypoints stay (their objects do not move); those under a pasted object are hidden,
        and removed if the pipeline's ``KeypointParams`` removes invisible keypoints."""
        call: Call | None = params[CALL]
        processor = self.get_processor("keypoints")
        if call is None or not len(keypoints) or processor is None:
            return keypoints
        if not processor.params.remove_invisible:
            return keypoints
        out = call.record.output
        pasted = out.masks[0, call.slots :][out.valid[0, call.slots :]]
        covered = owner(pasted, keypoints) >= 0
        return keypoints[~covered.numpy()]
