"""``RandomRelocate`` and ``CopyPaste`` as torchvision ``transforms.v2`` transforms.

They take torchvision's detection / instance-segmentation samples, ``(image, target)`` with
``target`` a dict::

    target = {
        "masks": tv_tensors.Mask,          # (K, H, W) instance masks (bool or 0/1), required
        "boxes": tv_tensors.BoundingBoxes, # (K, 4), optional: recomputed from the masks
        "labels": torch.Tensor,            # (K,), optional: follows its object
        "keypoints": tv_tensors.KeyPoints, # (K, P, 2), optional: moves with its object
    }

Other keys pass through. For one image ``(C, H, W)`` the objects a transform dropped (moved out
of the frame, covered) are removed from every per-object entry, as torchvision's detection
references expect. A batch ``(N, C, H, W)`` with ``(N, K, H, W)`` masks keeps its padded layout
and gains ``target["valid"]`` ``(N, K')``. ``CopyPaste`` needs a batch (objects come from the
other images). Both compose with stock v2 transforms in ``v2.Compose``.
"""

from __future__ import annotations

from typing import Any

import PIL.Image
import torch
from torchvision import tv_tensors
from torchvision.transforms.v2 import functional as F

from .._checks import describe
from ._placement_binding import CopyPasteBinding, PlacementRecord, RelocateBinding
from .torchvision import ShiftaugTransform

__all__ = ["CopyPaste", "RandomRelocate"]


class _PlacementTransform(ShiftaugTransform):
    """Shared ``forward`` of the two v2 transforms (see the module docstring)."""

    needs_batch = False

    def forward(self, *inputs: Any) -> Any:
        sample = inputs if len(inputs) > 1 else inputs[0]
        if not (
            isinstance(sample, (tuple, list)) and len(sample) == 2 and isinstance(sample[1], dict)
        ):
            raise TypeError(
                "Placement transforms take (image, target) with target a dict holding 'masks', "
                f"but got {describe(sample)}."
            )
        image, target = sample
        if "masks" not in target:
            raise ValueError(
                f"`target` must hold 'masks' (instance masks), but got keys {sorted(target)}."
            )
        pil = isinstance(image, PIL.Image.Image)
        pixels = F.pil_to_tensor(image) if pil else image.as_subclass(torch.Tensor)
        batched = pixels.ndim == 4
        if self.needs_batch and not batched:
            raise ValueError(
                f"`image` must be a batch (N, C, H, W): {type(self).__name__} takes objects from "
                f"the other images, but got {describe(pixels)}."
            )
        masks = target["masks"].as_subclass(torch.Tensor)
        core_masks = masks if masks.dtype == torch.bool else masks != 0
        targets = {"image": pixels, "masks": core_masks}
        for key in ("valid", "labels", "keypoints"):
            if target.get(key) is not None:
                targets[key] = target[key].as_subclass(torch.Tensor)
        record = self.binding.draw(
            len(pixels) if batched else 1, tuple(pixels.shape[-2:]), targets=targets
        )
        self.last_params = record.params
        return self._outputs(image, pil, target, masks, record, batched)

    def _outputs(
        self, image: Any, pil: bool, target: dict[str, Any], masks: torch.Tensor,
        record: PlacementRecord, batched: bool,
    ) -> tuple[Any, dict[str, Any]]:  # fmt: skip
        out = record.output
        keep = slice(None) if batched else out.valid
        new = dict(target)
        new["masks"] = tv_tensors.Mask(self.binding.mask(masks, record)[keep])
        if "boxes" in target:
            boxes = target["boxes"]
            moved, _ = self.binding.boxes(
                boxes,
                record,
                canvas_size=(out.image.shape[-2], out.image.shape[-1]),
                format=boxes.format.name.lower(),
            )
            new["boxes"] = tv_tensors.wrap(moved[keep].to(boxes.dtype), like=boxes)
        if out.labels is not None:
            new["labels"] = out.labels[keep]
        if out.keypoints is not None:
            moved_points = out.keypoints[keep]
            old = target["keypoints"]
            new["keypoints"] = (
                tv_tensors.wrap(moved_points, like=old)
                if isinstance(old, tv_tensors.TVTensor)
                else moved_points
            )
        if batched:
            new["valid"] = out.valid
        picture = self.binding.image(image, record)
        if pil:
            picture = F.to_pil_image(picture, mode=image.mode)
        elif isinstance(image, tv_tensors.TVTensor):
            picture = tv_tensors.wrap(picture, like=image)
        return picture, new


class RandomRelocate(_PlacementTransform):
    """:class:`shiftaug.RandomRelocate` as a torchvision v2 transform.

    Takes ``(image, target)`` (see the module docstring); the arguments are the core
    transform's (``inpainter`` a backend name or callable, ``num_objects``, ``shift_px`` /
    ``shift_frac``, ``policy``, ``blend``, ...). Randomness comes from torch's global generator
    unless a ``generator`` is given, so ``torch.manual_seed`` reproduces a pipeline.

    Example:
        >>> import torch
        >>> from torchvision import tv_tensors
        >>> from shiftaug.adapters.placement_torchvision import RandomRelocate
        >>> image = tv_tensors.Image(torch.rand(3, 32, 32))
        >>> masks = torch.zeros(2, 32, 32, dtype=torch.bool)
        >>> masks[0, 2:8, 2:8] = True
        >>> masks[1, 20:30, 20:26] = True
        >>> target = {"masks": tv_tensors.Mask(masks), "labels": torch.tensor([3, 7]),
        ...           "boxes": tv_tensors.BoundingBoxes(torch.zeros(2, 4), format="XYXY", canvas_size=(32, 32))}
        >>> out_image, out_target = RandomRelocate("mean", shift_px=6)(image, target)
        >>> out_target["boxes"].shape, out_target["labels"].tolist()
        (torch.Size([2, 4]), [3, 7])
    """

    def __init__(self, inpainter: Any = "harmonic", **options: Any) -> None:
        super().__init__(RelocateBinding.build(inpainter=inpainter, **options))


class CopyPaste(_PlacementTransform):
    """:class:`shiftaug.CopyPaste` as a torchvision v2 transform, for batches.

    Takes ``(images (N, C, H, W), target)`` with ``target["masks"]`` ``(N, K, H, W)`` and
    optional ``"labels"`` ``(N, K)``, ``"valid"`` ``(N, K)``, ``"keypoints"`` ``(N, K, P, 2)``;
    returns the padded ``K + J`` layout with ``target["valid"]``. The arguments are the core
    transform's.

    Example:
        >>> import torch
        >>> from torchvision import tv_tensors
        >>> from shiftaug.adapters.placement_torchvision import CopyPaste
        >>> images = torch.rand(4, 3, 32, 32)
        >>> masks = torch.zeros(4, 1, 32, 32, dtype=torch.bool)
        >>> masks[:, 0, 4:12, 4:12] = True
        >>> _, target = CopyPaste(num_objects=1)(images, {"masks": tv_tensors.Mask(masks)})
        >>> target["masks"].shape, target["valid"].shape
        (torch.Size([4, 2, 32, 32]), torch.Size([4, 2]))
    """

    needs_batch = True

    def __init__(self, **options: Any) -> None:
        super().__init__(CopyPasteBinding.build(**options))
